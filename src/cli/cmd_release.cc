// pcipass release --instance ID: frees every device the instance holds
// (never another instance's). With [claims] reattach_on_release = true the
// devices are first given back to their host drivers, while the ledger
// still says they are owned. Exit 0, or 1 when the instance holds nothing.
#include <CLI/CLI.hpp>

#include "binding/handoff.h"
#include "claims/service.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"

namespace pcipass::cli {

RunFn SetupReleaseCommand(CLI::App& sub) {
  auto instance = std::make_shared<std::string>();
  sub.add_option("--instance", *instance, "instance (VM) id")->required();
  return [instance](CommandContext& ctx) -> int {
    auto fail = [&](const Status& s) {
      return ReportError(s, ctx.json(), ctx.out(), ctx.err());
    };
    claims::SessionOptions so = ClaimsSessionOptions(ctx, true);
    // A claim killed mid-hand-off left a journal: roll it back first, even
    // without reattach_on_release, or the released devices would stay
    // half-bound while the ledger calls them available.
    so.recover_handoff = true;
    Result<claims::Session> session = claims::OpenSession(so);
    if (!session.ok()) return fail(session.status());
    claims::ReleaseOptions ro;
    ro.instance = *instance;
    ro.reattach = session->settings.reattach_on_release;
    const HostRoot host = session->host;
    const std::string state_dir = session->state_dir;
    ro.reattach_fn = [host, state_dir](const std::vector<PciAddress>& addrs,
                                       std::vector<std::string>* notes) {
      HandOffOptions h;
      h.state_dir = state_dir;
      h.whole_group = true;
      Result<HandOffReport> r = Reattach(host, addrs, h);
      if (!r.ok()) return r.status();
      for (const std::string& n : r->notes) notes->push_back(n);
      return Status::Ok();
    };
    const claims::Session& opened = *session;
    const std::string pci_ids = ctx.options().pci_ids;
    ro.rescan = [&opened, pci_ids] {
      return claims::RescanHost(opened, pci_ids);
    };
    Result<claims::ReleaseOutcome> out =
        claims::Release(*session->ledger, session->snapshot, ro);
    if (!out.ok()) return fail(out.status());
    out->notes.insert(out->notes.begin(), session->notes.begin(),
                      session->notes.end());
    WarnDrift(ctx, out->drift);
    if (ctx.json()) {
      nlohmann::json rel = nlohmann::json::array();
      for (const ClaimRecord& c : out->released) {
        rel.push_back(claims::ClaimJson(c));
      }
      nlohmann::json back = nlohmann::json::array();
      for (const PciAddress& a : out->reattached) back.push_back(a.ToString());
      ctx.out() << nlohmann::json{{"instance", *instance},
                                  {"released", rel},
                                  {"reattached", back},
                                  {"notes", out->notes},
                                  {"drift", claims::DriftJson(out->drift)}}
                       .dump(2)
                << "\n";
    } else {
      for (const ClaimRecord& c : out->released) {
        ctx.out() << "released " << c.address.ToString() << " (" << c.alias_name
                  << ") from " << c.instance << "\n";
      }
      for (const std::string& n : out->notes) {
        ctx.err() << "pcipass: note: " << n << "\n";
      }
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
