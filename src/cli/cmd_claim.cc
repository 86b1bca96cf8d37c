// pcipass claim --instance ID REQUEST: reconcile, fit and record the
// devices in the ledger (one transaction), hand them to vfio-pci (whole
// IOMMU groups, binding/handoff.h; devices whose spec says managed="true"
// are left to libvirt), then mark them allocated. If the hand-off fails,
// both the host (by the hand-off) and the ledger are rolled back. Exit 0
// with the assignment, 1 when refused or rolled back.
#include <CLI/CLI.hpp>
#include <algorithm>

#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "service/claims_ops.h"

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
    service::ClaimParams params;
    params.instance = o->instance;
    params.request = o->request;
    params.numa_policy = o->numa_policy;
    params.numa_cells = o->numa_cells;
    params.detach = !o->no_detach;
    service::ClaimReply r = service::Claim(ctx.Env(), params);
    if (r.failed) return ReportFailure(r, ctx);
    const claims::ClaimOutcome& out = r.result;
    WarnDrift(ctx, out.drift);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
    } else if (out.ok) {
      Table t({"INSTANCE", "ADDRESS", "ALIAS", "TYPE", "STATE", "DETACHED"});
      for (const ClaimRecord& c : out.claims) {
        bool det = std::find(out.detached.begin(), out.detached.end(),
                             c.address) != out.detached.end();
        t.AddRow({c.instance, c.address.ToString(), c.alias_name,
                  std::string(DeviceTypeName(c.dev_type)), c.state,
                  det ? "yes" : "no (managed by libvirt or --no-detach)"});
      }
      t.Print(ctx.out());
    } else {
      PrintFitText(ctx.err(), out.fit);
    }
    if (!ctx.json()) {
      for (const std::string& n : out.notes) {
        ctx.err() << "pcipass: note: " << n << "\n";
      }
    }
    if (!out.ok) {
      if (!ctx.json()) ctx.err() << "pcipass: " << out.status.message() << "\n";
      return r.ExitCode();
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
