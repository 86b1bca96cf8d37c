#include "service/binding_ops.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "binding/report.h"
#include "core/discovery.h"
#include "core/values.h"
#include "select/ini.h"
#include "service/json_params.h"
#include "service/ledger_guard.h"

namespace pcipass::service {

namespace {

using ojson = nlohmann::ordered_json;

void Progress(const ServiceEnv& env, const char* op, const char* step,
              std::string detail) {
  if (env.progress) env.progress({op, step, std::move(detail)});
}

// Parses every address; the first bad one is an InvalidArgument naming it.
Result<std::vector<PciAddress>> ParseAll(const std::vector<std::string>& in) {
  if (in.empty()) {
    return Status::InvalidArgument(
        "addresses is required: at least one PCI address (dddd:bb:ss.f)");
  }
  std::vector<PciAddress> out;
  for (const std::string& s : in) {
    auto a = PciAddress::Parse(s);
    if (!a.ok()) return a.status();
    out.push_back(*a);
  }
  return out;
}

Status ValidTimeout(int timeout_ms) {
  if (timeout_ms > 0 && timeout_ms <= kMaxWriteTimeoutMs) return Status::Ok();
  return Status::InvalidArgument(
      "timeout_ms (--timeout-ms) " + std::to_string(timeout_ms) +
      " is not accepted; give the watchdog per sysfs write in milliseconds, "
      "1..3600000");
}

std::string Join(const std::vector<PciAddress>& v) {
  std::string out;
  for (const PciAddress& a : v) {
    out += out.empty() ? "" : ", ";
    out += a.ToString();
  }
  return out;
}

// The devices (with |whole_group|: also the members of their groups) that
// an instance holds in the claims ledger, as "ADDR (instance ID), ...", or
// "" when none is held. Giving one back would take it from the VM while
// the ledger still says the instance has it.
Result<std::string> ClaimedAmong(const HostRoot& host,
                                 const std::vector<PciAddress>& addrs,
                                 bool whole_group,
                                 const ClaimedByFn& claimed_by) {
  std::vector<PciAddress> check = addrs;
  if (whole_group) {
    Result<Inventory> inv = Discover(host);
    if (!inv.ok()) return inv.status();
    for (const PciAddress& a : addrs) {
      const PciDevice* dev = inv->Find(a);
      const IommuGroup* g = dev ? inv->GroupOf(*dev) : nullptr;
      if (g) check.insert(check.end(), g->members.begin(), g->members.end());
    }
  }
  std::sort(check.begin(), check.end());
  check.erase(std::unique(check.begin(), check.end()), check.end());
  std::string held;
  for (const PciAddress& a : check) {
    if (std::optional<std::string> who = claimed_by(a)) {
      held += held.empty() ? "" : ", ";
      held += a.ToString() + " (instance " + *who + ")";
    }
  }
  return held;
}

ojson SriovJson(const SriovReport& r, bool dry_run) {
  nlohmann::json j;
  j["pf"] = r.pf.ToString();
  j["dry_run"] = dry_run;
  j["sriov_totalvfs"] = r.totalvfs;
  j["numvfs_before"] = r.before;
  j["numvfs_after"] = r.after;
  j["changed"] = r.changed;
  j["writes"] = nlohmann::json::array();
  for (const auto& w : r.writes) {
    j["writes"].push_back(
        {{"path", w.path}, {"value", w.value}, {"why", w.why}});
  }
  j["vfs"] = nlohmann::json::array();
  for (const VfInfo& vf : r.vfs) {
    j["vfs"].push_back(
        {{"index", vf.index},
         {"address", vf.address.ToString()},
         {"iommu_group",
          vf.iommu_group ? nlohmann::json(*vf.iommu_group) : nullptr},
         {"driver", vf.driver ? nlohmann::json(*vf.driver) : nullptr}});
  }
  j["notes"] = r.notes;
  return ojson(j);
}

ojson ApplyJson(const ApplyReport& r, bool dry_run) {
  nlohmann::json j;
  j["dry_run"] = dry_run;
  j["nothing_to_do"] = r.nothing_to_do;
  j["sriov"] = nlohmann::json::array();
  for (const SriovReport& s : r.sriov) {
    nlohmann::json vfs = nlohmann::json::array();
    for (const VfInfo& vf : s.vfs) vfs.push_back(vf.address.ToString());
    nlohmann::json writes = nlohmann::json::array();
    for (const auto& w : s.writes) {
      writes.push_back({{"path", w.path}, {"value", w.value}, {"why", w.why}});
    }
    j["sriov"].push_back({{"pf", s.pf.ToString()},
                          {"numvfs_before", s.before},
                          {"numvfs_after", s.after},
                          {"writes", writes},
                          {"vfs", vfs}});
  }
  j["detach"] = HandOffReportToJson(r.detach, dry_run);
  j["notes"] = r.notes;
  return ojson(j);
}

}  // namespace

// ---- FromJson ----

Result<DetachParams> DetachParams::FromJson(const nlohmann::json& body) {
  DetachParams p;
  JsonFields f(body, "detach body");
  f.StringList("addresses", &p.addresses, true);
  f.Bool("dry_run", &p.dry_run);
  f.Bool("group", &p.group);
  f.String("force", &p.force);
  f.Int("timeout_ms", &p.timeout_ms, 1, 3600000);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<ReattachParams> ReattachParams::FromJson(const nlohmann::json& body) {
  ReattachParams p;
  JsonFields f(body, "reattach body");
  f.StringList("addresses", &p.addresses, true);
  f.Bool("dry_run", &p.dry_run);
  f.Bool("group", &p.group);
  f.String("force", &p.force);
  f.Int("timeout_ms", &p.timeout_ms, 1, 3600000);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<SriovParams> SriovParams::FromJson(const nlohmann::json& body) {
  SriovParams p;
  JsonFields f(body, "sriov body");
  f.String("pf", &p.pf, true);
  f.Int("numvfs", &p.numvfs, 0, 65535);
  const nlohmann::json* autoprobe = f.Raw("autoprobe");
  if (autoprobe != nullptr) {
    if (autoprobe->is_boolean()) {
      p.autoprobe = autoprobe->get<bool>();
    } else {
      f.Reject("autoprobe", "true or false", *autoprobe);
    }
  }
  f.Bool("dry_run", &p.dry_run);
  f.Int("timeout_ms", &p.timeout_ms, 1, 3600000);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  if (p.numvfs < 0) {
    return Status::InvalidArgument(
        "sriov body: field \"numvfs\" is required (the VF count wanted, 0 "
        "removes all)");
  }
  return p;
}

Result<ApplyParams> ApplyParams::FromJson(const nlohmann::json& body) {
  ApplyParams p;
  JsonFields f(body, "apply body");
  f.Bool("dry_run", &p.dry_run);
  f.String("force", &p.force);
  f.Int("timeout_ms", &p.timeout_ms, 1, 3600000);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<VfioCheckParams> VfioCheckParams::FromJson(const nlohmann::json& body) {
  VfioCheckParams p;
  JsonFields f(body, "vfio-check parameters");
  f.String("address", &p.address, true);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

// ---- operations ----

// The part detach and reattach share: the options every hand-off takes,
// progress before and after, the call, and the reply (report + --json).
// |op| names the operation in progress events and errors.
using HandOffCall = Result<HandOffReport> (*)(const HostRoot&,
                                              const std::vector<PciAddress>&,
                                              const HandOffOptions&);
void RunHandOff(const ServiceEnv& env, const char* op, const char* verb,
                HandOffCall call, const std::vector<PciAddress>& addrs,
                bool dry_run, bool group, int timeout_ms,
                const std::string& force_reason, HandOffReply& reply) {
  HandOffOptions opts;
  opts.state_dir = env.state_dir;
  opts.dry_run = dry_run;
  opts.whole_group = group;
  opts.write_timeout = std::chrono::milliseconds(timeout_ms);
  if (!force_reason.empty()) opts.force_reason = force_reason;
  Progress(env, op, "plan",
           std::string(dry_run ? "planning" : verb) + " " + Join(addrs));
  Result<HandOffReport> r = call(env.host, addrs, opts);
  if (!r.ok()) {
    reply.Fail(r.status().WithContext(op));
    return;
  }
  reply.report = std::move(*r);
  reply.json = ojson(HandOffReportToJson(reply.report, dry_run));
  Progress(env, op, "done",
           "changed: " + (reply.report.changed.empty()
                              ? std::string("none")
                              : Join(reply.report.changed)));
}

HandOffReply Detach(const ServiceEnv& env, const DetachParams& params) {
  HandOffReply reply;
  reply.dry_run = params.dry_run;
  try {
    auto addrs = ParseAll(params.addresses);
    if (!addrs.ok()) {
      reply.Fail(addrs.status());
      return reply;
    }
    if (Status s = ValidTimeout(params.timeout_ms); !s.ok()) {
      reply.Fail(s);
      return reply;
    }
    RunHandOff(env, "detach", "detaching", &pcipass::Detach, *addrs,
               params.dry_run, params.group, params.timeout_ms, params.force,
               reply);
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("detach: ") + e.what()));
  }
  return reply;
}

HandOffReply Reattach(const ServiceEnv& env, const ReattachParams& params) {
  HandOffReply reply;
  reply.dry_run = params.dry_run;
  try {
    auto addrs = ParseAll(params.addresses);
    if (!addrs.ok()) {
      reply.Fail(addrs.status());
      return reply;
    }
    if (Status s = ValidTimeout(params.timeout_ms); !s.ok()) {
      reply.Fail(s);
      return reply;
    }
    Result<ClaimedByFn> claimed_by = LoadClaimedBy(env.state_dir);
    if (!claimed_by.ok()) {
      reply.Fail(claimed_by.status().WithContext(
          "reattach cannot tell which devices are claimed"));
      return reply;
    }
    Result<std::string> held =
        ClaimedAmong(env.host, *addrs, params.group, *claimed_by);
    if (!held.ok()) {
      reply.Fail(held.status().WithContext("reattach"));
      return reply;
    }
    if (!held->empty() && params.force.empty()) {
      reply.Fail(Status::FailedPrecondition(
          "reattach: claimed in the ledger: " + *held +
          "; giving it back would take it from the VM. Release it first "
          "(pcipass release --instance ID), or pass --force REASON"));
      return reply;
    }
    if (!held->empty()) {
      reply.warnings.push_back(
          "--force \"" + params.force +
          "\": reattaching devices the ledger gives to instances: " + *held +
          (params.dry_run
               ? " (dry run: nothing is logged)"
               : "; the reason is logged in " + env.state_dir + "/log"));
    }
    // --force is recorded only when it overrode a claim.
    RunHandOff(env, "reattach", "reattaching", &pcipass::Reattach, *addrs,
               params.dry_run, params.group, params.timeout_ms,
               held->empty() ? std::string() : params.force, reply);
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("reattach: ") + e.what()));
  }
  return reply;
}

SriovReply Sriov(const ServiceEnv& env, const SriovParams& params) {
  SriovReply reply;
  reply.dry_run = params.dry_run;
  try {
    auto pf = PciAddress::Parse(params.pf);
    if (!pf.ok()) {
      reply.Fail(pf.status());
      return reply;
    }
    if (params.numvfs < 0) {
      reply.Fail(Status::InvalidArgument(
          "numvfs (--numvfs) " + std::to_string(params.numvfs) +
          " is not accepted; give the VF count wanted, 0 or more"));
      return reply;
    }
    if (Status s = ValidTimeout(params.timeout_ms); !s.ok()) {
      reply.Fail(s);
      return reply;
    }
    SriovOptions opts;
    opts.state_dir = env.state_dir;
    opts.numvfs = params.numvfs;
    opts.autoprobe = params.autoprobe;
    opts.dry_run = params.dry_run;
    opts.write_timeout = std::chrono::milliseconds(params.timeout_ms);
    // Removing VFs that instances hold would pull them out of running VMs.
    Result<ClaimedByFn> claimed_by = LoadClaimedBy(env.state_dir);
    if (!claimed_by.ok()) {
      reply.Fail(claimed_by.status().WithContext(
          "sriov cannot tell which VFs are claimed"));
      return reply;
    }
    opts.claimed_by = *claimed_by;
    Progress(env, "sriov", "plan",
             pf->ToString() + ": " + std::to_string(params.numvfs) + " VFs");
    auto r = SetNumVfs(env.host, *pf, opts);
    if (!r.ok()) {
      reply.Fail(r.status());
      return reply;
    }
    reply.report = std::move(*r);
    reply.json = SriovJson(reply.report, params.dry_run);
    Progress(env, "sriov", "done",
             pf->ToString() + ": " + std::to_string(reply.report.before) +
                 " -> " + std::to_string(reply.report.after) + " VFs");
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("sriov: ") + e.what()));
  }
  return reply;
}

