#include "daemon/routes.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>

#include "claims/session.h"
#include "core/host_root.h"
#include "service/service.h"
#include "store/ledger.h"

namespace pcipass::daemon {

namespace {

using Json = nlohmann::json;

ParamSpec Q(std::string name, ParamKind kind = ParamKind::kString) {
  return ParamSpec{std::move(name), kind, false};
}
ParamSpec PathP(std::string name) {
  return ParamSpec{std::move(name), ParamKind::kString, true};
}

// Adapts service operation |fn| (Params::FromJson + the call) to an
// OperationFn.
template <class Params, class ReplyT>
OperationFn Op(ReplyT (*fn)(const service::ServiceEnv&, const Params&)) {
  return [fn](const service::ServiceEnv& env,
              const Json& params) -> service::Reply {
    Result<Params> p = Params::FromJson(params);
    if (!p.ok()) {
      service::Reply bad;
      bad.Fail(p.status());
      return bad;
    }
    return fn(env, *p);
  };
}

template <class Params>
Status ValidParams(const Json& params) {
  return Params::FromJson(params).status();
}

std::vector<RouteSpec> BuildRoutes() {
  constexpr ParamKind kBool = ParamKind::kBool;
  std::vector<RouteSpec> r;
  auto add = [&r](std::string method, std::string path,
                  std::vector<ParamSpec> params, OperationFn run) {
    RouteSpec spec;
    spec.method = std::move(method);
    spec.path = std::move(path);
    spec.params = std::move(params);
    spec.run = std::move(run);
    r.push_back(std::move(spec));
    return &r.back();
  };
  add("GET", "/v1/check", {}, Op(&service::Check))->answer_is_200 = true;
  add("GET", "/v1/devices", {Q("allowed", kBool), Q("assignable", kBool)},
      Op(&service::ListDevices));
  add("GET", "/v1/devices/{address}", {PathP("address")},
      Op(&service::ShowDevice));
  add("GET", "/v1/groups", {Q("non_viable", kBool)}, Op(&service::ListGroups));
  add("GET", "/v1/explain", {Q("address"), Q("alias")}, Op(&service::Explain))
      ->answer_is_200 = true;
  add("POST", "/v1/fit", {}, Op(&service::Fit))->answer_is_200 = true;
  RouteSpec* claim = add("POST", "/v1/claims", {}, Op(&service::Claim));
  claim->handoff = "claim";
  claim->success_status = 201;
  add("GET", "/v1/claims", {Q("instance"), Q("devices", kBool)},
      Op(&service::ListClaims));
  add("DELETE", "/v1/claims/{instance}", {PathP("instance")},
      Op(&service::Release))
      ->handoff = "release";
  add("GET", "/v1/history",
      {Q("device"), Q("instance"), Q("since"), Q("until")},
      Op(&service::History));
  add("GET", "/v1/usage", {Q("since"), Q("until")}, Op(&service::Usage));
  add("POST", "/v1/reconcile", {}, Op(&service::Reconcile));
  add("POST", "/v1/vm-config", {}, Op(&service::VmConfig));
  struct LongOp {
    const char* path;
    OperationFn run;
    std::function<Status(const Json&)> check;
    const char* handoff;
    Json fixed;
  };
  const LongOp long_ops[] = {
      {"/v1/hotplug",
       Op(&service::Hotplug),
       ValidParams<service::HotplugParams>,
       "hotplug",
       {{"unplug", false}}},
      {"/v1/hotunplug",
       Op(&service::Hotplug),
       ValidParams<service::HotplugParams>,
       "hotunplug",
       {{"unplug", true}}},
      {"/v1/detach", Op(&service::Detach), ValidParams<service::DetachParams>,
       "detach", Json::object()},
      {"/v1/reattach", Op(&service::Reattach),
       ValidParams<service::ReattachParams>, "reattach", Json::object()},
      {"/v1/sriov", Op(&service::Sriov), ValidParams<service::SriovParams>,
       "sriov", Json::object()},
      {"/v1/apply", Op(&service::Apply), ValidParams<service::ApplyParams>,
       "apply", Json::object()},
  };
  for (const LongOp& l : long_ops) {
    RouteSpec* spec = add("POST", l.path, {}, l.run);
    spec->long_running = true;
    spec->check = l.check;
    spec->handoff = l.handoff;
    spec->fixed = l.fixed;
  }
  return r;
}

Status BadField(const std::string& field, const std::string& message,
                std::optional<std::string>* bad_field) {
  *bad_field = field;
  return Status::InvalidArgument(message);
}

std::string QueryNames(const RouteSpec& route) {
  std::string names;
  for (const ParamSpec& p : route.params) {
    if (!p.in_path) {
      names += names.empty() ? "" : ", ";
      names += p.name;
    }
  }
  return names.empty() ? "none" : names;
}

// A query string value as JSON of the parameter's kind.
Result<Json> QueryValue(const ParamSpec& p, const std::vector<std::string>& v,
                        std::optional<std::string>* bad_field) {
  if (p.kind == ParamKind::kStringList) return Json(v);
  if (v.size() > 1) {
    return BadField(p.name,
                    "query parameter " + p.name + " is given " +
                        std::to_string(v.size()) + " times; give it once",
                    bad_field);
  }
  const std::string& s = v.front();
  if (p.kind == ParamKind::kBool) {
    if (s == "true" || s == "1" || s.empty()) return Json(true);
    if (s == "false" || s == "0") return Json(false);
    return BadField(p.name, p.name + " must be true or false, not '" + s + "'",
                    bad_field);
  }
  if (p.kind == ParamKind::kInt) {
    char* end = nullptr;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || !end || *end) {
      return BadField(p.name, p.name + " must be an integer, not '" + s + "'",
                      bad_field);
    }
    return Json(n);
  }
  return Json(s);
}

}  // namespace

