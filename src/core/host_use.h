// Host use: which PCI devices the host itself depends on right now.
//
// Taking such a device from the host cuts off the host's network, pulls
// its disks from under mounted filesystems, or blanks its console, so later
// layers refuse them without --force. A device is marked when:
//  * netdev: one of its network interfaces is up (IFF_UP or operstate up)
//    and has a global address (proc/net/if_inet6, or getifaddrs on the real
//    root) or a route (proc/net/route, proc/net/ipv6_route; link-local and
//    multicast routes do not count, the kernel adds them to every up
//    interface); or it is enslaved (the "master" link) to a bond/bridge
//    that is.
//  * storage: a block device below it (an NVMe namespace, a SATA/SAS disk,
//    their partitions, NVMe multipath heads, and device-mapper devices
//    holding any of them) is mounted (proc/self/mountinfo, by major:minor
//    or source) or used as swap (proc/swaps).
//  * console: boot_vga is 1 (the firmware's primary display).
//  * bridge: base class 0x06; bridges are infrastructure, never assigned.
//
// Limits (documented, not guessed around): interfaces in other network
// namespaces are invisible in sysfs; IPv4 addresses without a route are
// only seen on the real root (procfs does not list them).
#ifndef PCIPASS_CORE_HOST_USE_H_
#define PCIPASS_CORE_HOST_USE_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/device.h"
#include "core/host_root.h"

namespace pcipass {

// One entry of sys/class/block.
struct BlockDevice {
  std::string name;               // "nvme0n1p1", "sda", "dm-0"
  std::string dev;                // "259:1"
  std::optional<PciAddress> pci;  // nearest PCI function above it
  bool partition = false;
  std::vector<std::string> holders;  // holders/ entries ("dm-0")
  std::string dm_name;               // dm/name for device-mapper devices
};

// Everything host-use detection reads once per discovery.
struct HostUseTables {
  std::set<std::string> route_ifaces;  // ifaces with a non-link-local route
  std::map<std::string, std::vector<std::string>> addresses;  // iface->CIDRs
  std::map<std::string, std::string> mounts;  // "maj:min" or name -> point
  std::set<std::string> swaps;                // block names used as swap
  std::map<std::string, BlockDevice> blocks;  // by name
};

// Reads sys/class/block under |host|. Never fails: unreadable entries are
// skipped (the caller sees fewer block devices).
std::map<std::string, BlockDevice> ScanBlockDevices(const HostRoot& host);

// Reads the procfs tables under |host| and takes |blocks|. Missing files
// leave their table empty.
HostUseTables LoadHostUseTables(const HostRoot& host,
                                std::map<std::string, BlockDevice> blocks);

// Disks (not partitions) and NVMe multipath heads below |addr|, sorted.
std::vector<std::string> BlockDevicesOf(const HostUseTables& tables,
                                        const PciAddress& addr);

// Fills netdev addresses/has_route from |tables| and appends every reason
// the host uses |dev| to dev.host_use. |host| is used to read the state of
// master interfaces.
void ApplyHostUse(const HostRoot& host, const HostUseTables& tables,
                  PciDevice& dev);

}  // namespace pcipass

#endif  // PCIPASS_CORE_HOST_USE_H_
