// pcipass claims [--instance ID] [--devices]: what the ledger says each
// instance holds (after a reconcile with the host), and with --devices the
// state of every device in the ledger. Changes nothing on the host.
#include <CLI/CLI.hpp>

#include "claims/service.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"

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
    auto fail = [&](const Status& s) {
      return ReportError(s, ctx.json(), ctx.out(), ctx.err());
    };
    Result<claims::Session> session =
        claims::OpenSession(ClaimsSessionOptions(ctx, false));
    if (!session.ok()) return fail(session.status());
    std::vector<ClaimRecord> list;
    std::vector<LedgerDevice> devices;
    if (session->ledger) {
      Result<claims::ReconcileReport> drift =
          claims::Reconcile(*session->ledger, session->snapshot);
      if (!drift.ok()) return fail(drift.status());
      WarnDrift(ctx, *drift);
      std::optional<std::string> inst;
      if (!o->instance.empty()) inst = o->instance;
      Result<std::vector<ClaimRecord>> c = session->ledger->ListClaims(inst);
      if (!c.ok()) return fail(c.status());
      list = std::move(*c);
      Result<std::vector<LedgerDevice>> d = session->ledger->ListDevices();
      if (!d.ok()) return fail(d.status());
      devices = std::move(*d);
    }
    std::map<std::string, int> summary;
    for (const char* s : {"available", "claimed", "allocated", "unavailable",
                          "reserved", "removed"}) {
      summary[s] = 0;
    }
    for (const LedgerDevice& d : devices) {
      summary[std::string(DeviceStateName(d.state))]++;
    }
    if (ctx.json()) {
      nlohmann::json arr = nlohmann::json::array();
      for (const ClaimRecord& c : list) arr.push_back(claims::ClaimJson(c));
      nlohmann::json j = {{"claims", arr}, {"summary", summary}};
      if (o->devices) {
        nlohmann::json devs = nlohmann::json::array();
        for (const LedgerDevice& d : devices) {
          devs.push_back(claims::DeviceStateJson(d));
        }
        j["devices"] = devs;
      } else {
        j["devices"] = nullptr;
      }
      ctx.out() << j.dump(2) << "\n";
      return kExitOk;
    }
    Table t({"INSTANCE", "ADDRESS", "ALIAS", "TYPE", "STATE", "SINCE"});
    for (const ClaimRecord& c : list) {
      t.AddRow({c.instance, c.address.ToString(), c.alias_name,
                std::string(DeviceTypeName(c.dev_type)), c.state,
                claims::FormatTime(c.claimed_at_unix)});
    }
    t.Print(ctx.out());
    if (o->devices) {
      ctx.out() << "\n";
      Table d({"ADDRESS", "TYPE", "STATE", "OWNER", "REASON"});
      for (const LedgerDevice& r : devices) {
        d.AddRow({r.address.ToString(), std::string(DeviceTypeName(r.dev_type)),
                  std::string(DeviceStateName(r.state)), r.owner.value_or("-"),
                  r.reason});
      }
      d.Print(ctx.out());
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
