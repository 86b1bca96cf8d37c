#include "core/iommu.h"

#include <algorithm>

#include "core/sysfs.h"

namespace pcipass {

bool DriverKeepsGroupViable(const std::optional<std::string>& driver,
                            bool has_vfio_dev_dir) {
  if (!driver) return true;
  if (has_vfio_dev_dir) return true;
  return *driver == "vfio-pci" || *driver == "pci-stub" ||
         *driver == "pcieport";
}

namespace internal {

bool HasDirectRegion(std::string_view reserved_regions) {
  size_t pos = 0;
  while (pos < reserved_regions.size()) {
    size_t end = reserved_regions.find('\n', pos);
    if (end == std::string_view::npos) end = reserved_regions.size();
    std::string_view line = reserved_regions.substr(pos, end - pos);
    auto sp = line.rfind(' ');
    if (sp != std::string_view::npos && line.substr(sp + 1) == "direct") {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

IommuGroup EvaluateGroupWith(
    const IommuGroup& group,
    const std::function<const PciDevice*(const PciAddress&)>& find,
    const std::map<PciAddress, std::optional<std::string>>& driver_overrides,
    const std::set<PciAddress>* vfio_dev) {
  IommuGroup out = group;
  out.blockers.clear();
  for (const PciAddress& a : group.members) {
    const PciDevice* dev = find(a);
    auto ov = driver_overrides.find(a);
    if (!dev && ov == driver_overrides.end()) {
      out.blockers.push_back(a.ToString() + " (unknown device)");
      continue;
    }
    std::optional<std::string> driver =
        ov != driver_overrides.end() ? ov->second : dev->driver;
    bool vfio;
    if (ov == driver_overrides.end() && vfio_dev) {
      vfio = vfio_dev->count(a) > 0;
    } else {
      // Planning, or no vfio-dev knowledge: vfio-pci variant drivers are
      // named "<vendor>_vfio_pci" / "<x>-vfio-pci".
      vfio = driver && driver->find("vfio") != std::string::npos;
    }
    if (!DriverKeepsGroupViable(driver, vfio)) {
      out.blockers.push_back(a.ToString() + " (" + *driver + ")");
    }
  }
  for (const std::string& n : group.non_pci_members) {
    out.blockers.push_back(n + " (non-PCI member)");
  }
  out.viable = out.blockers.empty() && !out.members.empty();
  return out;
}

}  // namespace internal

IommuGroup EvaluateGroup(
    const IommuGroup& group, const Inventory& inv,
    const std::map<PciAddress, std::optional<std::string>>& driver_overrides) {
  return internal::EvaluateGroupWith(
      group, [&inv](const PciAddress& a) { return inv.Find(a); },
      driver_overrides, nullptr);
}

Result<IommuGroup> ReadIommuGroup(const HostRoot& host, int id) {
  IommuGroup g;
  g.id = id;
  const auto dir = host.IommuGroupDir(id);
  auto members = sysfs::ListDir(dir / "devices");
  if (!members.ok()) {
    return members.status().WithContext("read IOMMU group " +
                                        std::to_string(id));
  }
  for (const std::string& m : *members) {
    auto a = PciAddress::Parse(m);
    if (a.ok()) {
      g.members.push_back(*a);
    } else {
      g.non_pci_members.push_back(m);
    }
  }
  std::sort(g.members.begin(), g.members.end());
  g.type = sysfs::ReadOptional(dir / "type");
  if (auto rr = sysfs::ReadOptional(dir / "reserved_regions")) {
    g.has_direct_region = internal::HasDirectRegion(*rr);
  }
  if (auto name = sysfs::ReadOptional(dir / "name")) {
    g.noiommu = *name == "vfio-noiommu";
  }
  return g;
}

}  // namespace pcipass
