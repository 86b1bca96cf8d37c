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
#include "cli/selection_view.h"
#include "select/alias.h"

namespace pcipass::cli {

namespace {

struct ExplainFlags {
  std::string address;
  std::string alias;
};

struct AliasVerdict {
  std::string name;
  bool satisfied = false;
  std::vector<std::string> mismatches;  // one per alias spec, if not
};

AliasVerdict JudgeAlias(const Alias& alias, const PciDevice& dev,
                        const Assessment& a) {
  AliasVerdict v;
  v.name = alias.name;
  if (!a.allowed) {
    v.mismatches.push_back("the device is not selected by any device_spec");
    return v;
  }
  for (const RequestSpec& spec : alias.specs) {
    std::optional<std::string> why = AliasSpecMismatch(dev, a.tags, spec);
    if (!why) {
      v.satisfied = true;
      v.mismatches.clear();
      return v;
    }
    v.mismatches.push_back(*why);
  }
  return v;
}

}  // namespace

RunFn SetupExplainCommand(CLI::App& sub) {
  auto flags = std::make_shared<ExplainFlags>();
  sub.add_option("ADDR", flags->address, "PCI address, e.g. 0000:03:00.0")
      ->required();
  sub.add_option("--alias", flags->alias,
                 "also say whether the device satisfies this [pci]alias");
  return [flags](CommandContext& ctx) -> int {
    Result<SelectionView> view = LoadSelectionView(ctx);
    if (!view.ok()) {
      return ReportError(view.status(), ctx.json(), ctx.out(), ctx.err());
    }
    if (!view->config.ok()) return ReportConfigErrors(view->config, ctx);
    Result<const PciDevice*> found = FindDevice(*view, flags->address);
    if (!found.ok()) {
      return ReportError(found.status(), ctx.json(), ctx.out(), ctx.err());
    }
    const PciDevice& dev = **found;
    const Config& cfg = view->config.config;
    const std::vector<DeviceSpec>& specs = cfg.device_specs;
    Assessment a = view->AssessDevice(dev);
    AllowDecision d = DecideAllowed(specs, dev, view->vpd, true);

    std::vector<AliasVerdict> verdicts;
    if (!flags->alias.empty()) {
      const Alias* alias = cfg.aliases.Find(flags->alias);
      if (alias == nullptr) {
        return ReportError(
            Status::NotFound(
                "PCI alias " + flags->alias + " is not defined in " +
                (view->have_config ? cfg.path : std::string("(no config)"))),
            ctx.json(), ctx.out(), ctx.err());
      }
      verdicts.push_back(JudgeAlias(*alias, dev, a));
    } else {
      for (const auto& [name, alias] : cfg.aliases.aliases()) {
        verdicts.push_back(JudgeAlias(alias, dev, a));
      }
    }
    bool ok =
        a.assignable && (flags->alias.empty() || verdicts.front().satisfied);

    if (ctx.json()) {
      nlohmann::json j;
      j["address"] = dev.address.ToString();
      j["config"] = view->have_config ? nlohmann::json(cfg.path)
                                      : nlohmann::json(nullptr);
      j["allowed"] = a.allowed;
      j["spec_index"] = a.spec_index ? nlohmann::json(*a.spec_index)
                                     : nlohmann::json(nullptr);
      j["spec"] = a.spec_where.empty() ? nlohmann::json(nullptr)
                                       : nlohmann::json(a.spec_where);
      j["tags"] = TagsJson(a.tags);
      nlohmann::json per = nlohmann::json::array();
      for (size_t i = 0; i < d.per_spec.size(); ++i) {
        const SpecMatch& m = d.per_spec[i];
        per.push_back({{"index", i},
                       {"where", specs[i].where()},
                       {"spec", specs[i].raw()},
                       {"matched", m.matched},
                       {"selected", d.spec_index && *d.spec_index == i},
                       {"failed_key", m.matched ? nlohmann::json(nullptr)
                                                : nlohmann::json(m.key)},
                       {"detail", m.matched ? nlohmann::json(nullptr)
                                            : nlohmann::json(m.detail)}});
      }
      j["specs"] = per;
      nlohmann::json aliases = nlohmann::json::array();
      for (const AliasVerdict& v : verdicts) {
        aliases.push_back({{"name", v.name},
                           {"satisfied", v.satisfied},
                           {"mismatches", v.mismatches}});
      }
      j["aliases"] = aliases;
      j["assignable"] = a.assignable;
      j["reasons"] = ReasonsJson(a.reasons);
      ctx.out() << j.dump(2) << "\n";
      return ok ? kExitOk : kExitRefused;
    }

    std::ostream& out = ctx.out();
    nlohmann::json vid = HexIdJson(dev.vendor_id),
                   pid = HexIdJson(dev.product_id);
    out << dev.address.ToString() << "  "
        << (vid.is_null() ? "????" : vid.get<std::string>()) << ":"
        << (pid.is_null() ? "????" : pid.get<std::string>()) << "  "
        << DeviceTypeName(dev.type);
    if (dev.physfn) out << " of PF " << dev.physfn->ToString();
    out << "  driver " << dev.driver.value_or("none") << "\n\n";

    if (!view->have_config) {
      out << "Selection: no --config given, so no device is allowed.\n";
    } else if (specs.empty()) {
      out << "Selection: " << cfg.path
          << " has no [pci]device_spec entries, so no device is allowed.\n";
    } else {
      out << "Selection (" << cfg.path << ", first match wins):\n";
      for (size_t i = 0; i < d.per_spec.size(); ++i) {
        const SpecMatch& m = d.per_spec[i];
        out << "  " << specs[i].where() << " " << specs[i].raw() << "\n    ";
        if (d.spec_index && *d.spec_index == i) {
          out << "MATCH: selects the device";
          if (!a.tags.empty()) out << " with tags " << TagsJson(a.tags).dump();
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
      for (const AliasVerdict& v : verdicts) {
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
    return ok ? kExitOk : kExitRefused;
  };
}

}  // namespace pcipass::cli
