#include "service/device_json.h"

#include <fmt/format.h>

#include <cstdio>

namespace pcipass::service {

using nlohmann::json;

namespace {

template <typename T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json NonEmpty(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

std::string Hex(uint32_t v, int width) {
  return fmt::format("{:0{}x}", v, width);
}

}  // namespace

json HexIdJson(const std::optional<uint16_t>& id) {
  return id ? json(Hex(*id, 4)) : json(nullptr);
}

json ClassJson(const std::optional<uint32_t>& class_code) {
  return class_code ? json(Hex(*class_code, 6)) : json(nullptr);
}

json DeviceJson(const PciDevice& dev) {
  json j;
  j["address"] = dev.address.ToString();
  j["vendor_id"] = HexIdJson(dev.vendor_id);
  j["product_id"] = HexIdJson(dev.product_id);
  j["subsystem_vendor_id"] = HexIdJson(dev.subsystem_vendor_id);
  j["subsystem_product_id"] = HexIdJson(dev.subsystem_product_id);
  j["revision"] = dev.revision ? json(Hex(*dev.revision, 2)) : json(nullptr);
  j["class"] = ClassJson(dev.class_code);
  j["class_name"] = NonEmpty(dev.class_name);
  j["vendor_name"] = NonEmpty(dev.vendor_name);
  j["product_name"] = NonEmpty(dev.product_name);
  j["driver"] = Opt(dev.driver);
  j["driver_override"] = Opt(dev.driver_override);
  j["iommu_group"] = Opt(dev.iommu_group);
  j["numa_node"] = Opt(dev.numa_node);
  j["local_cpulist"] = NonEmpty(dev.local_cpulist);
  j["link"] = {{"current_speed", Opt(dev.current_link_speed)},
               {"current_width", Opt(dev.current_link_width)},
               {"max_speed", Opt(dev.max_link_speed)},
               {"max_width", Opt(dev.max_link_width)}};
  j["dev_type"] = std::string(DeviceTypeName(dev.type));
  j["parent_addr"] = dev.physfn ? json(dev.physfn->ToString()) : json(nullptr);
  json vfs = json::array();
  for (const PciAddress& v : dev.virtfns) vfs.push_back(v.ToString());
  j["vfs"] = std::move(vfs);
  j["sriov_totalvfs"] = Opt(dev.sriov_totalvfs);
  j["sriov_numvfs"] = Opt(dev.sriov_numvfs);
  j["sriov_vf_device"] = HexIdJson(dev.sriov_vf_device);
  j["sriov_drivers_autoprobe"] = Opt(dev.sriov_drivers_autoprobe);
  json netdevs = json::array();
  for (const NetdevInfo& n : dev.netdevs) {
    netdevs.push_back({{"name", n.name},
                       {"operstate", Opt(n.operstate)},
                       {"admin_up", n.admin_up},
                       {"addresses", n.addresses},
                       {"has_route", n.has_route},
                       {"master", Opt(n.master)}});
  }
  j["netdevs"] = std::move(netdevs);
  j["block_devices"] = dev.block_devices;
  j["nvme_controllers"] = dev.nvme_controllers;
  j["reset_methods"] =
      dev.reset_method_known ? json(dev.reset_methods) : json(nullptr);
  j["boot_vga"] = Opt(dev.boot_vga);
  json use = json::array();
  for (const HostUse& u : dev.host_use) {
    use.push_back({{"kind", u.kind}, {"reason", u.reason}});
  }
  j["host_use"] = std::move(use);
  j["warnings"] = dev.warnings;
  return j;
}

json GroupJson(const IommuGroup& group, const Inventory& inv) {
  json members = json::array();
  for (const PciAddress& a : group.members) {
    const PciDevice* d = inv.Find(a);
    members.push_back(
        {{"address", a.ToString()},
         {"driver", d ? Opt(d->driver) : json(nullptr)},
         {"class_name", d ? NonEmpty(d->class_name) : json(nullptr)},
         {"vendor_id", d ? HexIdJson(d->vendor_id) : json(nullptr)},
         {"product_id", d ? HexIdJson(d->product_id) : json(nullptr)}});
  }
  return {{"id", group.id},
          {"viable", group.viable},
          {"blockers", group.blockers},
          {"noiommu", group.noiommu},
          {"type", Opt(group.type)},
          {"has_direct_region", group.has_direct_region},
          {"members", std::move(members)},
          {"non_pci_members", group.non_pci_members}};
}

}  // namespace pcipass::service
