// pcipass fit REQUEST: could this host satisfy the request now, and with
// which devices? Changes nothing (the ledger is read, never written; a
// missing ledger means nothing is claimed). Exit 0 when it fits, 1 when
// not (the output names the request and the step that failed).
#include <CLI/CLI.hpp>

#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "service/claims_ops.h"

namespace pcipass::cli {

RunFn SetupFitCommand(CLI::App& sub) {
  struct Opts {
    std::string request;
    std::string numa_policy;
    std::string numa_cells;
    std::string placement;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("REQUEST", o->request,
                 "alias request in flavor syntax, e.g. gpu:2,nic-vf:1")
      ->required();
  sub.add_option("--numa-policy", o->numa_policy,
                 "required|legacy|preferred|socket (overrides the aliases')");
  sub.add_option("--numa-cells", o->numa_cells,
                 "the guest's host NUMA cells, e.g. 0,1 (default: no NUMA)");
  sub.add_option("--placement", o->placement,
                 "pack|spread (default: [claims] placement, else pack)");
  return [o](CommandContext& ctx) -> int {
    service::FitReply r = service::Fit(
        ctx.Env(), {o->request, o->numa_policy, o->numa_cells, o->placement});
    if (r.failed) return ReportFailure(r, ctx);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
    } else {
      ctx.out() << (r.fit.ok ? "fits" : "does not fit") << "\n";
      PrintFitText(ctx.out(), r.fit);
    }
    return r.ExitCode();
  };
}

}  // namespace pcipass::cli
