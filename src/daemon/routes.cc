#include "daemon/routes.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>

#include "claims/session.h"
#include "core/address.h"
#include "core/host_root.h"
#include "store/ledger.h"

namespace pcipass::daemon {

namespace {

using Json = nlohmann::json;

ParamSpec P(std::string name, ParamKind kind, ArgStyle style, std::string flag,
            bool required = false, std::vector<std::string> one_of = {}) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = kind;
  p.style = style;
  p.flag = std::move(flag);
  p.required = required;
  p.one_of = std::move(one_of);
  return p;
}
ParamSpec PathP(std::string name, ParamKind kind, ArgStyle style,
                std::string flag) {
  ParamSpec p = P(std::move(name), kind, style, std::move(flag), true);
  p.in_path = true;
  return p;
}

constexpr ParamKind kStr = ParamKind::kString;
constexpr ParamKind kBool = ParamKind::kBool;
constexpr ParamKind kInt = ParamKind::kInt;
constexpr ParamKind kAddr = ParamKind::kAddress;
constexpr ParamKind kStrs = ParamKind::kStringList;
constexpr ParamKind kAddrs = ParamKind::kAddressList;
constexpr ArgStyle kOpt = ArgStyle::kOption;
constexpr ArgStyle kPos = ArgStyle::kPositional;
constexpr ArgStyle kIfTrue = ArgStyle::kFlagIfTrue;

std::vector<RouteSpec> BuildRoutes() {
  const std::vector<std::string> numa_policies = {"required", "legacy",
                                                  "preferred", "socket"};
  auto hotplug_params = [] {
    return std::vector<ParamSpec>{
        P("instance", kStr, kOpt, "--instance", true),
        P("qmp", kStr, kOpt, "--qmp", true),
        P("bus", kStr, kOpt, "--bus"),
        P("machine", kStr, kOpt, "--machine", false, {"q35", "pc"}),
        P("timeout_ms", kInt, kOpt, "--timeout"),
        P("pin", kStrs, kOpt, "--pin")};
  };
  auto handoff_params = [](bool with_force) {
    std::vector<ParamSpec> v = {P("addresses", kAddrs, kPos, "", true),
                                P("dry_run", kBool, kIfTrue, "--dry-run"),
                                P("group", kBool, kIfTrue, "--group"),
                                P("timeout_ms", kInt, kOpt, "--timeout-ms")};
    if (with_force) v.push_back(P("force", kStr, kOpt, "--force"));
    return v;
  };
  std::vector<RouteSpec> r;
  r.push_back({"GET", "/v1/check", {"check"}, {}, false, "", 200});
  r.push_back({"GET",
               "/v1/devices",
               {"list"},
               {P("allowed", kBool, kIfTrue, "--allowed"),
                P("assignable", kBool, kIfTrue, "--assignable")},
               false,
               "",
               200});
  r.push_back({"GET",
               "/v1/devices/{address}",
               {"show"},
               {PathP("address", kAddr, kPos, "")},
               false,
               "",
               200});
  r.push_back({"GET",
               "/v1/groups",
               {"groups"},
               {P("non_viable", kBool, kIfTrue, "--non-viable")},
               false,
               "",
               200});
  r.push_back({"GET",
               "/v1/explain",
               {"explain"},
               {P("address", kAddr, kPos, "", true),
                P("alias", kStr, kOpt, "--alias")},
               false,
               "",
               200});
  r.push_back({"POST",
               "/v1/fit",
               {"fit"},
               {P("request", kStr, kPos, "", true),
                P("numa_policy", kStr, kOpt, "--numa-policy", false,
                  numa_policies),
                P("numa_cells", kStr, kOpt, "--numa-cells"),
                P("placement", kStr, kOpt, "--placement", false,
                  {"pack", "spread"})},
               false,
               "",
               200});
  r.push_back({"POST",
               "/v1/claims",
               {"claim"},
               {P("instance", kStr, kOpt, "--instance", true),
                P("request", kStr, kPos, "", true),
                P("numa_policy", kStr, kOpt, "--numa-policy", false,
                  numa_policies),
                P("numa_cells", kStr, kOpt, "--numa-cells"),
                P("detach", kBool, ArgStyle::kFlagIfFalse, "--no-detach")},
               false,
               "claim",
               201});
  r.push_back({"GET",
               "/v1/claims",
               {"claims"},
               {P("instance", kStr, kOpt, "--instance"),
                P("devices", kBool, kIfTrue, "--devices")},
               false,
               "",
               200});
  r.push_back({"DELETE",
               "/v1/claims/{instance}",
               {"release"},
               {PathP("instance", kStr, kOpt, "--instance")},
               false,
               "release",
               200});
  r.push_back({"GET",
               "/v1/history",
               {"history"},
               {P("device", kAddr, kOpt, "--device"),
                P("instance", kStr, kOpt, "--instance"),
                P("since", kStr, kOpt, "--since"),
                P("until", kStr, kOpt, "--until")},
               false,
               "",
               200});
  r.push_back({"GET",
               "/v1/usage",
               {"usage"},
               {P("since", kStr, kOpt, "--since", true),
                P("until", kStr, kOpt, "--until")},
               false,
               "",
               200});
  r.push_back({"POST", "/v1/reconcile", {"reconcile"}, {}, false, "", 200});
  r.push_back({"POST",
               "/v1/vm-config",
               {"vm-config"},
               {P("instance", kStr, kOpt, "--instance", true),
                P("domain_xml", kBool, kIfTrue, "--domain-xml"),
                P("name", kStr, kOpt, "--name"),
                P("virt_type", kStr, kOpt, "--virt-type", false,
                  {"kvm", "qemu"}),
                P("memory_mib", kInt, kOpt, "--memory"),
                P("vcpus", kInt, kOpt, "--vcpus"),
                P("machine", kStr, kOpt, "--machine", false, {"q35", "pc"}),
                P("managed", kStr, kOpt, "--managed", false,
                  {"spec", "yes", "no"}),
                P("pin", kStrs, kOpt, "--pin"), P("mac", kStrs, kOpt, "--mac"),
                P("vlan", kStrs, kOpt, "--vlan"),
                P("interface", kStrs, kOpt, "--interface")},
               false,
               "",
               200});
  r.push_back({"POST", "/v1/hotplug", {"hotplug"}, hotplug_params(), true,
               "hotplug", 200});
  std::vector<ParamSpec> unplug = hotplug_params();
  unplug.pop_back();  // no pins when unplugging
  r.push_back({"POST", "/v1/hotunplug", {"hotplug", "--unplug"}, unplug, true,
               "hotunplug", 200});
  r.push_back({"POST", "/v1/detach", {"detach"}, handoff_params(true), true,
               "detach", 200});
  r.push_back({"POST", "/v1/reattach", {"reattach"}, handoff_params(true),
               true, "reattach", 200});
  r.push_back({"POST",
               "/v1/sriov",
               {"sriov"},
               {P("pf", kAddr, kPos, "", true),
                P("numvfs", kInt, kOpt, "--numvfs", true),
                P("autoprobe", kBool, ArgStyle::kFlagPair, "--autoprobe"),
                P("dry_run", kBool, kIfTrue, "--dry-run"),
                P("timeout_ms", kInt, kOpt, "--timeout-ms")},
               true,
               "sriov",
               200});
  r.push_back({"POST",
               "/v1/apply",
               {"apply"},
               {P("dry_run", kBool, kIfTrue, "--dry-run"),
                P("force", kStr, kOpt, "--force"),
                P("timeout_ms", kInt, kOpt, "--timeout-ms")},
               true,
               "apply",
               200});
  return r;
}

const char* KindName(ParamKind k) {
  switch (k) {
    case ParamKind::kString:
      return "a string";
    case ParamKind::kBool:
      return "a boolean (true or false)";
    case ParamKind::kInt:
      return "an integer";
    case ParamKind::kAddress:
      return "a PCI address string like \"0000:03:00.0\"";
    case ParamKind::kStringList:
      return "an array of strings";
    case ParamKind::kAddressList:
      return "an array of PCI address strings";
  }
  return "?";
}

std::string AcceptedNames(const RouteSpec& route, bool in_path) {
  std::string names;
  for (const ParamSpec& p : route.params) {
    if (p.in_path != in_path) continue;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  return names.empty() ? "none" : names;
}

Status BadField(const std::string& field, const std::string& message,
                std::optional<std::string>* bad_field) {
  *bad_field = field;
  return Status::InvalidArgument(message);
}

// Adds |value| (already type-checked) as the CLI argument(s) of |p|.
void Emit(const ParamSpec& p, const Json& value, std::vector<std::string>* opts,
          std::vector<std::string>* positionals) {
  auto one = [&](const std::string& s) {
    if (p.style == ArgStyle::kPositional) {
      positionals->push_back(s);
    } else {
      opts->push_back(p.flag + "=" + s);
    }
  };
  switch (p.kind) {
    case ParamKind::kBool: {
      bool b = value.get<bool>();
      if (p.style == ArgStyle::kFlagIfTrue && b) opts->push_back(p.flag);
      if (p.style == ArgStyle::kFlagIfFalse && !b) opts->push_back(p.flag);
      if (p.style == ArgStyle::kFlagPair) {
        opts->push_back(b ? p.flag : "--no-" + p.flag.substr(2));
      }
      break;
    }
    case ParamKind::kInt:
      one(std::to_string(value.get<int64_t>()));
      break;
    case ParamKind::kStringList:
    case ParamKind::kAddressList:
      for (const Json& v : value) one(v.get<std::string>());
      break;
    default:
      one(value.get<std::string>());
  }
}

// Type-checks |value| for |p|; InvalidArgument naming the field.
Status CheckValue(const ParamSpec& p, const Json& value,
                  std::optional<std::string>* bad_field) {
  auto wrong = [&] {
    return BadField(p.name,
                    p.name + " must be " + KindName(p.kind) + ", not " +
                        value.dump().substr(0, 80),
                    bad_field);
  };
  auto check_string = [&](const Json& v, bool address) -> Status {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty()) {
      return BadField(p.name, p.name + " must not be empty", bad_field);
    }
    if (s.size() > 4096) {
      return BadField(p.name, p.name + " is longer than 4096 characters",
                      bad_field);
    }
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x20) {
        return BadField(p.name, p.name + " contains a control character",
                        bad_field);
      }
    }
    if (address) {
      Result<PciAddress> a = PciAddress::Parse(s);
      if (!a.ok()) {
        return BadField(p.name, p.name + ": " + a.status().message(),
                        bad_field);
      }
    }
    if (!p.one_of.empty() &&
        std::find(p.one_of.begin(), p.one_of.end(), s) == p.one_of.end()) {
      std::string allowed;
      for (const std::string& o : p.one_of) {
        allowed += (allowed.empty() ? "" : ", ") + o;
      }
      return BadField(p.name,
                      p.name + " is '" + s + "'; accepted: " + allowed,
                      bad_field);
    }
    return Status::Ok();
  };
  switch (p.kind) {
    case ParamKind::kBool:
      return value.is_boolean() ? Status::Ok() : wrong();
    case ParamKind::kInt:
      if (!value.is_number_integer()) return wrong();
      if (value.get<int64_t>() < 0 || value.get<int64_t>() > 1000000000) {
        return BadField(p.name, p.name + " must be between 0 and 1000000000",
                        bad_field);
      }
      return Status::Ok();
    case ParamKind::kString:
    case ParamKind::kAddress:
      if (!value.is_string()) return wrong();
      return check_string(value, p.kind == ParamKind::kAddress);
    case ParamKind::kStringList:
    case ParamKind::kAddressList: {
      if (!value.is_array()) return wrong();
      if (p.required && value.empty()) {
        return BadField(p.name, p.name + " must list at least one entry",
                        bad_field);
      }
      if (value.size() > 1024) {
        return BadField(p.name, p.name + " has more than 1024 entries",
                        bad_field);
      }
      for (const Json& v : value) {
        if (!v.is_string()) return wrong();
        Status s = check_string(v, p.kind == ParamKind::kAddressList);
        if (!s.ok()) return s;
      }
      return Status::Ok();
    }
  }
  return wrong();
}