const std::vector<RouteSpec>& ApiRoutes() {
  static const std::vector<RouteSpec> routes = BuildRoutes();
  return routes;
}

Result<Json> DecodeRequest(const RouteSpec& route,
                           const std::vector<std::string>& path_values,
                           const std::multimap<std::string, std::string>& query,
                           const std::string& body,
                           std::optional<std::string>* bad_field) {
  const bool from_body = route.method == "POST";
  Json values = Json::object();
  if (from_body) {
    bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
    Json b = blank ? Json::object() : Json::parse(body, nullptr, false);
    if (b.is_discarded()) {
      // Say where parsing stopped.
      std::string where;
      try {
        Json unused = Json::parse(body);
        (void)unused;
      } catch (const Json::parse_error& e) {
        where = std::string(": ") + e.what();
      }
      return BadField("body", "the request body is not valid JSON" + where,
                      bad_field);
    }
    if (!b.is_object()) {
      return BadField("body",
                      "the request body must be a JSON object, not " +
                          std::string(b.type_name()),
                      bad_field);
    }
    // Control characters have no place in ids, requests or addresses;
    // reject them here, naming the field, before any operation sees them.
    for (auto& [k, v] : b.items()) {
      std::vector<const Json*> strings;
      if (v.is_string()) strings.push_back(&v);
      if (v.is_array()) {
        for (const Json& x : v) {
          if (x.is_string()) strings.push_back(&x);
        }
      }
      for (const Json* str : strings) {
        const std::string& text = str->get_ref<const std::string&>();
        if (std::any_of(text.begin(), text.end(), [](char c) {
              return static_cast<unsigned char>(c) < 0x20;
            })) {
          return BadField(k, k + " contains a control character", bad_field);
        }
      }
    }
    for (auto& [k, v] : route.fixed.items()) {
      if (b.contains(k)) {
        return BadField(k,
                        "field " + k + " is set by the route " + route.path +
                            "; leave it out",
                        bad_field);
      }
      b[k] = v;
    }
    values = std::move(b);
  }
  size_t next_path = 0;
  for (const ParamSpec& p : route.params) {
    if (!p.in_path) continue;
    if (next_path >= path_values.size()) {
      return BadField(p.name, "the path has no " + p.name, bad_field);
    }
    values[p.name] = path_values[next_path++];
  }
  std::map<std::string, std::vector<std::string>> q;
  for (const auto& [k, v] : query) q[k].push_back(v);
  for (const auto& [k, v] : q) {
    if (k == "wait" && route.long_running) continue;
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& p : route.params) {
      if (p.name == k && !p.in_path) spec = &p;
    }
    if (!spec) {
      return BadField(k,
                      "unknown query parameter '" + k + "' for " +
                          route.method + " " + route.path +
                          (from_body ? " (its parameters go in the JSON body)"
                                     : "; accepted: " + QueryNames(route)),
                      bad_field);
    }
    Result<Json> j = QueryValue(*spec, v, bad_field);
    if (!j.ok()) return j.status();
    values[k] = *j;
  }
  return values;
}

