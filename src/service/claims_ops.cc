#include "service/claims_ops.h"

#include <exception>
#include <filesystem>
#include <memory>
#include <system_error>

#include "binding/handoff.h"
#include "claims/numa.h"
#include "claims/session.h"
#include "core/values.h"
#include "select/request.h"
#include "service/json_params.h"

namespace pcipass::service {

namespace {

using ojson = nlohmann::ordered_json;

// Fills in Event::who for every event written through it, so a daemon's
// history names the client, not the daemon process.
class ActorTxn : public LedgerTxn {
 public:
  ActorTxn(LedgerTxn& inner, const std::string& who)
      : inner_(inner), who_(who) {}
  Result<std::vector<LedgerDevice>> Devices() override {
    return inner_.Devices();
  }
  Status PutDevice(const LedgerDevice& device) override {
    return inner_.PutDevice(device);
  }
  Result<std::vector<ClaimRecord>> Claims(
      const std::optional<std::string>& instance) override {
    return inner_.Claims(instance);
  }
  Status AddClaim(const ClaimRecord& claim) override {
    return inner_.AddClaim(claim);
  }
  Status SetClaimState(const std::string& instance, const PciAddress& address,
                       std::string_view state) override {
    return inner_.SetClaimState(instance, address, state);
  }
  Status DeleteClaim(const std::string& instance,
                     const PciAddress& address) override {
    return inner_.DeleteClaim(instance, address);
  }
  Status AppendEvent(const Event& event) override {
    if (!event.who.empty() || who_.empty()) return inner_.AppendEvent(event);
    Event e = event;
    e.who = who_;
    return inner_.AppendEvent(e);
  }

 private:
  LedgerTxn& inner_;
  const std::string& who_;
};

class ActorLedger : public Ledger {
 public:
  ActorLedger(Ledger& inner, std::string who)
      : inner_(inner), who_(std::move(who)) {}
  Status Transact(const std::function<Status(LedgerTxn&)>& fn) override {
    return inner_.Transact([&](LedgerTxn& txn) -> Status {
      ActorTxn actor(txn, who_);
      return fn(actor);
    });
  }
  Result<std::vector<LedgerDevice>> ListDevices() override {
    return inner_.ListDevices();
  }
  Result<std::vector<ClaimRecord>> ListClaims(
      std::optional<std::string> instance) override {
    return inner_.ListClaims(std::move(instance));
  }
  Result<std::vector<Event>> ListEvents(const EventFilter& filter) override {
    return inner_.ListEvents(filter);
  }
  int SchemaVersion() const override { return inner_.SchemaVersion(); }

