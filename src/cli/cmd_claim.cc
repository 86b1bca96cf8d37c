// pcipass claim --instance ID REQUEST: reconcile, fit and record the
// devices in the ledger (one transaction), hand them to vfio-pci (whole
// IOMMU groups, binding/handoff.h; devices whose spec says managed="true"
// are left to libvirt), then mark them allocated. If the hand-off fails,
// both the host (by the hand-off) and the ledger are rolled back. Exit 0
// with the assignment, 1 when refused or rolled back.
#include <CLI/CLI.hpp>

#include "binding/handoff.h"
#include "claims/service.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "select/request.h"

namespace pcipass::cli {

RunFn SetupClaimCommand(CLI::App& sub) {
  struct Opts {
    std::string instance;
    std::string request;
    std::string numa_policy;
    std::string numa_cells;
    bool no_detach = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--instance", o->instance, "instance (VM) id")->required();
  sub.add_option("REQUEST", o->request,
                 "alias request in flavor syntax, e.g. gpu:2,nic-vf:1")
      ->required();
  sub.add_option("--numa-policy", o->numa_policy,
                 "required|legacy|preferred|socket (overrides the aliases')");
  sub.add_option("--numa-cells", o->numa_cells,
                 "the guest's host NUMA cells, e.g. 0,1 (default: no NUMA)");
  sub.add_flag("--no-detach", o->no_detach,
               "only record the claim; leave the host drivers alone");
  return [o](CommandContext& ctx) -> int {
    auto fail = [&](const Status& s) {
      return ReportError(s, ctx.json(), ctx.out(), ctx.err());
    };
    claims::SessionOptions so = ClaimsSessionOptions(ctx, true);
    // A claim killed mid-hand-off left a journal: finish it (roll the
    // host back) before fitting on what the host has.
    so.recover_handoff = !o->no_detach;
    Result<claims::Session> session = claims::OpenSession(so);
    if (!session.ok()) return fail(session.status());
    NumaOverride numa;
    if (!o->numa_policy.empty()) numa.flavor = o->numa_policy;
    Result<std::vector<PciRequest>> reqs =
        ParsePciRequests(o->request, session->config.aliases, numa);
    if (!reqs.ok()) return fail(reqs.status());
    claims::ClaimOptions copts;
    copts.instance = o->instance;
    copts.fit.placement = session->settings.placement;
    if (!o->numa_cells.empty()) {
      Result<std::vector<int>> cells = claims::ParseNumaCells(o->numa_cells);
      if (!cells.ok()) return fail(cells.status());
      copts.fit.numa_cells = *cells;
    }
    copts.detach = !o->no_detach;
    copts.why = "request " + o->request;
    const HostRoot host = session->host;
    const std::string state_dir = session->state_dir;
    copts.detach_fn = [host, state_dir](const std::vector<PciAddress>& addrs,
                                        std::vector<std::string>* notes) {
      HandOffOptions h;
      h.state_dir = state_dir;
      h.whole_group = true;  // the fit checked the group's other members
      Result<HandOffReport> r = Detach(host, addrs, h);
      if (!r.ok()) return r.status();
      for (const std::string& n : r->notes) notes->push_back(n);
      return Status::Ok();
    };
    Result<claims::ClaimOutcome> out =
        claims::Claim(*session->ledger, session->snapshot, *reqs, copts);
    if (!out.ok()) return fail(out.status());
    out->notes.insert(out->notes.begin(), session->notes.begin(),
                      session->notes.end());
    WarnDrift(ctx, out->drift);
    if (ctx.json()) {
      nlohmann::json devs = nlohmann::json::array();
      for (const ClaimRecord& c : out->claims) {
        devs.push_back(claims::ClaimJson(c));
      }
      auto addrs = [](const std::vector<PciAddress>& v) {
        nlohmann::json a = nlohmann::json::array();
        for (const PciAddress& x : v) a.push_back(x.ToString());
        return a;
      };
      nlohmann::json j = {
          {"claimed", out->ok},
          {"instance", o->instance},
          {"devices", devs},
          {"detached", addrs(out->detached)},
          {"skipped_detach", addrs(out->skipped_detach)},
          {"notes", out->notes},
          {"drift", claims::DriftJson(out->drift)},
          {"fit", claims::FitJson(out->fit, copts.fit)},
          {"error",
           out->ok
               ? nlohmann::json(nullptr)
               : nlohmann::json{
                     {"code", std::string(StatusCodeName(out->status.code()))},
                     {"message", out->status.message()}}}};
      ctx.out() << j.dump(2) << "\n";
    } else if (out->ok) {
      Table t({"INSTANCE", "ADDRESS", "ALIAS", "TYPE", "STATE", "DETACHED"});
      for (const ClaimRecord& c : out->claims) {
        bool det = std::find(out->detached.begin(), out->detached.end(),
                             c.address) != out->detached.end();
        t.AddRow({c.instance, c.address.ToString(), c.alias_name,
                  std::string(DeviceTypeName(c.dev_type)), c.state,
                  det ? "yes" : "no (managed by libvirt or --no-detach)"});
      }
      t.Print(ctx.out());
    } else {
      PrintFitText(ctx.err(), out->fit);
    }
    if (!ctx.json()) {
      for (const std::string& n : out->notes) {
        ctx.err() << "pcipass: note: " << n << "\n";
      }
    }
    if (!out->ok) {
      if (!ctx.json())
        ctx.err() << "pcipass: " << out->status.message() << "\n";
      return ExitCodeFor(out->status);
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
