#include "service/json_params.h"

#include <algorithm>
#include <cstdint>

namespace pcipass::service {

std::string JsonTypeName(const nlohmann::json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  return value.type_name();  // "null", "object", "array", "string", ...
}

JsonFields::JsonFields(const nlohmann::json& body, std::string what)
    : body_(body), what_(std::move(what)) {
  if (!body_.is_null() && !body_.is_object()) {
    first_error_ = Status::InvalidArgument(
        what_ + ": expected a JSON object with named fields, got " +
        JsonTypeName(body_));
  }
}

const nlohmann::json* JsonFields::Field(const char* name) {
  known_.emplace_back(name);
  if (!first_error_.ok() || !body_.is_object()) return nullptr;
  auto it = body_.find(name);
  if (it == body_.end() || it->is_null()) return nullptr;
  return &*it;
}

void JsonFields::Error(const char* name, const std::string& expected,
                       const nlohmann::json& got) {
  if (!first_error_.ok()) return;
  std::string shown = got.dump();
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  first_error_ = Status::InvalidArgument(what_ + ": field \"" + name +
                                         "\" must be " + expected + ", got " +
                                         JsonTypeName(got) + " " + shown);
}

void JsonFields::String(const char* name, std::string* out, bool required) {
  const nlohmann::json* v = Field(name);
  if (v == nullptr) {
    if (required && first_error_.ok()) {
      first_error_ = Status::InvalidArgument(what_ + ": field \"" + name +
                                             "\" is required (a string)");
    }
    return;
  }
  if (!v->is_string()) return Error(name, "a string", *v);
  *out = v->get<std::string>();
  if (required && out->empty() && first_error_.ok()) {
    first_error_ = Status::InvalidArgument(what_ + ": field \"" + name +
                                           "\" must not be empty");
  }
}

void JsonFields::Bool(const char* name, bool* out) {
  const nlohmann::json* v = Field(name);
  if (v == nullptr) return;
  if (!v->is_boolean()) return Error(name, "true or false", *v);
  *out = v->get<bool>();
}

void JsonFields::Int(const char* name, int* out, int min, int max) {
  const nlohmann::json* v = Field(name);
  if (v == nullptr) return;
  std::string range =
      "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!v->is_number_integer()) return Error(name, range, *v);
  // int64 first: a huge value must not wrap into range.
  int64_t n = v->is_number_unsigned()
                  ? static_cast<int64_t>(std::min<uint64_t>(
                        v->get<uint64_t>(), static_cast<uint64_t>(INT64_MAX)))
                  : v->get<int64_t>();
  if (n < min || n > max) return Error(name, range, *v);
  *out = static_cast<int>(n);
}

void JsonFields::StringList(const char* name, std::vector<std::string>* out,
                            bool required) {
  const nlohmann::json* v = Field(name);
  if (v == nullptr) {
    if (required && first_error_.ok()) {
      first_error_ = Status::InvalidArgument(
          what_ + ": field \"" + name + "\" is required (an array of strings)");
    }
    return;
  }
  if (!v->is_array()) return Error(name, "an array of strings", *v);
  std::vector<std::string> items;
  for (const nlohmann::json& item : *v) {
    if (!item.is_string()) {
      return Error(name, "an array of strings (every item a string)", item);
    }
    items.push_back(item.get<std::string>());
  }
  if (required && items.empty() && first_error_.ok()) {
    first_error_ = Status::InvalidArgument(what_ + ": field \"" + name +
                                           "\" must not be empty");
    return;
  }
  *out = std::move(items);
}

Status JsonFields::Finish() {
  if (!first_error_.ok()) return first_error_;
  if (!body_.is_object()) return Status::Ok();
  for (const auto& [key, value] : body_.items()) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string accepted;
    for (const std::string& k : known_) {
      accepted += accepted.empty() ? "" : ", ";
      accepted += k;
    }
    if (accepted.empty()) accepted = "none";
    std::string message = what_ + ": unknown field \"" + key;
    message += "\"; accepted fields: " + accepted;
    return Status::InvalidArgument(message);
  }
  return Status::Ok();
}

}  // namespace pcipass::service
