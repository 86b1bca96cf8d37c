// The pcipassd API under /v1/: one table row per route (method, path,
// parameters with their types, the operation it runs), the decoding of
// path/query/body into the operation's typed parameters, and the error
// and auth wiring shared by the Unix-socket and TCP servers.
//
// Handlers hold no logic: decode -> service call (src/service, the same
// functions the CLI's commands call) -> the reply's JSON, which is the
// CLI's --json.
//
// Bad input is a 400 with {"error": {code, message, field, fix}}: a body
// that is not a JSON object, an unknown query parameter or one of the
// wrong type (here), an unknown field, a wrong type, a missing required
// field, a malformed address or value (the service's FromJson and
// operations); bodies over the payload limit get 413.
#ifndef PCIPASS_DAEMON_ROUTES_H_
#define PCIPASS_DAEMON_ROUTES_H_

#include <httplib.h>

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "daemon/api_error.h"
#include "daemon/auth.h"
#include "daemon/http_reply.h"
#include "daemon/metrics.h"
#include "daemon/operations.h"
#include "service/reply.h"

namespace pcipass::daemon {

// A query or path parameter of a GET/DELETE route: its JSON field name
// in the operation's parameters and how its text converts.
enum class ParamKind { kString, kBool, kInt, kStringList };
struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::kString;
  bool in_path = false;  // from the URL path ({name})
};

// Runs one operation with its JSON parameters: the service's
// <Op>Params::FromJson (unknown fields and wrong types rejected, naming
// the field) and the service call. The reply is sliced to service::Reply.
using OperationFn = std::function<service::Reply(const service::ServiceEnv&,
                                                 const nlohmann::json&)>;

struct RouteSpec {
  std::string method;  // GET, POST, DELETE
  std::string path;    // OpenAPI style: /v1/devices/{address}
  // Path parameters and (GET/DELETE) query parameters. POST routes take
  // their parameters from the JSON body instead (any query parameter but
  // "wait" is an error there).
  std::vector<ParamSpec> params;
  OperationFn run;
  // The operation's parameter check alone (Params::FromJson): long
  // operations run it before answering 202, so bad input is still a 400.
  std::function<Status(const nlohmann::json&)> check;
  // Long-running: POST answers 202 with an operation unless ?wait=true.
  bool long_running = false;
  // Metrics name of the host hand-off it performs ("" = none).
  std::string handoff;
  int success_status = 200;
  // The operation answers a yes/no question (check: ready? fit: fits?
  // explain: assignable?): a "no" with a full answer is 200, not 409.
  bool answer_is_200 = false;
  // Fields fixed by the route (hotunplug: {"unplug": true}); a body that
  // sets one is a 400.
  nlohmann::json fixed = nlohmann::json::object();
};

// Every /v1/ route that runs an operation.
const std::vector<RouteSpec>& ApiRoutes();

// Decodes a request into the operation's JSON parameters: path values
// (in order of appearance), the URL's query parameters (GET/DELETE; typed
// by the route's table; unknown ones rejected) or the JSON body (POST;
// must be an object). InvalidArgument with |bad_field| set on a problem.
// Exposed for tests.
Result<nlohmann::json> DecodeRequest(
    const RouteSpec& route, const std::vector<std::string>& path_values,
    const std::multimap<std::string, std::string>& query,
    const std::string& body, std::optional<std::string>* bad_field);

// The HTTP reply of an operation's result: status per RouteSpec and
// service::Reply::HttpStatus, body the CLI's JSON; an "error" object gets
// "field" (the message's field "NAME"; else, for a 4xx, the parameter of
// |params| whose value the message quotes; else null) and "fix".
Reply ToHttpReply(const RouteSpec& route, const service::Reply& reply,
                  const nlohmann::json& params);

// What the routes need from the daemon.
class ApiContext {
 public:
  // |env|: host, config, state dir and pci.ids of every operation.
  ApiContext(service::ServiceEnv env, Metrics* metrics, Operations* ops)
      : env_(std::move(env)), metrics_(metrics), ops_(ops) {}

  const service::ServiceEnv& env() const { return env_; }
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
  service::ServiceEnv env_;
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
