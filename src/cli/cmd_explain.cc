// pcipass explain ADDR [--alias NAME]: why a device is or is not selected
// and assignable: every device_spec's verdict (the first key that failed),
// which aliases it satisfies, and every reason it cannot go to a VM with
// its fix. Exit 0 when the device is assignable (and satisfies --alias if
// given), 1 when it is not, or the config is invalid or the device unknown.
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "service/device_json.h"
#include "service/inventory_ops.h"
#include "service/selection_view.h"

namespace pcipass::cli {

namespace {

struct ExplainFlags {
  std::string address;
  std::string alias;
};

}  // namespace

RunFn SetupExplainCommand(CLI::App& sub) {
  auto flags = std::make_shared<ExplainFlags>();
  sub.add_option("ADDR", flags->address, "PCI address, e.g. 0000:03:00.0")
      ->required();
  sub.add_option("--alias", flags->alias,
                 "also say whether the device satisfies this [pci]alias");
  return [flags](CommandContext& ctx) -> int {
    service::ExplainReply r =
        service::Explain(ctx.Env(), {flags->address, flags->alias});
    if (r.failed) return ReportFailure(r, ctx);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
      return r.ExitCode();
    }
    const PciDevice& dev = r.device;
    const Assessment& a = r.assessment;
    const AllowDecision& d = r.decision;
    const std::vector<DeviceSpec>& specs = r.specs;
    const std::vector<service::AliasVerdict>& verdicts = r.verdicts;
    std::ostream& out = ctx.out();
    nlohmann::json vid = service::HexIdJson(dev.vendor_id),
                   pid = service::HexIdJson(dev.product_id);
    out << dev.address.ToString() << "  "
        << (vid.is_null() ? "????" : vid.get<std::string>()) << ":"
        << (pid.is_null() ? "????" : pid.get<std::string>()) << "  "
        << DeviceTypeName(dev.type);
    if (dev.physfn) out << " of PF " << dev.physfn->ToString();
    out << "  driver " << dev.driver.value_or("none") << "\n\n";

    if (!r.have_config) {
      out << "Selection: no --config given, so no device is allowed.\n";
    } else if (specs.empty()) {
      out << "Selection: " << r.config_path
          << " has no [pci]device_spec entries, so no device is allowed.\n";
    } else {
      out << "Selection (" << r.config_path << ", first match wins):\n";
      for (size_t i = 0; i < d.per_spec.size(); ++i) {
        const SpecMatch& m = d.per_spec[i];
        out << "  " << specs[i].where() << " " << specs[i].raw() << "\n    ";
        if (d.spec_index && *d.spec_index == i) {
          out << "MATCH: selects the device";
          if (!a.tags.empty()) {
            out << " with tags " << service::TagsJson(a.tags).dump();
          }
          out << "\n";
        } else if (m.matched) {
          out << "would match, but an earlier entry already did (its tags "
                 "are not used)\n";
        } else {
          out << "no match: " << m.key << ": " << m.detail << "\n";
        }
      }
    }
    if (!verdicts.empty()) {
      out << "\nAliases:\n";
      for (const service::AliasVerdict& v : verdicts) {
        out << "  " << v.name << ": "
            << (v.satisfied ? "satisfied" : "not satisfied") << "\n";
        for (const std::string& m : v.mismatches) {
          out << "    " << m << "\n";
        }
      }
    }
    out << "\nAssignable: " << (a.assignable ? "yes" : "no") << "\n";
    for (const Reason& r : a.reasons) {
      out << "  " << r.severity << " " << r.code << ": " << r.message << "\n"
          << "    fix: " << r.fix << "\n";
    }
    return r.ExitCode();
  };
}

}  // namespace pcipass::cli
