#include "core/inventory.h"

#include <algorithm>

namespace pcipass {

Inventory::Inventory(std::vector<PciDevice> devices,
                     std::map<int, IommuGroup> groups,
                     std::vector<std::string> warnings)
    : devices_(std::move(devices)),
      groups_(std::move(groups)),
      warnings_(std::move(warnings)) {
  std::sort(devices_.begin(), devices_.end(),
            [](const PciDevice& a, const PciDevice& b) {
              return a.address < b.address;
            });
  index_.reserve(devices_.size());
  for (size_t i = 0; i < devices_.size(); ++i) {
    index_[devices_[i].address] = i;
  }
}

const PciDevice* Inventory::Find(const PciAddress& addr) const {
  auto it = index_.find(addr);
  return it == index_.end() ? nullptr : &devices_[it->second];
}

const IommuGroup* Inventory::FindGroup(int id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : &it->second;
}

const IommuGroup* Inventory::GroupOf(const PciDevice& dev) const {
  if (!dev.iommu_group) return nullptr;
  return FindGroup(*dev.iommu_group);
}

}  // namespace pcipass
