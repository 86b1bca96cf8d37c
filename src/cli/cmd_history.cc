// pcipass history [--device ADDR] [--instance ID] [--since T] [--until T]:
// the ledger's append-only event history, oldest first. Read-only.
#include <CLI/CLI.hpp>

#include "claims/session.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "service/claims_ops.h"

namespace pcipass::cli {

RunFn SetupHistoryCommand(CLI::App& sub) {
  struct Opts {
    std::string device, instance, since, until;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--device", o->device, "only events of this PCI address");
  sub.add_option("--instance", o->instance, "only events of this instance");
  sub.add_option("--since", o->since, "from this time (see docs/cli.md)");
  sub.add_option("--until", o->until, "before this time");
  return [o](CommandContext& ctx) -> int {
    service::HistoryReply r = service::History(
        ctx.Env(), {o->device, o->instance, o->since, o->until});
    if (r.failed) return ReportFailure(r, ctx);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
      return kExitOk;
    }
    Table t({"TIME", "KIND", "DEVICE", "INSTANCE", "CHANGE", "WHY", "WHO"});
    for (const Event& e : r.events) {
      std::string change;
      if (e.from_state || e.to_state) {
        change = e.from_state.value_or("?") + "->" + e.to_state.value_or("?");
      }
      t.AddRow({claims::FormatTime(e.at_unix), e.kind,
                e.address ? e.address->ToString() : "-",
                e.instance.value_or("-"), change, e.why, e.who});
    }
    t.Print(ctx.out());
    return kExitOk;
  };
}

}  // namespace pcipass::cli
