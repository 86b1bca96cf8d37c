// IOMMU groups: the unit of isolation VFIO hands to a VM.
//
// The kernel (>= 5.19, DMA-ownership model) lets VFIO claim a group only if
// no member is bound to a driver that does kernel DMA. Drivers that declare
// driver_managed_dma do not count: vfio-pci and its variants (recognised by
// the vfio-dev/ directory they create), pci-stub and pcieport. Unbound
// members do not count either. A group with any other driver on any member
// is not viable, and VFIO_GROUP_SET_CONTAINER fails with EPERM (the lab saw
// exactly this on the bridge group). See kernel-vfio-reference.md 3.1.
//
// Groups named "vfio-noiommu" are fake groups vfio creates in unsafe
// no-IOMMU mode: no isolation at all; they are flagged, never trusted.
#ifndef PCIPASS_CORE_IOMMU_H_
#define PCIPASS_CORE_IOMMU_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/address.h"
#include "core/host_root.h"
#include "core/inventory.h"

namespace pcipass {

// True when a member with |driver| (nullopt = unbound) leaves its group
// viable: unbound, "vfio-pci", any driver whose device has a vfio-dev/
// directory (variant drivers), "pci-stub" or "pcieport".
bool DriverKeepsGroupViable(const std::optional<std::string>& driver,
                            bool has_vfio_dev_dir);

// Recomputes viability and blockers of |group| from the members' drivers in
// |inv|, with |driver_overrides| replacing the driver of listed members
// (planning: "what if I move X to vfio-pci / unbind it"; an override value
// of nullopt means unbound). Members missing from |inv| are treated as
// blockers ("ADDR (unknown device)"): a group whose members we cannot see
// must not be called viable. Non-PCI members also block (the kernel
// requires them to be driver-less and sysfs does not tell us cheaply).
// Returns a copy of |group| with viable/blockers set.
IommuGroup EvaluateGroup(const IommuGroup& group, const Inventory& inv,
                         const std::map<PciAddress, std::optional<std::string>>&
                             driver_overrides = {});

// Reads sys/kernel/iommu_groups/<id> (members, type, reserved_regions,
// name) under |host|. Viability is not computed here (it needs the
// members' drivers; discovery calls EvaluateGroup). NotFound if the group
// directory is absent.
Result<IommuGroup> ReadIommuGroup(const HostRoot& host, int id);

namespace internal {
// EvaluateGroup over any device lookup; |vfio_dev| (optional) lists the
// devices that really have a vfio-dev/ directory (discovery knows; without
// it a driver name containing "vfio" stands for a vfio-pci variant).
IommuGroup EvaluateGroupWith(
    const IommuGroup& group,
    const std::function<const PciDevice*(const PciAddress&)>& find,
    const std::map<PciAddress, std::optional<std::string>>& driver_overrides,
    const std::set<PciAddress>* vfio_dev);
// True if a reserved_regions text has a "direct" (non-relaxable) line.
bool HasDirectRegion(std::string_view reserved_regions);
}  // namespace internal

}  // namespace pcipass

#endif  // PCIPASS_CORE_IOMMU_H_
