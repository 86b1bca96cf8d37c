#include "daemon/api_error.h"

namespace pcipass::daemon {

nlohmann::ordered_json ApiError::ToJson() const {
  nlohmann::ordered_json e;
  e["code"] = code;
  e["message"] = message;
  e["field"] =
      field ? nlohmann::ordered_json(*field) : nlohmann::ordered_json(nullptr);
  e["fix"] = fix.empty() ? DefaultFixFor(code) : fix;
  return {{"error", e}};
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kIOError:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

int HttpStatusForName(const std::string& code_name) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    auto code = static_cast<StatusCode>(c);
    if (StatusCodeName(code) == code_name) return HttpStatusFor(code);
  }
  return 500;
}

std::string DefaultFixFor(const std::string& code_name) {
  static const std::pair<const char*, const char*> kFixes[] = {
      {"invalid_argument",
       "correct the named field (see docs/api/openapi.yaml)"},
      {"not_found", "list what exists first (GET /v1/devices, GET /v1/claims)"},
      {"already_exists", "release what is held first, or use another id"},
      {"conflict", "release what is held first, or use another id"},
      {"failed_precondition",
       "see the message: the host or config is not ready for this"},
      {"permission_denied", "run pcipassd as root (it writes sysfs)"},
      {"unavailable", "retry: the host or ledger is busy"},
      {"unauthenticated",
       "send 'Authorization: Bearer <token>' with the token from pcipassd's "
       "--token-file"},
      {"forbidden",
       "connect as root or as a member of pcipassd's --socket-group"},
      {"payload_too_large",
       "send a smaller body (requests are a few hundred bytes)"},
      {"unknown_route", "see docs/api/openapi.yaml for the routes under /v1/"},
      {"method_not_allowed",
       "use the method docs/api/openapi.yaml lists for this path"},
  };
  for (const auto& [code, fix] : kFixes) {
    if (code_name == code) return fix;
  }
  return "see pcipassd's log (journalctl -u pcipassd) and report a bug";
}

ApiError FromStatus(const Status& status, std::optional<std::string> field) {
  ApiError e;
  e.http_status = HttpStatusFor(status.code());
  e.code = std::string(StatusCodeName(status.code()));
  e.message = status.message();
  e.field = std::move(field);
  return e;
}

}  // namespace pcipass::daemon
