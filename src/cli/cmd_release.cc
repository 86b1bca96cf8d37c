// pcipass release --instance ID: frees every device the instance holds
// (never another instance's). With [claims] reattach_on_release = true the
// devices are first given back to their host drivers, while the ledger
// still says they are owned. Exit 0, or 1 when the instance holds nothing.
#include <CLI/CLI.hpp>

#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "service/claims_ops.h"

namespace pcipass::cli {

RunFn SetupReleaseCommand(CLI::App& sub) {
  auto instance = std::make_shared<std::string>();
  sub.add_option("--instance", *instance, "instance (VM) id")->required();
  return [instance](CommandContext& ctx) -> int {
    service::ReleaseReply r = service::Release(ctx.Env(), {*instance});
    if (r.failed) return ReportFailure(r, ctx);
    WarnDrift(ctx, r.result.drift);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
    } else {
      for (const ClaimRecord& c : r.result.released) {
        ctx.out() << "released " << c.address.ToString() << " (" << c.alias_name
                  << ") from " << c.instance << "\n";
      }
      for (const std::string& n : r.result.notes) {
        ctx.err() << "pcipass: note: " << n << "\n";
      }
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