Reply ToHttpReply(const RouteSpec& route, const service::Reply& reply,
                  const Json& params) {
  Reply out;
  if (reply.failed) {
    out.http_status = reply.HttpStatus();
  } else if (reply.ok()) {
    out.http_status = route.success_status;
  } else {
    out.http_status = route.answer_is_200 ? 200 : reply.HttpStatus();
  }
  if (reply.json.contains("error") && reply.json["error"].is_object()) {
    nlohmann::ordered_json j = reply.json;
    nlohmann::ordered_json& e = j["error"];
    if (!e.contains("field")) {
      // The service names a bad field as: field "NAME".
      static const std::regex field_re("field \"([A-Za-z_]+)\"");
      std::smatch m;
      const std::string message = e.value("message", "");
      e["field"] = nullptr;
      if (std::regex_search(message, m, field_re)) {
        e["field"] = m[1].str();
      } else if (out.http_status >= 400 && out.http_status < 500) {
        // Else the parameter whose value the message quotes ("0000:zz:00.0:
        // not a PCI address" -> address).
        for (auto& [name, value] : params.items()) {
          std::vector<std::string> texts;
          if (value.is_string()) texts.push_back(value.get<std::string>());
          if (value.is_array()) {
            for (const Json& v : value) {
              if (v.is_string()) texts.push_back(v.get<std::string>());
            }
          }
          bool quoted = std::any_of(
              texts.begin(), texts.end(), [&](const std::string& t) {
                return t.size() >= 2 && message.find(t) != std::string::npos;
              });
          if (quoted) {
            e["field"] = name;
            break;
          }
        }
      }
    }
    if (!e.contains("fix")) e["fix"] = DefaultFixFor(e.value("code", ""));
    out.body = j.dump();
  } else {
    out.body = reply.json.dump();
  }
  return out;
}

void SendError(httplib::Response& res, const ApiError& e, Metrics& metrics) {
  metrics.CountError(e.code);
  res.status = e.http_status;
  res.set_content(e.ToJson().dump(), "application/json");
}

