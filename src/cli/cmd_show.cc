// pcipass show ADDR: everything pcipass knows about one PCI function, and
// what the rules say about it. Exit 0; 1 if there is no such device or the
// config is invalid; 2 for a malformed address.
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "service/inventory_ops.h"

namespace pcipass::cli {

namespace {

std::string OrDash(const std::optional<std::string>& v) { return v ? *v : "-"; }
std::string OrDash(const std::optional<int>& v) {
  return v ? std::to_string(*v) : "-";
}
std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += out.empty() ? s : ", " + s;
  return out.empty() ? "-" : out;
}

}  // namespace

RunFn SetupShowCommand(CLI::App& sub) {
  auto address = std::make_shared<std::string>();
  sub.add_option("ADDR", *address, "PCI address, e.g. 0000:03:00.0")
      ->required();
  return [address](CommandContext& ctx) -> int {
    service::ShowReply r = service::ShowDevice(ctx.Env(), {*address});
    if (r.failed) return ReportFailure(r, ctx);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
      return kExitOk;
    }
    const PciDevice& dev = r.device;
    const Assessment& a = r.assessment;
    const nlohmann::ordered_json& j = r.json;
    const bool group = r.have_group;
    std::ostream& out = ctx.out();
    auto line = [&](const char* key, const std::string& value) {
      std::string k = std::string(key) + ":";
      k.resize(22, ' ');
      out << k << value << "\n";
    };
    auto s = [](const nlohmann::ordered_json& v) {
      return v.is_null() ? std::string("-") : v.get<std::string>();
    };
    line("address", dev.address.ToString());
    line("ids", s(j["vendor_id"]) + ":" + s(j["product_id"]) + " (subsystem " +
                    s(j["subsystem_vendor_id"]) + ":" +
                    s(j["subsystem_product_id"]) + ")");
    line("name", (dev.vendor_name + " " + dev.product_name));
    line("class", s(j["class"]) + " " + dev.class_name);
    line("driver", OrDash(dev.driver));
    line("driver_override", OrDash(dev.driver_override));
    line("iommu_group",
         OrDash(dev.iommu_group) +
             (group ? std::string(r.group_viable ? " (viable)"
                                                 : " (not viable)") +
                          " members: " +
                          Join(j["iommu_group_members"]
                                   .get<std::vector<std::string>>())
                    : std::string()));
    line("numa_node", OrDash(dev.numa_node));
    line("dev_type", std::string(DeviceTypeName(dev.type)));
    if (dev.physfn) line("parent_addr", dev.physfn->ToString());
    if (dev.sriov_totalvfs) {
      line("sriov", std::to_string(dev.sriov_numvfs.value_or(0)) + " of " +
                        std::to_string(*dev.sriov_totalvfs) + " VFs enabled");
    }
    if (!dev.virtfns.empty()) {
      line("vfs", Join(j["vfs"].get<std::vector<std::string>>()));
    }
    std::vector<std::string> netdevs;
    for (const NetdevInfo& n : dev.netdevs) netdevs.push_back(n.name);
    line("netdevs", Join(netdevs));
    if (!dev.block_devices.empty()) line("block", Join(dev.block_devices));
    line("reset_methods",
         dev.reset_method_known ? Join(dev.reset_methods) : "unknown");
    for (const HostUse& u : dev.host_use) {
      line("host_use", u.kind + ": " + u.reason);
    }
    line("allowed", a.allowed ? "yes, by " + a.spec_where : "no");
    if (!a.tags.empty()) line("tags", j["tags"].dump());
    line("assignable", a.assignable ? "yes" : "no");
    for (const Reason& r : a.reasons) {
      out << "  " << r.severity << " " << r.code << ": " << r.message << "\n"
          << "    fix: " << r.fix << "\n";
    }
    for (const std::string& w : dev.warnings) line("warning", w);
    return kExitOk;
  };
}

}  // namespace pcipass::cli
