// SR-IOV: setting a PF's VF count safely.
//
// The kernel's rules (kernel-vfio-reference.md 4.1, lab observations):
// a count above sriov_totalvfs fails with ERANGE; a non-zero count cannot
// be changed to another non-zero count (EBUSY), it must go through 0; with
// no PF driver the write fails with ENOENT, and so it does with the PF on
// vfio-pci unless vfio_pci's enable_sriov parameter is Y; destroying VFs
// blocks while a VF is open through VFIO. With sriov_drivers_autoprobe=1
// host VF drivers grab new VFs at once, so VFs meant for passthrough are
// created with autoprobe 0 (--no-autoprobe).
//
// SetNumVfs refuses to destroy VFs that are on vfio-pci or claimed (the
// claims layer passes a predicate), journals the change (a crash between
// "0" and "N" is completed by the next run) and lists the resulting VFs
// with their addresses and IOMMU groups.
#ifndef PCIPASS_BINDING_SRIOV_H_
#define PCIPASS_BINDING_SRIOV_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "binding/handoff.h"
#include "core/address.h"
#include "core/host_root.h"
#include "core/status.h"

namespace pcipass {

class KernelIo;

struct SriovOptions {
  std::string state_dir;
  int numvfs = 0;
  // false: write sriov_drivers_autoprobe=0 first (VFs stay unbound, for
  // passthrough); true: =1; nullopt: leave it.
  std::optional<bool> autoprobe;
  bool dry_run = false;
  std::chrono::milliseconds write_timeout{30000};
  // Returns who holds a VF ("instance vm-17") or nullopt when free. Empty
  // function: nothing is claimed.
  std::function<std::optional<std::string>(const PciAddress&)> claimed_by;
};

struct VfInfo {
  int index = 0;  // virtfn<index>
  PciAddress address;
  std::optional<int> iommu_group;
  std::optional<std::string> driver;
};

struct SriovReport {
  PciAddress pf;
  int totalvfs = 0;
  int before = 0;
  int after = 0;
  bool changed = false;
  std::vector<PlannedWrite> writes;
  std::vector<VfInfo> vfs;
  std::vector<std::string> notes;
};

// Sets |pf|'s VF count to opts.numvfs. Outcomes: the report (changed false
// and no count write when the count is already right); NotFound for an
// unknown PF; FailedPrecondition when it is not SR-IOV capable, has no
// driver, or a VF to be destroyed is on vfio-pci or claimed (named);
// InvalidArgument when the count is negative or above sriov_totalvfs
// (naming the maximum); the kernel's error otherwise, after trying to
// restore the previous count.
Result<SriovReport> SetNumVfs(const HostRoot& host, KernelIo& io,
                              const PciAddress& pf, const SriovOptions& opts);
Result<SriovReport> SetNumVfs(const HostRoot& host, const PciAddress& pf,
                              const SriovOptions& opts);

// The PF's VFs from its virtfnN links, in index order.
std::vector<VfInfo> ListVfs(const HostRoot& host, const PciAddress& pf);

}  // namespace pcipass

#endif  // PCIPASS_BINDING_SRIOV_H_
