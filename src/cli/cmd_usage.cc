// pcipass usage --since T [--until T]: device-hours per instance and per
// alias from the ledger's history (claim to release/rollback/vanish,
// clipped to the window; devices still held count up to --until, default
// now). Read-only.
#include <CLI/CLI.hpp>
#include <filesystem>

#include "claims/service.h"
#include "claims/session.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"

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
    auto fail = [&](const Status& s) {
      return ReportError(s, ctx.json(), ctx.out(), ctx.err());
    };
    int64_t now = claims::NowUnix();
    Result<int64_t> since = claims::ParseTime(o->since, now);
    if (!since.ok()) return fail(since.status());
    int64_t until = now;
    if (!o->until.empty()) {
      Result<int64_t> u = claims::ParseTime(o->until, now);
      if (!u.ok()) return fail(u.status());
      until = *u;
    }
    if (until <= *since) {
      return fail(Status::InvalidArgument(
          "--until " + claims::FormatTime(until) + " is not after --since " +
          claims::FormatTime(*since)));
    }
    std::vector<Event> events;
    std::string path = claims::LedgerPath(ctx.StateDir());
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      Result<std::unique_ptr<Ledger>> l = Ledger::OpenSqlite(path);
      if (!l.ok()) return fail(l.status());
      EventFilter f;
      f.until_unix = until;
      Result<std::vector<Event>> ev = (*l)->ListEvents(f);
      if (!ev.ok()) return fail(ev.status());
      events = std::move(*ev);
    }
    claims::UsageReport rep = claims::ComputeUsage(events, *since, until);
    if (ctx.json()) {
      ctx.out() << claims::UsageJson(rep).dump(2) << "\n";
      return kExitOk;
    }
    ctx.out() << "usage " << claims::FormatTime(rep.since_unix) << " .. "
              << claims::FormatTime(rep.until_unix) << "\n";
    Table t({"BY", "KEY", "DEVICE_HOURS", "DEVICES"});
    char buf[32];
    for (const claims::UsageRow& r : rep.by_instance) {
      snprintf(buf, sizeof buf, "%.2f", r.device_hours);
      t.AddRow({"instance", r.key, buf, std::to_string(r.devices)});
    }
    for (const claims::UsageRow& r : rep.by_alias) {
      snprintf(buf, sizeof buf, "%.2f", r.device_hours);
      t.AddRow({"alias", r.key, buf, std::to_string(r.devices)});
    }
    t.Print(ctx.out());
    return kExitOk;
  };
}

}  // namespace pcipass::cli
