// PciDevice: everything pcipass knows about one PCI function, as read from
// sysfs by discovery. Values the kernel did not provide (missing or
// malformed files) are empty optionals, never guesses; discovery records a
// warning for each malformed file.
#ifndef PCIPASS_CORE_DEVICE_H_
#define PCIPASS_CORE_DEVICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"

namespace pcipass {

// Nova's device types. Do not renumber (persisted).
enum class DeviceType {
  kPci = 0,  // "type-PCI": plain device
  kPf = 1,   // "type-PF": SR-IOV physical function (has sriov_totalvfs > 0)
  kVf = 2,   // "type-VF": SR-IOV virtual function (has a physfn link)
};
std::string_view DeviceTypeName(DeviceType type);  // "type-PCI", ...
std::optional<DeviceType> ParseDeviceType(std::string_view name);

// Why the host depends on a device; such devices are never taken without
// --force.
struct HostUse {
  std::string kind;    // "netdev", "storage", "console", "bridge"
  std::string reason;  // "eth0 is up with address 10.0.0.5/24"
};

struct NetdevInfo {
  std::string name;
  std::optional<std::string> operstate;  // "up", "down", ...
  bool admin_up = false;                 // IFF_UP from flags
  std::vector<std::string> addresses;    // global/site addresses, CIDR
  bool has_route = false;                // appears in a routing table
  std::optional<std::string> master;     // bond/bridge it is enslaved to
};

struct PciDevice {
  PciAddress address;
  std::optional<uint16_t> vendor_id;
  std::optional<uint16_t> product_id;  // sysfs "device"
  std::optional<uint16_t> subsystem_vendor_id;
  std::optional<uint16_t> subsystem_product_id;
  std::optional<uint32_t> class_code;  // 24 bits: base, sub, prog-if
  std::optional<uint8_t> revision;
  std::string vendor_name;   // from pci.ids; empty if unknown
  std::string product_name;  // from pci.ids; empty if unknown
  std::string class_name;    // e.g. "Ethernet controller"

  std::optional<std::string> driver;           // bound driver name
  std::optional<std::string> driver_override;  // nullopt when "(null)"
  std::optional<int> iommu_group;              // nullopt: no IOMMU group
  std::optional<int> numa_node;                // nullopt when -1 / absent
  std::string local_cpulist;
  std::optional<std::string> current_link_speed;
  std::optional<int> current_link_width;
  std::optional<std::string> max_link_speed;
  std::optional<int> max_link_width;
  std::vector<std::string> reset_methods;  // reset_method, in kernel order
  bool reset_method_known = false;         // reset_method file was readable
  std::optional<bool> boot_vga;            // only on VGA-class devices
  std::optional<uint8_t> header_type;      // from config byte 0x0e & 0x7f

  std::vector<NetdevInfo> netdevs;            // net/<ifname>
  std::vector<std::string> block_devices;     // e.g. "nvme0n1", "sda"
  std::vector<std::string> nvme_controllers;  // e.g. "nvme0"

  // SR-IOV.
  std::optional<int> sriov_totalvfs;
  std::optional<int> sriov_numvfs;
  std::optional<uint16_t> sriov_vf_device;
  std::optional<bool> sriov_drivers_autoprobe;
  std::optional<PciAddress> physfn;  // set on VFs
  std::vector<PciAddress> virtfns;   // set on PFs, in virtfnN order

  DeviceType type = DeviceType::kPci;
  std::vector<HostUse> host_use;
  std::vector<std::string> warnings;  // malformed files etc.

  // Base class 0x06 (bridge) or a non-zero header type.
  bool IsBridge() const;
  // Parent PF address for VFs (the Nova parent_addr).
  std::optional<PciAddress> parent_addr() const { return physfn; }
};

}  // namespace pcipass

#endif  // PCIPASS_CORE_DEVICE_H_
