// JSON views of the inventory model, shared by `list`, `show`, `explain`
// and `groups` so every command spells a device the same way.
//
// Field names are stable snake_case (docs/cli.md). Ids are lower-case hex
// without 0x: 4 digits for vendor/product/subsystem ids, 6 for the class,
// 2 for the revision. A value the kernel did not give us (missing or
// malformed sysfs file, empty name) is null, never "" or a guess.
#ifndef PCIPASS_SERVICE_DEVICE_JSON_H_
#define PCIPASS_SERVICE_DEVICE_JSON_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/device.h"
#include "core/inventory.h"

namespace pcipass::service {

// "8086" / null.
nlohmann::json HexIdJson(const std::optional<uint16_t>& id);
// "020000" / null.
nlohmann::json ClassJson(const std::optional<uint32_t>& class_code);

// Every inventory field of |dev|: address, vendor_id, product_id,
// subsystem_vendor_id, subsystem_product_id, revision, class, class_name,
// vendor_name, product_name, driver, driver_override, iommu_group,
// numa_node, local_cpulist, link, dev_type, parent_addr, vfs,
// sriov_totalvfs, sriov_numvfs, sriov_vf_device, sriov_drivers_autoprobe,
// netdevs, block_devices, nvme_controllers, reset_methods, boot_vga,
// host_use, warnings. Selection fields (allowed, tags, assignable,
// reasons) are added by the commands that evaluate rules.
nlohmann::json DeviceJson(const PciDevice& dev);

// One group: id, viable, blockers, noiommu, type, has_direct_region,
// members [{address, driver, class_name, vendor_id, product_id}],
// non_pci_members.
nlohmann::json GroupJson(const IommuGroup& group, const Inventory& inv);

}  // namespace pcipass::service

#endif  // PCIPASS_SERVICE_DEVICE_JSON_H_