// A query string value as JSON of the parameter's kind.
Result<Json> QueryValue(const ParamSpec& p, const std::vector<std::string>& v,
                        std::optional<std::string>* bad_field) {
  if (p.kind == ParamKind::kStringList || p.kind == ParamKind::kAddressList) {
    return Json(v);
  }
  if (v.size() > 1) {
    return BadField(p.name, "query parameter " + p.name + " is given " +
                                std::to_string(v.size()) +
                                " times; give it once",
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

Result<std::vector<std::string>> DecodeRequest(
    const RouteSpec& route, const std::vector<std::string>& path_values,
    const std::multimap<std::string, std::string>& query,
    const std::string& body, std::optional<std::string>* bad_field) {
  const bool from_body = route.method == "POST";
  Json values = Json::object();
  size_t next_path = 0;
  for (const ParamSpec& p : route.params) {
    if (!p.in_path) continue;
    if (next_path >= path_values.size()) {
      return BadField(p.name, "the path has no " + p.name, bad_field);
    }
    values[p.name] = path_values[next_path++];
  }
  // Query parameters: every one must be known ("wait" belongs to
  // long-running routes).
  std::map<std::string, std::vector<std::string>> q;
  for (const auto& [k, v] : query) q[k].push_back(v);
  for (const auto& [k, v] : q) {
    if (k == "wait" && route.long_running) continue;
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& p : route.params) {
      if (p.name == k && !p.in_path) spec = &p;
    }
    if (!spec || from_body) {
      return BadField(
          k,
          "unknown query parameter '" + k + "' for " + route.method + " " +
              route.path +
              (from_body ? " (its parameters go in the JSON body: " +
                               AcceptedNames(route, false) + ")"
                         : "; accepted: " + AcceptedNames(route, false)),
          bad_field);
    }
    Result<Json> j = QueryValue(*spec, v, bad_field);
    if (!j.ok()) return j.status();
    values[k] = *j;
  }
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
    for (auto& [k, v] : b.items()) {
      const ParamSpec* spec = nullptr;
      for (const ParamSpec& p : route.params) {
        if (p.name == k && !p.in_path) spec = &p;
      }
      if (!spec) {
        return BadField(k,
                        "unknown field '" + k + "' for " + route.method + " " +
                            route.path +
                            "; accepted: " + AcceptedNames(route, false),
                        bad_field);
      }
      if (v.is_null()) continue;  // null = not given
      values[k] = v;
    }
  }
  std::vector<std::string> opts;
  std::vector<std::string> positionals;
  for (const ParamSpec& p : route.params) {
    auto it = values.find(p.name);
    if (it == values.end()) {
      if (p.required) {
        return BadField(p.name,
                        std::string(from_body && !p.in_path ? "field "
                                                            : "parameter ") +
                            p.name + " is required (" + KindName(p.kind) + ")",
                        bad_field);
      }
      continue;
    }
    Status s = CheckValue(p, *it, bad_field);
    if (!s.ok()) return s;
    Emit(p, *it, &opts, &positionals);
  }
  std::vector<std::string> args = route.verb;
  args.insert(args.end(), opts.begin(), opts.end());
  if (!positionals.empty()) {
    args.push_back("--");
    args.insert(args.end(), positionals.begin(), positionals.end());
  }
  return args;
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
  res.set_content(reply.body, reply.content_type.c_str());
}

std::string FirstLine(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// A 400 from the operation names a CLI flag ("--since 'x': ..."); name
// the API field that fed it instead, when the reply has none.
void NameFieldFromFlag(const RouteSpec& route, Reply* reply) {
  if (reply->http_status != 400) return;
  Json j = Json::parse(reply->body, nullptr, false);
  if (j.is_discarded() || !j.contains("error") || !j["error"].is_object() ||
      !j["error"].value("field", Json()).is_null()) {
    return;
  }
  const std::string message = j["error"].value("message", "");
  for (const ParamSpec& p : route.params) {
    if (p.flag.empty() || p.style != ArgStyle::kOption) continue;
    if (message.find(p.flag) != std::string::npos) {
      j["error"]["field"] = p.name;
      reply->body = j.dump();
      return;
    }
  }
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
  Result<std::vector<std::string>> args =
      DecodeRequest(route, path_values, query, req.body, &field);
  if (!args.ok()) {
    SendError(res, FromStatus(args.status(), field), api.metrics());
    return;
  }
  const HostFlags flags = api.flags();
  Metrics* metrics = &api.metrics();
  const std::string handoff = route.handoff;
  const int success = route.success_status;
  auto run = [flags, args = *args, success, &route](
                 const Operations::ProgressFn& progress) {
    Reply reply = RunCliOperation(flags, args, progress, success);
    NameFieldFromFlag(route, &reply);
    return reply;
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
    account(reply, std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
    SendReply(res, reply);
    return;
  }
  auto t0 = std::make_shared<std::chrono::steady_clock::time_point>(
      std::chrono::steady_clock::now());
  Operations& ops = api.operations();
  std::string id = ops.Start(route.path.substr(4), run,
                             [account, t0, &ops, metrics](const Reply& r) {
                               account(r, std::chrono::duration<double>(
                                              std::chrono::steady_clock::now() -
                                              *t0)
                                              .count());
                               metrics->SetOperationsRunning(ops.Running() -
                                                             1);
                             });
  metrics->SetOperationsRunning(ops.Running());
  auto w = query.find("wait");
  std::string wait = w == query.end() ? "" : w->second;
  if (wait == "true" || wait == "1") {
    // Bounded: the CLI's own watchdogs end every sysfs write well within.
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
  std::string path = claims::LedgerPath(
      api.flags().state.empty()
          ? HostRoot::FromFlagOrEnv(api.flags().root)
                .Path("var/lib/pcipass")
                .string()
          : api.flags().state);
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
      *allowed += (allowed->empty() ? "" : ", ") + ApiRoutes()[i].method;
    }
  }
  return !allowed->empty();
}

}  // namespace

void InstallApi(httplib::Server& server, ApiContext& api, Transport transport,
                size_t max_body_bytes) {
  server.set_payload_max_length(max_body_bytes);
  server.set_pre_routing_handler(
      [&api, transport](const httplib::Request& req, httplib::Response& res) {
        tls_request_start = std::chrono::steady_clock::now();
        // RFC 9112 6.3: a request with neither Content-Length nor
        // Transfer-Encoding has no body. httplib 0.11.4 instead reads a
        // POST/DELETE body until the peer closes (a keep-alive client
        // waits out the read timeout, then gets 400), so say "0" here.
        // The Request is httplib's own non-const object, handed to this
        // hook as const.
        if (!req.has_header("Content-Length") &&
            !req.has_header("Transfer-Encoding")) {
          const_cast<httplib::Request&>(req).set_header("Content-Length",
                                                        "0");
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
          denied = CheckBearer(req.get_header_value("Authorization"),
                               api.token());
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
  server.Get("/metrics", [&api](const httplib::Request&,
                                httplib::Response& res) {
    HandleMetrics(api, res);
  });
  server.Get("/v1/version",
             [](const httplib::Request&, httplib::Response& res) {
               res.set_content(R"({"version":"0.1.0","api":"v1"})",
                               "application/json");
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
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
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
                                      std::exception_ptr ep) {
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