namespace {

// "/v1/devices/{address}" -> "^/v1/devices/([^/]+)$".
std::string PathRegex(const std::string& path) {
  static const std::regex param(R"(\{[a-z_]+\})");
  return std::regex_replace(path, param, "([^/]+)");
}

thread_local std::chrono::steady_clock::time_point tls_request_start;

// Each route's compiled path pattern, in ApiRoutes() order.
const std::vector<std::regex>& RouteRegexes() {
  static const std::vector<std::regex> all = [] {
    std::vector<std::regex> v;
    for (const RouteSpec& r : ApiRoutes()) v.emplace_back(PathRegex(r.path));
    return v;
  }();
  return all;
}

// The route label of a request for metrics (pattern, not raw path).
std::string RouteLabel(const httplib::Request& req) {
  for (size_t i = 0; i < ApiRoutes().size(); ++i) {
    if (std::regex_match(req.path, RouteRegexes()[i])) {
      return ApiRoutes()[i].path;
    }
  }
  if (req.path == "/metrics" || req.path == "/v1/version" ||
      req.path == "/v1/operations") {
    return req.path;
  }
  if (req.path.rfind("/v1/operations/", 0) == 0) return "/v1/operations/{id}";
  return "unmatched";
}

void SendReply(httplib::Response& res, const Reply& reply) {
  res.status = reply.http_status;
  res.set_content(reply.body, reply.content_type);
}

std::string FirstLine(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// Who made the request, for the ledger's history ("who").
std::string Caller(const httplib::Request& req) {
  if (std::optional<PeerCred> peer = CurrentPeer()) {
    return "uid=" + std::to_string(peer->uid) +
           " pid=" + std::to_string(peer->pid) + " via pcipassd";
  }
  return "token client " + req.remote_addr + " via pcipassd";
}

void HandleRoute(ApiContext& api, const RouteSpec& route,
                 const httplib::Request& req, httplib::Response& res) {
  std::vector<std::string> path_values;
  for (size_t i = 1; i < req.matches.size(); ++i) {
    path_values.push_back(req.matches[i].str());
  }
  // The URL's own query only: httplib also merges a form-encoded body into
  // req.params (curl -d without a JSON Content-Type), and the body is
  // always read as JSON here.
  httplib::Params query;
  if (size_t q = req.target.find('?'); q != std::string::npos) {
    httplib::detail::parse_query_text(req.target.substr(q + 1), query);
  }
  std::optional<std::string> field;
  Result<Json> params =
      DecodeRequest(route, path_values, query, req.body, &field);
  if (!params.ok()) {
    SendError(res, FromStatus(params.status(), field), api.metrics());
    return;
  }
  service::ServiceEnv env = api.env();
  env.who = Caller(req);
  Metrics* metrics = &api.metrics();
  const std::string handoff = route.handoff;
  auto run = [env, params = *params,
              &route](const Operations::ProgressFn& progress) mutable {
    if (progress) {
      env.progress = [progress](const service::ProgressEvent& e) {
        progress(e.operation + ": " + e.step +
                 (e.detail.empty() ? "" : ": " + e.detail));
      };
    }
    return ToHttpReply(route, route.run(env, params), params);
  };
  auto account = [metrics, handoff](const Reply& reply, double seconds) {
    if (!handoff.empty()) {
      metrics->ObserveHandoff(handoff, seconds, reply.http_status < 400);
    }
    if (reply.http_status >= 400) {
      Json j = Json::parse(reply.body, nullptr, false);
      std::string code = "internal";
      if (!j.is_discarded() && j.contains("error") && j["error"].is_object()) {
        code = j["error"].value("code", "internal");
      }
      metrics->CountError(code);
    }
  };
  if (!route.long_running) {
    auto t0 = std::chrono::steady_clock::now();
    Reply reply = run(nullptr);
    account(reply,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                .count());
    SendReply(res, reply);
    return;
  }
  if (route.check) {
    if (Status s = route.check(*params); !s.ok()) {
      service::Reply bad;
      bad.Fail(s);
      Reply reply = ToHttpReply(route, bad, *params);
      metrics->CountError("invalid_argument");
      SendReply(res, reply);
      return;
    }
  }
  auto t0 = std::make_shared<std::chrono::steady_clock::time_point>(
      std::chrono::steady_clock::now());
  Operations& ops = api.operations();
  std::string id = ops.Start(
      route.path.substr(4), run, [account, t0, &ops, metrics](const Reply& r) {
        account(r, std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - *t0)
                       .count());
        metrics->SetOperationsRunning(ops.Running() - 1);
      });
  metrics->SetOperationsRunning(ops.Running());
  auto w = query.find("wait");
  std::string wait = w == query.end() ? "" : w->second;
  if (wait == "true" || wait == "1") {
    // Bounded: the operations' own watchdogs end every sysfs write and
    // QMP wait well within this.
    if (ops.Wait(id, 30 * 60 * 1000)) {
      if (std::optional<Reply> r = ops.Result(id)) {
        SendReply(res, *r);
        return;
      }
    }
  }
  res.status = 202;
  res.set_header("Location", "/v1/operations/" + id);
  std::optional<Json> op = ops.Get(id);
  res.set_content(op ? op->dump() : "{}", "application/json");
}

void HandleMetrics(ApiContext& api, httplib::Response& res) {
  std::vector<LedgerDevice> devices;
  std::vector<ClaimRecord> claims;
  bool ok = true;
  std::string path = claims::LedgerPath(api.env().state_dir);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    Result<std::unique_ptr<Ledger>> ledger = Ledger::OpenSqlite(path, 2000);
    if (ledger.ok()) {
      Result<std::vector<LedgerDevice>> d = (*ledger)->ListDevices();
      Result<std::vector<ClaimRecord>> c = (*ledger)->ListClaims(std::nullopt);
      ok = d.ok() && c.ok();
      if (d.ok()) devices = std::move(*d);
      if (c.ok()) claims = std::move(*c);
    } else {
      ok = false;
    }
  }
  api.metrics().SetOperationsRunning(api.operations().Running());
  res.set_content(api.metrics().Render(devices, claims, ok),
                  "text/plain; version=0.0.4; charset=utf-8");
}

bool KnownPathOtherMethod(const httplib::Request& req, std::string* allowed) {
  for (size_t i = 0; i < ApiRoutes().size(); ++i) {
    if (std::regex_match(req.path, RouteRegexes()[i])) {
      *allowed += allowed->empty() ? "" : ", ";
      *allowed += ApiRoutes()[i].method;
    }
  }
  return !allowed->empty();
}

}  // namespace

