// Inventory: one snapshot of the host's PCI functions and IOMMU groups.
//
// Built by discovery (discovery.h) from sysfs; immutable afterwards. Devices
// are sorted by address; lookups are by address. Groups are first-class:
// each knows its members and whether VFIO could use it now (viability).
#ifndef PCIPASS_CORE_INVENTORY_H_
#define PCIPASS_CORE_INVENTORY_H_

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/address.h"
#include "core/device.h"

namespace pcipass {

struct IommuGroup {
  int id = -1;
  std::vector<PciAddress> members;           // PCI members, sorted
  std::vector<std::string> non_pci_members;  // e.g. platform devices
  std::optional<std::string> type;           // "DMA", "identity", ...
  bool noiommu = false;                      // fake group, name "vfio-noiommu"
  bool has_direct_region = false;  // reserved_regions has "direct" (RMRR)
  // Viable for VFIO by the kernel's rule: every member unbound or on
  // vfio-pci (or a variant), pci-stub or pcieport.
  bool viable = false;
  // Members that make it non-viable, as "0000:05:01.0 (e1000)".
  std::vector<std::string> blockers;
};

class Inventory {
 public:
  Inventory() = default;
  Inventory(std::vector<PciDevice> devices, std::map<int, IommuGroup> groups,
            std::vector<std::string> warnings);

  const std::vector<PciDevice>& devices() const { return devices_; }
  const std::map<int, IommuGroup>& groups() const { return groups_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // nullptr if no device has |addr|.
  const PciDevice* Find(const PciAddress& addr) const;
  // nullptr if |id| is not a group.
  const IommuGroup* FindGroup(int id) const;
  // The group of |dev|, or nullptr if it has none.
  const IommuGroup* GroupOf(const PciDevice& dev) const;

 private:
  std::vector<PciDevice> devices_;
  std::map<int, IommuGroup> groups_;
  std::vector<std::string> warnings_;
  std::unordered_map<PciAddress, size_t> index_;
};

}  // namespace pcipass

#endif  // PCIPASS_CORE_INVENTORY_H_
