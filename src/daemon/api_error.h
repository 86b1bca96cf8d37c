// ApiError: the one error shape of the pcipassd API,
//   {"error": {"code", "message", "field", "fix"}}
// with the HTTP status it is sent with. "code" is a core StatusCode name
// (invalid_argument, not_found, ...) or one of the transport's own
// (unauthenticated, forbidden, payload_too_large, unknown_route,
// method_not_allowed, internal). "field" names the request field at fault
// (a JSON body key, a query parameter or a path segment) or is null.
#ifndef PCIPASS_DAEMON_API_ERROR_H_
#define PCIPASS_DAEMON_API_ERROR_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"

namespace pcipass::daemon {

struct ApiError {
  int http_status = 400;
  std::string code;
  std::string message;
  std::optional<std::string> field;
  std::string fix;

  nlohmann::ordered_json ToJson() const;
};

// The HTTP status a core Status code is sent with: invalid_argument 400,
// not_found 404, already_exists/conflict/failed_precondition 409,
// permission_denied 403, unavailable 503, io_error/data_loss/internal 500.
int HttpStatusFor(StatusCode code);
// Same, from the snake_case name in a CLI JSON error; 500 for unknown.
int HttpStatusForName(const std::string& code_name);

// A generic fix for a code when the operation gave none.
std::string DefaultFixFor(const std::string& code_name);

// ApiError from a core Status (field optional).
ApiError FromStatus(const Status& status,
                    std::optional<std::string> field = std::nullopt);

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_API_ERROR_H_