 private:
  Ledger& inner_;
  std::string who_;
};

void Progress(const ServiceEnv& env, const char* op, const char* step,
              std::string detail) {
  if (env.progress) env.progress({op, step, std::move(detail)});
}

// Reads "numa_cells" as a string "0,1" or an array of integers [0, 1].
void ReadNumaCells(JsonFields& f, std::string* out) {
  const nlohmann::json* v = f.Raw("numa_cells");
  if (v == nullptr) return;
  const char* expected =
      "a string such as \"0,1\" or an array of NUMA cell numbers such as "
      "[0, 1]";
  if (v->is_string()) {
    *out = v->get<std::string>();
    return;
  }
  if (!v->is_array()) return f.Reject("numa_cells", expected, *v);
  std::string text;
  for (const nlohmann::json& c : *v) {
    if (!c.is_number_integer()) return f.Reject("numa_cells", expected, *v);
    text += text.empty() ? "" : ",";
    text += std::to_string(c.get<int64_t>());
  }
  *out = text;
}

// A session that did not open. An invalid config (claims::OpenSession's
// "invalid config <path>: ...") also fills config_errors, so the daemon
// answers 422 as for the other operations; the error document keeps the
// CLI's shape.
void FailSession(const Status& status, Reply& reply) {
  reply.Fail(status);
  if (status.code() == StatusCode::kFailedPrecondition &&
      status.message().rfind("invalid config ", 0) == 0) {
    reply.config_errors.push_back(status.message());
  }
}

// Drift found by the reconcile that starts a claims operation, for logs
// (the CLI prints typed drift itself, as "pcipass: drift: ...").
void AddDriftWarnings(const claims::ReconcileReport& report, Reply& reply) {
  for (const claims::DriftItem& d : report.drift) {
    reply.warnings.push_back("drift: " + d.address.ToString() + " " + d.kind +
                             ": " + d.detail);
  }
}

Status ValidInstance(const std::string& instance) {
  if (instance.empty()) {
    return Status::InvalidArgument(
        "instance is required: the instance (VM) id, e.g. --instance vm-1 "
        "or \"instance\": \"vm-1\"");
  }
  return CheckInstanceId(instance);
}

}  // namespace

claims::HandOffFn GroupHandOffToVfio(const ServiceEnv& env) {
  return [host = env.host, state_dir = env.state_dir](
             const std::vector<PciAddress>& addrs,
             std::vector<std::string>* notes) -> Status {
    HandOffOptions h;
    h.state_dir = state_dir;
    h.whole_group = true;  // the fit checked the group's other members
    Result<HandOffReport> r = Detach(host, addrs, h);
    if (!r.ok()) return r.status();
    for (const std::string& n : r->notes) notes->push_back(n);
    return Status::Ok();
  };
}

std::function<Result<claims::HostSnapshot>()> HostSnapshotReader(
    const ServiceEnv& env) {
  return
      [so = SessionOptionsFor(env, false)]() -> Result<claims::HostSnapshot> {
        Result<claims::Session> session = claims::OpenSession(so);
        if (!session.ok()) return session.status();
        return std::move(session->snapshot);
      };
}

claims::SessionOptions SessionOptionsFor(const ServiceEnv& env,
                                         bool create_ledger) {
  claims::SessionOptions o;
  o.host = env.host;
  o.config_path = env.config_path;
  o.state_dir = env.state_dir;
  o.pci_ids = env.pci_ids;
  o.create_ledger = create_ledger;
  return o;
}

// ---- FromJson ----

Result<FitParams> FitParams::FromJson(const nlohmann::json& body) {
  FitParams p;
  JsonFields f(body, "fit body");
  f.String("request", &p.request, true);
  f.String("numa_policy", &p.numa_policy);
  f.String("placement", &p.placement);
  ReadNumaCells(f, &p.numa_cells);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<ClaimParams> ClaimParams::FromJson(const nlohmann::json& body) {
  ClaimParams p;
  JsonFields f(body, "claim body");
  f.String("instance", &p.instance, true);
  f.String("request", &p.request, true);
  f.String("numa_policy", &p.numa_policy);
  f.Bool("detach", &p.detach);
  ReadNumaCells(f, &p.numa_cells);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<ReleaseParams> ReleaseParams::FromJson(const nlohmann::json& body) {
  ReleaseParams p;
  JsonFields f(body, "release body");
  f.String("instance", &p.instance, true);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<ClaimsParams> ClaimsParams::FromJson(const nlohmann::json& body) {
  ClaimsParams p;
  JsonFields f(body, "claims parameters");
  f.String("instance", &p.instance);
  f.Bool("devices", &p.devices);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<HistoryParams> HistoryParams::FromJson(const nlohmann::json& body) {
  HistoryParams p;
  JsonFields f(body, "history parameters");
  f.String("device", &p.device);
  f.String("instance", &p.instance);
  f.String("since", &p.since);
  f.String("until", &p.until);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<UsageParams> UsageParams::FromJson(const nlohmann::json& body) {
  UsageParams p;
  JsonFields f(body, "usage parameters");
  f.String("since", &p.since, true);
  f.String("until", &p.until);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<ReconcileParams> ReconcileParams::FromJson(const nlohmann::json& body) {
  JsonFields f(body, "reconcile body");
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return ReconcileParams{};
}

// ---- operations ----

FitReply Fit(const ServiceEnv& env, const FitParams& params) {
  FitReply reply;
  try {
    if (params.request.empty()) {
      reply.Fail(Status::InvalidArgument(
          "request is required: alias request in flavor syntax, e.g. "
          "gpu:2,nic-vf:1"));
      return reply;
    }
    Result<claims::Session> session =
        claims::OpenSession(SessionOptionsFor(env, false));
    if (!session.ok()) {
      FailSession(session.status(), reply);
      return reply;
    }
    NumaOverride numa;
    if (!params.numa_policy.empty()) numa.flavor = params.numa_policy;
    Result<std::vector<PciRequest>> reqs =
        ParsePciRequests(params.request, session->config.aliases, numa);
    if (!reqs.ok()) {
      reply.Fail(reqs.status());
      return reply;
    }
    claims::FitOptions& fopts = reply.options;
    fopts.placement = session->settings.placement;
    if (!params.placement.empty()) {
      Result<claims::Placement> p = claims::ParsePlacement(params.placement);
      if (!p.ok()) {
        reply.Fail(p.status());
        return reply;
      }
      fopts.placement = *p;
    }
    if (!params.numa_cells.empty()) {
      Result<std::vector<int>> cells =
          claims::ParseNumaCells(params.numa_cells);
      if (!cells.ok()) {
        reply.Fail(cells.status());
        return reply;
      }
      fopts.numa_cells = *cells;
    }
    // The ledger as it would be after a reconcile, without writing it.
    std::vector<LedgerDevice> devices;
    if (session->ledger) {
      Status s = session->ledger->Transact([&](LedgerTxn& txn) -> Status {
        claims::ReconcileReport drift;
        PCIPASS_RETURN_IF_ERROR(
            claims::ReconcileIn(txn, session->snapshot, &drift));
        Result<std::vector<LedgerDevice>> d = txn.Devices();
        if (!d.ok()) return d.status();
        devices = std::move(*d);
        // Roll back: fit changes nothing.
        return Status::Conflict("read-only");
      });
      if (!s.ok() && s.message() != "read-only") {
        reply.Fail(s);
        return reply;
      }
    } else {
      devices = claims::UnrecordedDevices(session->snapshot);
    }
    reply.fit = claims::Fit(claims::MakeFitHost(devices, session->snapshot),
                            *reqs, fopts);
    reply.json = ojson(claims::FitJson(reply.fit, fopts));
    if (!reply.fit.ok) {
      std::string why = "request " + params.request + " does not fit";
      for (const claims::RequestOutcome& r : reply.fit.requests) {
        if (!r.ok) {
          why += ": " + r.alias_name + " failed at step " + r.failed_step +
                 (r.message.empty() ? "" : " (" + r.message + ")");
          break;
        }
      }
      reply.status = Status::FailedPrecondition(why);
    }
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("fit: ") + e.what()));
  }
  return reply;
}

ClaimReply Claim(const ServiceEnv& env, const ClaimParams& params) {
  ClaimReply reply;
  try {
    if (Status s = ValidInstance(params.instance); !s.ok()) {
      reply.Fail(s);
      return reply;
    }
    if (params.request.empty()) {
      reply.Fail(Status::InvalidArgument(
          "request is required: alias request in flavor syntax, e.g. "
          "gpu:2,nic-vf:1"));
      return reply;
    }
    claims::SessionOptions so = SessionOptionsFor(env, true);
    // A claim killed mid-hand-off left a journal: finish it (roll the host
    // back) before fitting on what the host has.
    so.recover_handoff = params.detach;
    Result<claims::Session> session = claims::OpenSession(so);
    if (!session.ok()) {
      FailSession(session.status(), reply);
      return reply;
    }
    NumaOverride numa;
    if (!params.numa_policy.empty()) numa.flavor = params.numa_policy;
    Result<std::vector<PciRequest>> reqs =
        ParsePciRequests(params.request, session->config.aliases, numa);
    if (!reqs.ok()) {
      reply.Fail(reqs.status());
      return reply;
    }
    claims::ClaimOptions copts;
    copts.instance = params.instance;
    copts.fit.placement = session->settings.placement;
    if (!params.numa_cells.empty()) {
      Result<std::vector<int>> cells =
          claims::ParseNumaCells(params.numa_cells);
      if (!cells.ok()) {
        reply.Fail(cells.status());
        return reply;
      }
      copts.fit.numa_cells = *cells;
    }
    copts.detach = params.detach;
    copts.why = "request " + params.request;
    ServiceEnv handoff_env = env;
    handoff_env.host = session->host;
    handoff_env.state_dir = session->state_dir;
    copts.detach_fn = [&env, inner = GroupHandOffToVfio(handoff_env)](
                          const std::vector<PciAddress>& addrs,
                          std::vector<std::string>* notes) {
      std::string list;
      for (const PciAddress& a : addrs) {
        list += list.empty() ? "" : ", ";
        list += a.ToString();
      }
      Progress(env, "claim", "handoff", "handing to vfio-pci: " + list);
      return inner(addrs, notes);
    };
    Progress(env, "claim", "ledger",
             "reconcile, fit and record " + params.request + " for " +
                 params.instance);
    ActorLedger ledger(*session->ledger, env.who);
    Result<claims::ClaimOutcome> out =
        claims::Claim(ledger, session->snapshot, *reqs, copts);
    if (!out.ok()) {
      reply.Fail(out.status());
      return reply;
    }
    out->notes.insert(out->notes.begin(), session->notes.begin(),
                      session->notes.end());
    reply.result = std::move(*out);
    reply.fit_options = copts.fit;
    const claims::ClaimOutcome& o = reply.result;
    nlohmann::json devs = nlohmann::json::array();
    for (const ClaimRecord& c : o.claims) devs.push_back(claims::ClaimJson(c));
    auto addrs = [](const std::vector<PciAddress>& v) {
      nlohmann::json a = nlohmann::json::array();
      for (const PciAddress& x : v) a.push_back(x.ToString());
      return a;
    };
    nlohmann::json j = {
        {"claimed", o.ok},
        {"instance", params.instance},
        {"devices", devs},
        {"detached", addrs(o.detached)},
        {"skipped_detach", addrs(o.skipped_detach)},
        {"notes", o.notes},
        {"drift", claims::DriftJson(o.drift)},
        {"fit", claims::FitJson(o.fit, copts.fit)},
        {"error",
         o.ok ? nlohmann::json(nullptr)
              : nlohmann::json{
                    {"code", std::string(StatusCodeName(o.status.code()))},
                    {"message", o.status.message()}}}};
    reply.json = ojson(j);
    if (!o.ok) {
      reply.status = o.status.ok()
                         ? Status::Internal("claim failed without a reason")
                         : o.status;
    }
    AddDriftWarnings(o.drift, reply);
    Progress(env, "claim", "done",
             o.ok ? params.instance + " holds " +
                        std::to_string(o.claims.size()) + " device(s)"
                  : "refused: " + o.status.message());
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("claim: ") + e.what()));
  }
  return reply;
}

ReleaseReply Release(const ServiceEnv& env, const ReleaseParams& params) {
  ReleaseReply reply;
  try {
    if (Status s = ValidInstance(params.instance); !s.ok()) {
      reply.Fail(s);
      return reply;
    }
    claims::SessionOptions so = SessionOptionsFor(env, true);
    // A claim killed mid-hand-off left a journal: roll it back first, even
    // without reattach_on_release, or the released devices would stay
    // half-bound while the ledger calls them available.
    so.recover_handoff = true;
    Result<claims::Session> session = claims::OpenSession(so);
    if (!session.ok()) {
      FailSession(session.status(), reply);
      return reply;
    }
    claims::ReleaseOptions ro;
    ro.instance = params.instance;
    ro.reattach = session->settings.reattach_on_release;
    const HostRoot host = session->host;
    const std::string state_dir = session->state_dir;
    ro.reattach_fn = [&env, host, state_dir](
                         const std::vector<PciAddress>& addrs,
                         std::vector<std::string>* notes) {
      Progress(env, "release", "handoff",
               "giving " + std::to_string(addrs.size()) +
                   " device(s) back to their host drivers");
      HandOffOptions h;
      h.state_dir = state_dir;
      h.whole_group = true;
      Result<HandOffReport> r = Reattach(host, addrs, h);
      if (!r.ok()) return r.status();
      for (const std::string& n : r->notes) notes->push_back(n);
      return Status::Ok();
    };
    const claims::Session& opened = *session;
    const std::string pci_ids = env.pci_ids;
    ro.rescan = [&opened, pci_ids] {
      return claims::RescanHost(opened, pci_ids);
    };
    Progress(env, "release", "ledger", "releasing " + params.instance);
    ActorLedger ledger(*session->ledger, env.who);
    Result<claims::ReleaseOutcome> out =
        claims::Release(ledger, session->snapshot, ro);
    if (!out.ok()) {
      reply.Fail(out.status());
      return reply;
    }
    out->notes.insert(out->notes.begin(), session->notes.begin(),
                      session->notes.end());
    reply.result = std::move(*out);
    const claims::ReleaseOutcome& o = reply.result;
    nlohmann::json rel = nlohmann::json::array();
    for (const ClaimRecord& c : o.released) {
      rel.push_back(claims::ClaimJson(c));
    }
    nlohmann::json back = nlohmann::json::array();
    for (const PciAddress& a : o.reattached) back.push_back(a.ToString());
    reply.json = ojson(nlohmann::json{{"instance", params.instance},
                                      {"released", rel},
                                      {"reattached", back},
                                      {"notes", o.notes},
                                      {"drift", claims::DriftJson(o.drift)}});
    AddDriftWarnings(o.drift, reply);
    Progress(env, "release", "done",
             "released " + std::to_string(o.released.size()) + " device(s)");
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("release: ") + e.what()));
  }
  return reply;
}

ClaimsReply ListClaims(const ServiceEnv& env, const ClaimsParams& params) {
  ClaimsReply reply;
  try {
    Result<claims::Session> session =
        claims::OpenSession(SessionOptionsFor(env, false));
    if (!session.ok()) {
      FailSession(session.status(), reply);
      return reply;
    }
    if (session->ledger) {
      ActorLedger ledger(*session->ledger, env.who);
      Result<claims::ReconcileReport> drift =
          claims::Reconcile(ledger, session->snapshot);
      if (!drift.ok()) {
        reply.Fail(drift.status());
        return reply;
      }
      reply.drift = std::move(*drift);
      std::optional<std::string> inst;
      if (!params.instance.empty()) inst = params.instance;
      Result<std::vector<ClaimRecord>> c = session->ledger->ListClaims(inst);
      if (!c.ok()) {
        reply.Fail(c.status());
        return reply;
      }
      reply.claims = std::move(*c);
      Result<std::vector<LedgerDevice>> d = session->ledger->ListDevices();
      if (!d.ok()) {
        reply.Fail(d.status());
        return reply;
      }
      reply.devices = std::move(*d);
    }
    std::map<std::string, int> summary;
    for (const char* s : {"available", "claimed", "allocated", "unavailable",
                          "reserved", "removed"}) {
      summary[s] = 0;
    }
    for (const LedgerDevice& d : reply.devices) {
      summary[std::string(DeviceStateName(d.state))]++;
    }
    nlohmann::json arr = nlohmann::json::array();
    for (const ClaimRecord& c : reply.claims) {
      arr.push_back(claims::ClaimJson(c));
    }
    nlohmann::json j = {{"claims", arr}, {"summary", summary}};
    if (params.devices) {
      nlohmann::json devs = nlohmann::json::array();
      for (const LedgerDevice& d : reply.devices) {
        devs.push_back(claims::DeviceStateJson(d));
      }
      j["devices"] = devs;
    } else {
      j["devices"] = nullptr;
    }
    reply.json = ojson(j);
    AddDriftWarnings(reply.drift, reply);
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("claims: ") + e.what()));
  }
  return reply;
}

