// pcipass usage --since T [--until T]: device-hours per instance and per
// alias from the ledger's history (claim to release/rollback/vanish,
// clipped to the window; devices still held count up to --until, default
// now). Read-only.
#include <CLI/CLI.hpp>

#include "claims/session.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "service/claims_ops.h"

namespace pcipass::cli {

RunFn SetupUsageCommand(CLI::App& sub) {
  struct Opts {
    std::string since, until;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--since", o->since,
                 "start: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, @unix, 24h, 7d")
      ->required();
  sub.add_option("--until", o->until, "end (default: now)");
  return [o](CommandContext& ctx) -> int {
    service::UsageReply r = service::Usage(ctx.Env(), {o->since, o->until});
    if (r.failed) return ReportFailure(r, ctx);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
      return kExitOk;
    }
    const claims::UsageReport& rep = r.usage;
    ctx.out() << "usage " << claims::FormatTime(rep.since_unix) << " .. "
              << claims::FormatTime(rep.until_unix) << "\n";
    Table t({"BY", "KEY", "DEVICE_HOURS", "DEVICES"});
    char buf[32];
    for (const claims::UsageRow& row : rep.by_instance) {
      snprintf(buf, sizeof buf, "%.2f", row.device_hours);
      t.AddRow({"instance", row.key, buf, std::to_string(row.devices)});
    }
    for (const claims::UsageRow& row : rep.by_alias) {
      snprintf(buf, sizeof buf, "%.2f", row.device_hours);
      t.AddRow({"alias", row.key, buf, std::to_string(row.devices)});
    }
    t.Print(ctx.out());
    return kExitOk;
  };
}

}  // namespace pcipass::cli
