// pcipass claims [--instance ID] [--devices]: what the ledger says each
// instance holds (after a reconcile with the host), and with --devices the
// state of every device in the ledger. Changes nothing on the host.
#include <CLI/CLI.hpp>

#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "service/claims_ops.h"

namespace pcipass::cli {

RunFn SetupClaimsCommand(CLI::App& sub) {
  struct Opts {
    std::string instance;
    bool devices = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--instance", o->instance, "only this instance's claims");
  sub.add_flag("--devices", o->devices,
               "also list every ledger device with its state");
  return [o](CommandContext& ctx) -> int {
    service::ClaimsReply r =
        service::ListClaims(ctx.Env(), {o->instance, o->devices});
    if (r.failed) return ReportFailure(r, ctx);
    WarnDrift(ctx, r.drift);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
      return kExitOk;
    }
    Table t({"INSTANCE", "ADDRESS", "ALIAS", "TYPE", "STATE", "SINCE"});
    for (const ClaimRecord& c : r.claims) {
      t.AddRow({c.instance, c.address.ToString(), c.alias_name,
                std::string(DeviceTypeName(c.dev_type)), c.state,
                claims::FormatTime(c.claimed_at_unix)});
    }
    t.Print(ctx.out());
    if (o->devices) {
      ctx.out() << "\n";
      Table d({"ADDRESS", "TYPE", "STATE", "OWNER", "REASON"});
      for (const LedgerDevice& x : r.devices) {
        d.AddRow({x.address.ToString(), std::string(DeviceTypeName(x.dev_type)),
                  std::string(DeviceStateName(x.state)), x.owner.value_or("-"),
                  x.reason});
      }
      d.Print(ctx.out());
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
