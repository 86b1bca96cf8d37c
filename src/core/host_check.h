// Host readiness: can this host give PCI devices to VMs safely, and if not,
// why not and what exactly to change.
//
// Passthrough needs a chain of things, each of which an operator can break
// separately: an IOMMU in the firmware (ACPI DMAR on Intel, IVRS on AMD,
// IORT on ARM), the kernel's IOMMU driver switched on (sys/class/iommu),
// real IOMMU groups (not the fake "vfio-noiommu" ones), interrupt remapping
// (without it vfio_iommu_type1 refuses to attach a group), the vfio,
// vfio_pci and vfio_iommu_type1 modules (loaded, built in, or at least
// installed for the running kernel), /dev/vfio/vfio, and no unsafe
// overrides (allow_unsafe_interrupts, enable_unsafe_noiommu_mode,
// pcie_acs_override). KVM and hugepages are not needed for passthrough
// itself, so their absence is a warning. See kernel-vfio-reference.md
// sections 3.3-3.5 and 5.
//
// Verdicts come from the runtime state, not from the kernel command line
// (defaults differ per kernel build); the command line is reported and is
// used to name the cause and the fix. Every check says what it saw (with the
// file it read) and the exact command or setting that fixes it.
#ifndef PCIPASS_CORE_HOST_CHECK_H_
#define PCIPASS_CORE_HOST_CHECK_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_root.h"
#include "core/inventory.h"

namespace pcipass {

enum class CheckState { kPass, kWarn, kFail };
// "pass", "warn", "fail" (stable: JSON and text output).
std::string_view CheckStateName(CheckState state);

struct HostCheck {
  std::string id;  // stable snake_case id, e.g. "iommu_driver"
  CheckState status = CheckState::kPass;
  std::string detail;  // what was seen
  std::string fix;     // exact command/setting; empty when nothing to do
};

// Counts over the discovered inventory (pcipass check's "summary").
struct HostSummary {
  int devices = 0;         // PCI functions
  int groups = 0;          // IOMMU groups with at least one PCI member
  int viable_groups = 0;   // groups VFIO could claim now
  int noiommu_groups = 0;  // fake vfio-noiommu groups
  int vfio_devices = 0;    // functions bound to vfio-pci
  int pfs = 0;             // SR-IOV physical functions
  int vfs = 0;             // SR-IOV virtual functions
  int bridges = 0;         // PCI bridges / root ports (never assigned)
  // Functions the host depends on (host_use: netdev, storage, console);
  // bridges are counted in |bridges|, not here.
  int host_used = 0;
};

struct HostReport {
  // True when no check failed (warnings do not block).
  bool ready = false;
  // One sentence. Not ready: "PCI passthrough is impossible here because
  // ..." (no IOMMU) or "PCI passthrough is not ready: ..." (fixable
  // configuration). Ready: "ready for PCI passthrough" (+ warning count).
  std::string verdict;
  std::string kernel_release;     // proc/sys/kernel/osrelease, "" if unknown
  std::string iommu_vendor;       // "intel", "amd", "arm" or "" (none seen)
  std::vector<HostCheck> checks;  // fixed order, every check always present
  std::optional<HostSummary> summary;  // set by the caller (needs discovery)
};

// Runs every readiness check against |host|. It does not fail: a missing or
// unreadable file is itself an observation, reported in the check's detail.
// The order and ids of the checks are fixed: firmware_iommu, iommu_driver,
// iommu_groups, kernel_cmdline, interrupt_remapping, vfio, vfio_pci,
// vfio_iommu_type1, vfio_container, unsafe_interrupts, noiommu_mode,
// default_domain, kvm, hugepages.
HostReport CheckHost(const HostRoot& host);

// Summary counts of |inv| (groups: viable = IommuGroup::viable).
HostSummary SummarizeInventory(const Inventory& inv);

}  // namespace pcipass

#endif  // PCIPASS_CORE_HOST_CHECK_H_