HistoryReply History(const ServiceEnv& env, const HistoryParams& params) {
  HistoryReply reply;
  try {
    EventFilter f;
    if (!params.device.empty()) {
      Result<PciAddress> a = PciAddress::Parse(params.device);
      if (!a.ok()) {
        reply.Fail(a.status());
        return reply;
      }
      f.address = *a;
    }
    if (!params.instance.empty()) f.instance = params.instance;
    int64_t now = claims::NowUnix();
    if (!params.since.empty()) {
      Result<int64_t> t = claims::ParseTime(params.since, now);
      if (!t.ok()) {
        reply.Fail(t.status());
        return reply;
      }
      f.since_unix = *t;
    }
    if (!params.until.empty()) {
      Result<int64_t> t = claims::ParseTime(params.until, now);
      if (!t.ok()) {
        reply.Fail(t.status());
        return reply;
      }
      f.until_unix = *t;
    }
    std::string path = claims::LedgerPath(env.state_dir);
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      Result<std::unique_ptr<Ledger>> l = Ledger::OpenSqlite(path);
      if (!l.ok()) {
        reply.Fail(l.status());
        return reply;
      }
      Result<std::vector<Event>> ev = (*l)->ListEvents(f);
      if (!ev.ok()) {
        reply.Fail(ev.status());
        return reply;
      }
      reply.events = std::move(*ev);
    }
    nlohmann::json arr = nlohmann::json::array();
    for (const Event& e : reply.events) arr.push_back(claims::EventJson(e));
    reply.json = ojson(nlohmann::json{{"events", arr}});
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("history: ") + e.what()));
  }
  return reply;
}

