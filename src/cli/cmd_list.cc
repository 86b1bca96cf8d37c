// pcipass list: one row per PCI function with what the rules say about it:
// allowed (by which device_spec, with which tags) and assignable (or every
// reason it is not). Exit 0; 1 if the config is invalid.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/selection_view.h"

namespace pcipass::cli {

namespace {

struct ListFlags {
  bool allowed_only = false;
  bool assignable_only = false;
};

std::string Hex(const std::optional<uint16_t>& v) {
  nlohmann::json j = HexIdJson(v);
  return j.is_null() ? "????" : j.get<std::string>();
}

std::string TagsText(const TagMap& tags) {
  std::string out;
  for (const auto& [k, v] : tags) {
    if (!out.empty()) out += ",";
    out += k + "=" + (v ? *v : "null");
  }
  return out;
}

// Error codes, each once (a device the host uses in two ways has two
// host_uses_device reasons; `explain` shows both, the table one code).
std::string ReasonCodes(const Assessment& a) {
  std::vector<std::string> codes;
  for (const Reason& r : a.reasons) {
    if (r.severity != "error") continue;
    if (std::find(codes.begin(), codes.end(), r.code) == codes.end()) {
      codes.push_back(r.code);
    }
  }
  std::string out;
  for (const std::string& c : codes) out += (out.empty() ? "" : ",") + c;
  return out;
}

}  // namespace

RunFn SetupListCommand(CLI::App& sub) {
  auto flags = std::make_shared<ListFlags>();
  sub.add_flag("--allowed", flags->allowed_only,
               "only devices a device_spec selects");
  sub.add_flag("--assignable", flags->assignable_only,
               "only devices that can be given to a VM now");
  return [flags](CommandContext& ctx) -> int {
    Result<SelectionView> view = LoadSelectionView(ctx);
    if (!view.ok()) {
      return ReportError(view.status(), ctx.json(), ctx.out(), ctx.err());
    }
    if (!view->config.ok()) return ReportConfigErrors(view->config, ctx);
    if (!view->have_config && !ctx.json()) {
      ctx.err() << "pcipass: no --config given: no device is allowed (pass "
                   "--config FILE with [pci]device_spec entries)\n";
    }
    for (const std::string& w : view->config.warnings) {
      ctx.err() << "pcipass: warning: " << w << "\n";
    }
    // JSON is streamed, one device object per line: a host can have
    // thousands of functions (4,096+ with SR-IOV), and building one tree
    // and an indented string for all of them costs more than discovery.
    std::ostream& out = ctx.out();
    bool first_row = true;
    if (ctx.json()) {
      out << "{\"config\": "
          << (view->have_config
                  ? nlohmann::json(view->config.config.path).dump()
                  : std::string("null"))
          << ",\n\"devices\": [";
    }
    Table table({"ADDRESS", "IDS", "CLASS", "DRIVER", "GROUP", "NUMA", "TYPE",
                 "PF", "ALLOWED", "ASSIGNABLE", "NAME"});
    for (const PciDevice& dev : view->inventory.devices()) {
      Assessment a = view->AssessDevice(dev);
      if (flags->allowed_only && !a.allowed) continue;
      if (flags->assignable_only && !a.assignable) continue;
      if (ctx.json()) {
        out << (first_row ? "\n" : ",\n") << DeviceRowJson(dev, a).dump();
        first_row = false;
        continue;
      }
      std::string allowed = "no";
      if (a.allowed) {
        std::string tags = TagsText(a.tags);
        allowed = tags.empty() ? "yes" : "yes(" + tags + ")";
      }
      std::string name = dev.vendor_name;
      if (!dev.product_name.empty()) {
        name += (name.empty() ? "" : " ") + dev.product_name;
      }
      if (name.empty()) name = dev.class_name;
      table.AddRow({dev.address.ToString(),
                    Hex(dev.vendor_id) + ":" + Hex(dev.product_id),
                    dev.class_name.empty() ? "-" : dev.class_name,
                    dev.driver.value_or("-"),
                    dev.iommu_group ? std::to_string(*dev.iommu_group) : "-",
                    dev.numa_node ? std::to_string(*dev.numa_node) : "-",
                    std::string(DeviceTypeName(dev.type)),
                    dev.physfn ? dev.physfn->ToString() : "-", allowed,
                    a.assignable ? "yes" : "no: " + ReasonCodes(a), name});
    }
    if (ctx.json()) {
      nlohmann::json warnings = nlohmann::json::array();
      for (const std::string& w : view->config.warnings) warnings.push_back(w);
      for (const std::string& w : view->inventory.warnings()) {
        warnings.push_back(w);
      }
      out << "\n],\n\"warnings\": " << warnings.dump() << "}\n";
    } else {
      table.Print(ctx.out());
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
