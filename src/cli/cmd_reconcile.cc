// pcipass reconcile: compare the ledger with the host and record the
// drift: devices that vanished (held ones become removed, never re-pooled),
// ids/type/NUMA/group/driver changes, new devices allowed by the rules,
// host use starting or stopping. Every claims command does this first;
// this command prints it. Exit 0 (drift is information, not failure).
#include <CLI/CLI.hpp>

#include "claims/service.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"

namespace pcipass::cli {

RunFn SetupReconcileCommand(CLI::App& /*sub*/) {
  return [](CommandContext& ctx) -> int {
    auto fail = [&](const Status& s) {
      return ReportError(s, ctx.json(), ctx.out(), ctx.err());
    };
    Result<claims::Session> session =
        claims::OpenSession(ClaimsSessionOptions(ctx, true));
    if (!session.ok()) return fail(session.status());
    Result<claims::ReconcileReport> drift =
        claims::Reconcile(*session->ledger, session->snapshot);
    if (!drift.ok()) return fail(drift.status());
    if (ctx.json()) {
      ctx.out() << nlohmann::json{{"drift", claims::DriftJson(*drift)}}.dump(2)
                << "\n";
      return kExitOk;
    }
    if (drift->drift.empty()) {
      ctx.out() << "no drift: the ledger matches the host\n";
      return kExitOk;
    }
    Table t({"ADDRESS", "KIND", "DETAIL"});
    for (const claims::DriftItem& d : drift->drift) {
      t.AddRow({d.address.ToString(), d.kind, d.detail});
    }
    t.Print(ctx.out());
    return kExitOk;
  };
}

}  // namespace pcipass::cli