ApplyReply Apply(const ServiceEnv& env, const ApplyParams& params) {
  ApplyReply reply;
  reply.dry_run = params.dry_run;
  reply.config_path = env.config_path;
  try {
    const std::string& path = env.config_path;
    if (path.empty()) {
      reply.Fail(Status::InvalidArgument(
          "apply needs a config with a [host] section (--config FILE or "
          "$PCIPASS_CONFIG)"));
      return reply;
    }
    if (Status s = ValidTimeout(params.timeout_ms); !s.ok()) {
      reply.Fail(s);
      return reply;
    }
    auto ini = IniFile::Load(path);
    if (!ini.ok()) {
      reply.Fail(ini.status());
      return reply;
    }
    if (Status h = RequireHostSection(*ini); !h.ok()) {
      reply.Fail(h);
      return reply;
    }
    auto state = ParseHostSection(*ini);
    if (!state.ok()) {
      reply.Fail(state.status());
      return reply;
    }
    ApplyOptions opts;
    opts.state_dir = env.state_dir;
    opts.dry_run = params.dry_run;
    opts.write_timeout = std::chrono::milliseconds(params.timeout_ms);
    if (!params.force.empty()) opts.force_reason = params.force;
    Result<ClaimedByFn> claimed_by = LoadClaimedBy(env.state_dir);
    if (!claimed_by.ok()) {
      reply.Fail(claimed_by.status().WithContext(
          "apply cannot tell which VFs are claimed"));
      return reply;
    }
    opts.claimed_by = *claimed_by;
    Progress(env, "apply", "plan",
             std::string(params.dry_run ? "planning" : "applying") +
                 " [host] of " + path);
    auto r = pcipass::Apply(env.host, *state, opts);
    if (!r.ok()) {
      reply.Fail(r.status().WithContext("apply"));
      return reply;
    }
    reply.report = std::move(*r);
    reply.json = ApplyJson(reply.report, params.dry_run);
    Progress(env, "apply", "done",
             reply.report.nothing_to_do ? "nothing to do" : "applied");
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("apply: ") + e.what()));
  }
  return reply;
}

VfioCheckReply VfioCheck(const ServiceEnv& env, const VfioCheckParams& params) {
  VfioCheckReply reply;
  try {
    auto addr = PciAddress::Parse(params.address);
    if (!addr.ok()) {
      reply.Fail(addr.status());
      return reply;
    }
    auto r = ProbeVfio(env.host, *addr);
    if (!r.ok()) {
      reply.Fail(r.status());
      return reply;
    }
    reply.report = std::move(*r);
    nlohmann::json j;
    j["address"] = reply.report.address.ToString();
    j["iommu_group"] = reply.report.group;
    j["ok"] = reply.report.ok;
    j["steps"] = nlohmann::json::array();
    for (const auto& s : reply.report.steps) {
      j["steps"].push_back(
          {{"name", s.name}, {"ok", s.ok}, {"detail", s.detail}});
    }
    reply.json = ojson(j);
    if (!reply.report.ok) {
      reply.status = Status::FailedPrecondition(
          reply.report.address.ToString() + " is NOT usable through VFIO");
    }
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("vfio-check: ") + e.what()));
  }
  return reply;
}

}  // namespace pcipass::service
