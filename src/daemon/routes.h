// The pcipassd API under /v1/: one table row per route (method, path,
// parameters with their types, the operation it runs), the decoding of
// path/query/body into the operation's typed parameters, and the error
// and auth wiring shared by the Unix-socket and TCP servers.
//
// Handlers hold no logic: decode -> operation -> JSON. The operation is
// the shared service layer where it exists, else the CLI's own command run
// in-process (cli_bridge.h): either way the JSON is the CLI's --json.
//
// Decoding rejects with 400 and {"error": {code, message, field, fix}}:
// a body that is not a JSON object, an unknown field or query parameter,
// a wrong type, a value outside its enumeration, a malformed PCI address,
// a missing required field; bodies over the payload limit get 413.
#ifndef PCIPASS_DAEMON_ROUTES_H_
#define PCIPASS_DAEMON_ROUTES_H_

#include <functional>
#include <httplib.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "daemon/api_error.h"
#include "daemon/auth.h"
#include "daemon/cli_bridge.h"
#include "daemon/metrics.h"
#include "daemon/operations.h"

namespace pcipass::daemon {

enum class ParamKind {
  kString,
  kBool,
  kInt,
  kAddress,      // a PCI address string (dddd:bb:ss.f)
  kStringList,   // JSON array of strings (repeatable query parameter)
  kAddressList,  // JSON array of PCI addresses
};

// How a parameter becomes a CLI argument.
enum class ArgStyle {
  kOption,       // --flag=value (lists: once per element)
  kPositional,   // after "--"
  kFlagIfTrue,   // --flag when true
  kFlagIfFalse,  // --flag when false (e.g. detach=false -> --no-detach)
  kFlagPair,     // true -> --flag, false -> --no-<flag without -->
};

struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::kString;
  bool required = false;
  ArgStyle style = ArgStyle::kOption;
  std::string flag;  // "--instance"
  std::vector<std::string> one_of;
  bool in_path = false;  // from the URL path ({name})
};

struct RouteSpec {
  std::string method;  // GET, POST, DELETE
  std::string path;    // OpenAPI style: /v1/devices/{address}
  std::vector<std::string> verb;  // CLI words, e.g. {"hotplug", "--unplug"}
  std::vector<ParamSpec> params;  // path + query (GET/DELETE) or body
  // Long-running: POST answers 202 with an operation unless ?wait=true.
  bool long_running = false;
  // Metrics name of the host hand-off it performs ("" = none).
  std::string handoff;
  int success_status = 200;
};

// Every /v1/ route that runs an operation.
const std::vector<RouteSpec>& ApiRoutes();

// Decodes a request into CLI arguments (after the verb). Exposed for
// tests. |path_values| are the path parameters in order of appearance.
Result<std::vector<std::string>> DecodeRequest(
    const RouteSpec& route, const std::vector<std::string>& path_values,
    const std::multimap<std::string, std::string>& query,
    const std::string& body, std::optional<std::string>* bad_field);

// What the routes need from the daemon.
class ApiContext {
 public:
  ApiContext(HostFlags flags, Metrics* metrics, Operations* ops)
      : flags_(std::move(flags)), metrics_(metrics), ops_(ops) {}

  const HostFlags& flags() const { return flags_; }
  Metrics& metrics() { return *metrics_; }
  Operations& operations() { return *ops_; }

  void SetPeerPolicy(PeerPolicy p) {
    std::lock_guard<std::mutex> lock(mu_);
    peer_policy_ = std::move(p);
  }
  PeerPolicy peer_policy() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peer_policy_;
  }
  void SetToken(std::string t) {
    std::lock_guard<std::mutex> lock(mu_);
    token_ = std::move(t);
  }
  std::string token() const {
    std::lock_guard<std::mutex> lock(mu_);
    return token_;
  }

 private:
  HostFlags flags_;
  Metrics* metrics_;
  Operations* ops_;
  mutable std::mutex mu_;
  PeerPolicy peer_policy_;
  std::string token_;
};

enum class Transport { kUnix, kTcp };

// Installs every route, /metrics, the auth check for |transport|, the
// payload limit and the JSON error/exception handlers on |server|.
void InstallApi(httplib::Server& server, ApiContext& api, Transport transport,
                size_t max_body_bytes);

// Writes |e| as the JSON reply (and counts it).
void SendError(httplib::Response& res, const ApiError& e, Metrics& metrics);

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_ROUTES_H_