void InstallApi(httplib::Server& server, ApiContext& api, Transport transport,
                size_t max_body_bytes) {
  server.set_payload_max_length(max_body_bytes);
  server.set_pre_routing_handler([&api, transport](const httplib::Request& req,
                                                   httplib::Response& res) {
    tls_request_start = std::chrono::steady_clock::now();
    // RFC 9112 6.3: a request with neither Content-Length nor
    // Transfer-Encoding has no body. httplib 0.11.4 instead reads a
    // POST/DELETE body until the peer closes (a keep-alive client
    // waits out the read timeout, then gets 400), so say "0" here.
    // The Request is httplib's own non-const object, handed to this
    // hook as const.
    if (!req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    }
    std::optional<ApiError> denied;
    if (transport == Transport::kUnix) {
      std::optional<PeerCred> peer = CurrentPeer();
      if (!peer) {
        ApiError e;
        e.http_status = 403;
        e.code = "forbidden";
        e.message = "no peer credentials for this connection";
        denied = e;
      } else {
        denied = CheckPeer(*peer, api.peer_policy());
      }
    } else {
      denied = CheckBearer(req.get_header_value("Authorization"), api.token());
    }
    if (!denied) return httplib::Server::HandlerResponse::Unhandled;
    if (denied->http_status == 401) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"pcipassd\"");
    }
    SendError(res, *denied, api.metrics());
    return httplib::Server::HandlerResponse::Handled;
  });
  for (const RouteSpec& route : ApiRoutes()) {
    std::string pattern = PathRegex(route.path);
    auto handler = [&api, &route](const httplib::Request& req,
                                  httplib::Response& res) {
      HandleRoute(api, route, req, res);
    };
    if (route.method == "GET") server.Get(pattern, handler);
    if (route.method == "POST") server.Post(pattern, handler);
    if (route.method == "DELETE") server.Delete(pattern, handler);
  }
  server.Get("/metrics",
             [&api](const httplib::Request&, httplib::Response& res) {
               HandleMetrics(api, res);
             });
  server.Get("/v1/version", [](const httplib::Request&,
                               httplib::Response& res) {
    res.set_content(R"({"version":"0.1.0","api":"v1"})", "application/json");
  });
  server.Get("/v1/operations", [&api](const httplib::Request&,
                                      httplib::Response& res) {
    res.set_content(api.operations().List().dump(), "application/json");
  });
  server.Get(R"(/v1/operations/([^/]+))", [&api](const httplib::Request& req,
                                                 httplib::Response& res) {
    std::optional<Json> op = api.operations().Get(req.matches[1].str());
    if (!op) {
      ApiError e;
      e.http_status = 404;
      e.code = "not_found";
      e.field = "id";
      e.message = "no operation " + req.matches[1].str() +
                  " (only the last 256 are kept)";
      e.fix = "list them: GET /v1/operations";
      SendError(res, e, api.metrics());
      return;
    }
    res.set_content(op->dump(), "application/json");
  });
  // Explicitly the HandlerWithResponse overload (a lambda converts to both).
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [&api](const httplib::Request& req, httplib::Response& res) {
        // Replies that already carry a body (our own JSON errors) pass.
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        ApiError e;
        e.http_status = res.status;
        std::string allowed;
        if (res.status == 404 && KnownPathOtherMethod(req, &allowed)) {
          e.http_status = 405;
          e.code = "method_not_allowed";
          e.message = req.method + " " + req.path + " is not a route; " +
                      req.path + " accepts " + allowed;
          res.set_header("Allow", allowed);
        } else if (res.status == 404) {
          e.code = "unknown_route";
          e.message = "no route " + req.method + " " + req.path;
        } else if (res.status == 413) {
          e.code = "payload_too_large";
          e.field = "body";
          e.message = "the request body is larger than the limit";
        } else if (res.status == 414) {
          e.code = "invalid_argument";
          e.message = "the request URI is too long";
        } else if (res.status == 400) {
          e.code = "invalid_argument";
          e.message = "malformed HTTP request";
        } else {
          e.code = res.status >= 500 ? "internal" : "invalid_argument";
          e.message = "HTTP " + std::to_string(res.status);
        }
        SendError(res, e, api.metrics());
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler([&api](const httplib::Request& req,
                                      httplib::Response& res,
                                      const std::exception_ptr& ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    ApiError e;
    e.http_status = 500;
    e.code = "internal";
    e.message = "internal error handling " + req.method + " " + req.path +
                ": " + FirstLine(what);
    SendError(res, e, api.metrics());
  });
  server.set_logger([&api](const httplib::Request& req,
                           const httplib::Response& res) {
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - tls_request_start)
                      .count();
    api.metrics().CountRequest(RouteLabel(req), req.method, res.status, secs);
  });
}

}  // namespace pcipass::daemon
