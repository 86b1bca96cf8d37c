// Reading an operation's parameters from a JSON body (the daemon's POST
// bodies and query objects): a strict reader that accepts only the fields
// it is asked for, with the types asked for, and names the field, what it
// expected and what it got on the first problem.
//
//   JsonFields f(body, "fit");
//   f.String("request", &p.request, /*required=*/true);
//   f.String("placement", &p.placement);
//   Status s = f.Finish();  // unknown fields are errors here
#ifndef PCIPASS_SERVICE_JSON_PARAMS_H_
#define PCIPASS_SERVICE_JSON_PARAMS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace pcipass::service {

class JsonFields {
 public:
  // |what| names the body in messages ("fit body"). A |body| that is not an
  // object (null counts as an empty object) is an error at Finish().
  JsonFields(const nlohmann::json& body, std::string what);

  // Each reads one field if present (a JSON null counts as absent) and
  // records the first error: a wrong type, or a missing required field.
  void String(const char* name, std::string* out, bool required = false);
  void Bool(const char* name, bool* out);
  // An integer within [min, max].
  void Int(const char* name, int* out, int min, int max);
  void StringList(const char* name, std::vector<std::string>* out,
                  bool required = false);

  // The raw value of a field with a shape of its own (null if absent);
  // marks it as known. Report a problem with it through Reject().
  const nlohmann::json* Raw(const char* name) { return Field(name); }
  // Records "<what>: field "<name>" must be <expected>, got ..." (the first
  // error wins).
  void Reject(const char* name, const std::string& expected,
              const nlohmann::json& got) {
    Error(name, expected, got);
  }

  // OK, or InvalidArgument naming the first bad field, or the first field
  // not read by any call above (with the list of accepted fields).
  Status Finish();

 private:
  const nlohmann::json* Field(const char* name);
  void Error(const char* name, const std::string& expected,
             const nlohmann::json& got);

  const nlohmann::json& body_;
  std::string what_;
  std::vector<std::string> known_;
  Status first_error_;
};

// "string", "number", "object", ... for messages.
std::string JsonTypeName(const nlohmann::json& value);

}  // namespace pcipass::service

#endif  // PCIPASS_SERVICE_JSON_PARAMS_H_
