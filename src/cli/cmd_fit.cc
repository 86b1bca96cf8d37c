// pcipass fit REQUEST: could this host satisfy the request now, and with
// which devices? Changes nothing (the ledger is read, never written; a
// missing ledger means nothing is claimed). Exit 0 when it fits, 1 when
// not (the output names the request and the step that failed).
#include <CLI/CLI.hpp>

#include "claims/fit.h"
#include "claims/numa.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "select/request.h"

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
    auto fail = [&](const Status& s) {
      return ReportError(s, ctx.json(), ctx.out(), ctx.err());
    };
    Result<claims::Session> session =
        claims::OpenSession(ClaimsSessionOptions(ctx, false));
    if (!session.ok()) return fail(session.status());
    NumaOverride numa;
    if (!o->numa_policy.empty()) numa.flavor = o->numa_policy;
    Result<std::vector<PciRequest>> reqs =
        ParsePciRequests(o->request, session->config.aliases, numa);
    if (!reqs.ok()) return fail(reqs.status());
    claims::FitOptions fopts;
    fopts.placement = session->settings.placement;
    if (!o->placement.empty()) {
      Result<claims::Placement> p = claims::ParsePlacement(o->placement);
      if (!p.ok()) return fail(p.status());
      fopts.placement = *p;
    }
    if (!o->numa_cells.empty()) {
      Result<std::vector<int>> cells = claims::ParseNumaCells(o->numa_cells);
      if (!cells.ok()) return fail(cells.status());
      fopts.numa_cells = *cells;
    }
    // The ledger as it would be after a reconcile, without writing it.
    std::vector<LedgerDevice> devices;
    if (session->ledger) {
      Status s = session->ledger->Transact([&](LedgerTxn& txn) -> Status {
        claims::ReconcileReport drift;
        PCIPASS_RETURN_IF_ERROR(
            claims::ReconcileIn(txn, session->snapshot, &drift));
        Result<std::vector<LedgerDevice>> d = txn.Devices();
        if (!d.ok()) return d.status();
        devices = std::move(*d);
        // Roll back: fit changes nothing.
        return Status::Conflict("read-only");
      });
      if (!s.ok() && s.message() != "read-only") return fail(s);
    } else {
      devices = claims::UnrecordedDevices(session->snapshot);
    }
    claims::FitResult fit = claims::Fit(
        claims::MakeFitHost(devices, session->snapshot), *reqs, fopts);
    if (ctx.json()) {
      ctx.out() << claims::FitJson(fit, fopts).dump(2) << "\n";
    } else {
      ctx.out() << (fit.ok ? "fits" : "does not fit") << "\n";
      PrintFitText(ctx.out(), fit);
    }
    return fit.ok ? kExitOk : kExitRefused;
  };
}

}  // namespace pcipass::cli
