// pcipass history [--device ADDR] [--instance ID] [--since T] [--until T]:
// the ledger's append-only event history, oldest first. Read-only.
#include <CLI/CLI.hpp>
#include <filesystem>

#include "claims/session.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"

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
    auto fail = [&](const Status& s) {
      return ReportError(s, ctx.json(), ctx.out(), ctx.err());
    };
    EventFilter f;
    if (!o->device.empty()) {
      Result<PciAddress> a = PciAddress::Parse(o->device);
      if (!a.ok()) return fail(a.status());
      f.address = *a;
    }
    if (!o->instance.empty()) f.instance = o->instance;
    int64_t now = claims::NowUnix();
    if (!o->since.empty()) {
      Result<int64_t> t = claims::ParseTime(o->since, now);
      if (!t.ok()) return fail(t.status());
      f.since_unix = *t;
    }
    if (!o->until.empty()) {
      Result<int64_t> t = claims::ParseTime(o->until, now);
      if (!t.ok()) return fail(t.status());
      f.until_unix = *t;
    }
    std::string path = claims::LedgerPath(ctx.StateDir());
    std::vector<Event> events;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      Result<std::unique_ptr<Ledger>> l = Ledger::OpenSqlite(path);
      if (!l.ok()) return fail(l.status());
      Result<std::vector<Event>> ev = (*l)->ListEvents(f);
      if (!ev.ok()) return fail(ev.status());
      events = std::move(*ev);
    }
    if (ctx.json()) {
      nlohmann::json arr = nlohmann::json::array();
      for (const Event& e : events) arr.push_back(claims::EventJson(e));
      ctx.out() << nlohmann::json{{"events", arr}}.dump(2) << "\n";
      return kExitOk;
    }
    Table t({"TIME", "KIND", "DEVICE", "INSTANCE", "CHANGE", "WHY", "WHO"});
    for (const Event& e : events) {
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