UsageReply Usage(const ServiceEnv& env, const UsageParams& params) {
  UsageReply reply;
  try {
    if (params.since.empty()) {
      reply.Fail(Status::InvalidArgument(
          "since is required: the start of the window, e.g. --since 24h "
          "(YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, @unix, 24h, 7d)"));
      return reply;
    }
    int64_t now = claims::NowUnix();
    Result<int64_t> since = claims::ParseTime(params.since, now);
    if (!since.ok()) {
      reply.Fail(since.status());
      return reply;
    }
    int64_t until = now;
    if (!params.until.empty()) {
      Result<int64_t> u = claims::ParseTime(params.until, now);
      if (!u.ok()) {
        reply.Fail(u.status());
        return reply;
      }
      until = *u;
    }
    if (until <= *since) {
      reply.Fail(Status::InvalidArgument(
          "--until " + claims::FormatTime(until) + " is not after --since " +
          claims::FormatTime(*since)));
      return reply;
    }
    std::vector<Event> events;
    std::string path = claims::LedgerPath(env.state_dir);
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      Result<std::unique_ptr<Ledger>> l = Ledger::OpenSqlite(path);
      if (!l.ok()) {
        reply.Fail(l.status());
        return reply;
      }
      EventFilter f;
      f.until_unix = until;
      Result<std::vector<Event>> ev = (*l)->ListEvents(f);
      if (!ev.ok()) {
        reply.Fail(ev.status());
        return reply;
      }
      events = std::move(*ev);
    }
    reply.usage = claims::ComputeUsage(events, *since, until);
    reply.json = ojson(claims::UsageJson(reply.usage));
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("usage: ") + e.what()));
  }
  return reply;
}

ReconcileReply Reconcile(const ServiceEnv& env,
                         const ReconcileParams& /*params*/) {
  ReconcileReply reply;
  try {
    Result<claims::Session> session =
        claims::OpenSession(SessionOptionsFor(env, true));
    if (!session.ok()) {
      FailSession(session.status(), reply);
      return reply;
    }
    ActorLedger ledger(*session->ledger, env.who);
    Result<claims::ReconcileReport> drift =
        claims::Reconcile(ledger, session->snapshot);
    if (!drift.ok()) {
      reply.Fail(drift.status());
      return reply;
    }
    reply.drift = std::move(*drift);
    reply.json =
        ojson(nlohmann::json{{"drift", claims::DriftJson(reply.drift)}});
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("reconcile: ") + e.what()));
  }
  return reply;
}

}  // namespace pcipass::service
