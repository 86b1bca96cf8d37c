// Discovery: builds an Inventory (devices + IOMMU groups) from sysfs.
//
// Discovery reads the kernel's view of the PCI bus under a HostRoot: every
// function in sys/bus/pci/devices, its ids, class, driver, override, IOMMU
// group, NUMA node, link, reset methods, SR-IOV state, the netdevs, NVMe
// controllers and block devices below it, then the IOMMU groups in
// sys/kernel/iommu_groups (with their viability, iommu.h) and, optionally,
// what the host itself uses each device for (host_use.h) and the pci.ids
// names (pci_names.h).
//
// It never guesses and never fails because of one bad device: a missing or
// malformed attribute leaves the field unknown (empty optional) and adds a
// warning to PciDevice::warnings naming the file and the bad value. Only a
// missing or unreadable sys/bus/pci/devices directory is an error.
//
// It is built to be fast on hosts with thousands of functions: each device
// directory is listed once, only files that exist are opened (openat on the
// directory fd), and symlinks are read with readlinkat, never resolved
// through std::filesystem::canonical.
#ifndef PCIPASS_CORE_DISCOVERY_H_
#define PCIPASS_CORE_DISCOVERY_H_

#include <string>

#include "core/host_root.h"
#include "core/inventory.h"
#include "core/status.h"

namespace pcipass {

struct DiscoveryOptions {
  // pci.ids database; "" = the system default (libpci's, usually
  // /usr/share/misc/pci.ids). A missing database is not an error: names
  // stay empty and class names come from a built-in table.
  std::string pci_ids_path;
  bool lookup_names = true;
  bool host_use = true;  // run host-use detection (host_use.h)
  // Threads reading device and group directories on hosts with 512 or more
  // of them (1: always the calling thread only). The result is the same.
  int max_threads = 4;
};

// Reads the whole PCI inventory under |host|.
// Outcomes: the Inventory (possibly empty: a host with an empty PCI bus);
// NotFound if <root>/sys/bus/pci/devices does not exist; IOError if it
// cannot be listed. Per-device problems are warnings, not errors.
Result<Inventory> Discover(const HostRoot& host,
                           const DiscoveryOptions& opts = {});

}  // namespace pcipass

#endif  // PCIPASS_CORE_DISCOVERY_H_
