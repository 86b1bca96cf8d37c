#include "service/reply.h"

namespace pcipass::service {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kBadInput:
      return "bad_input";
    case Outcome::kNotFound:
      return "not_found";
    case Outcome::kInternal:
      return "internal";
  }
  return "internal";
}

Outcome OutcomeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return Outcome::kOk;
    case StatusCode::kInvalidArgument:
      return Outcome::kBadInput;
    case StatusCode::kNotFound:
      return Outcome::kNotFound;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kConflict:
    case StatusCode::kUnavailable:
      return Outcome::kRefused;
    case StatusCode::kPermissionDenied:
    case StatusCode::kIOError:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return Outcome::kInternal;
  }
  return Outcome::kInternal;
}

int Reply::ExitCode() const {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
    case StatusCode::kInternal:
      return 2;
    default:
      return 1;
  }
}

int Reply::HttpStatus() const {
  if (!config_errors.empty()) return 422;
  if (status.code() == StatusCode::kUnavailable) return 503;
  switch (outcome()) {
    case Outcome::kOk:
      return 200;
    case Outcome::kBadInput:
      return 400;
    case Outcome::kNotFound:
      return 404;
    case Outcome::kRefused:
      return 409;
    case Outcome::kInternal:
      return 500;
  }
  return 500;
}

nlohmann::ordered_json ErrorJson(const Status& status) {
  nlohmann::ordered_json j;
  j["error"] = {{"code", std::string(StatusCodeName(status.code()))},
                {"message", status.message()}};
  return j;
}

void Reply::Fail(const Status& s) {
  status = s.ok() ? Status::Internal("operation failed without a reason") : s;
  failed = true;
  json = ErrorJson(status);
}

void Reply::FailConfig(const std::string& path,
                       const std::vector<Status>& errors) {
  // A missing file is not an invalid one: say "not found" with the path.
  if (errors.size() == 1 && errors.front().code() == StatusCode::kNotFound) {
    Fail(errors.front());
    return;
  }
  std::string message = "config " + path + " is invalid";
  std::string all;
  config_errors.clear();
  for (const Status& e : errors) {
    config_errors.push_back(e.message());
    all += "; " + e.message();
  }
  status = Status::FailedPrecondition(message + all);
  failed = true;
  // The shape cli's ReportConfigErrors printed (sorted keys, as nlohmann::
  // json would have).
  nlohmann::ordered_json err;
  err["code"] = "invalid_config";
  err["errors"] = config_errors;
  err["message"] = message;
  json = nlohmann::ordered_json::object();
  json["error"] = std::move(err);
}

}  // namespace pcipass::service
