// pcipass list: one row per PCI function with what the rules say about it:
// allowed (by which device_spec, with which tags) and assignable (or every
// reason it is not). Exit 0; 1 if the config is invalid.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "service/device_json.h"
#include "service/inventory_ops.h"

namespace pcipass::cli {

namespace {

struct ListFlags {
  bool allowed_only = false;
  bool assignable_only = false;
};

std::string Hex(const std::optional<uint16_t>& v) {
  nlohmann::json j = service::HexIdJson(v);
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
    service::DevicesParams params;
    params.allowed_only = flags->allowed_only;
    params.assignable_only = flags->assignable_only;
    service::DevicesReply r = service::ListDevices(ctx.Env(), params);
    if (r.failed) return ReportFailure(r, ctx);
    if (!r.have_config && !ctx.json()) {
      ctx.err() << "pcipass: no --config given: no device is allowed (pass "
                   "--config FILE with [pci]device_spec entries)\n";
    }
    for (const std::string& w : r.config_warnings) {
      ctx.err() << "pcipass: warning: " << w << "\n";
    }
    std::ostream& out = ctx.out();
    if (ctx.json()) {
      // One device object per line: a host can have thousands of
      // functions (4,096+ with SR-IOV), and an indented dump of them all
      // is both slow and unreadable.
      out << "{\"config\": " << r.json["config"].dump() << ",\n\"devices\": [";
      bool first_row = true;
      for (const auto& row : r.json["devices"]) {
        out << (first_row ? "\n" : ",\n") << row.dump();
        first_row = false;
      }
      out << "\n],\n\"warnings\": " << r.json["warnings"].dump() << "}\n";
      return kExitOk;
    }
    Table table({"ADDRESS", "IDS", "CLASS", "DRIVER", "GROUP", "NUMA", "TYPE",
                 "PF", "ALLOWED", "ASSIGNABLE", "NAME"});
    for (const service::DeviceRow& row : r.rows) {
      const PciDevice& dev = row.device;
      const Assessment& a = row.assessment;
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
    table.Print(ctx.out());
    return kExitOk;
  };
}

}  // namespace pcipass::cli
