// pcipass reconcile: compare the ledger with the host and record the
// drift: devices that vanished (held ones become removed, never re-pooled),
// ids/type/NUMA/group/driver changes, new devices allowed by the rules,
// host use starting or stopping. Every claims command does this first;
// this command prints it. Exit 0 (drift is information, not failure).
#include <CLI/CLI.hpp>

#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "service/claims_ops.h"

namespace pcipass::cli {

RunFn SetupReconcileCommand(CLI::App& /*sub*/) {
  return [](CommandContext& ctx) -> int {
    service::ReconcileReply r = service::Reconcile(ctx.Env(), {});
    if (r.failed) return ReportFailure(r, ctx);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
      return kExitOk;
    }
    if (r.drift.drift.empty()) {
      ctx.out() << "no drift: the ledger matches the host\n";
      return kExitOk;
    }
    Table t({"ADDRESS", "KIND", "DETAIL"});
    for (const claims::DriftItem& d : r.drift.drift) {
      t.AddRow({d.address.ToString(), d.kind, d.detail});
    }
    t.Print(ctx.out());
    return kExitOk;
  };
}

}  // namespace pcipass::cli
