// VFIO open probe: proves that a detached device can really be opened by a
// VMM, by doing what QEMU does first with the legacy container API:
// open /dev/vfio/vfio, check the API version and the Type1 IOMMU
// extension, open /dev/vfio/<group>, GROUP_GET_STATUS (viable?),
// GROUP_SET_CONTAINER, SET_IOMMU(Type1v2, else Type1),
// GROUP_GET_DEVICE_FD(<address>) and DEVICE_GET_INFO. Everything is closed
// again at the end. Device nodes come from HostRoot::Dev.
#ifndef PCIPASS_BINDING_VFIO_PROBE_H_
#define PCIPASS_BINDING_VFIO_PROBE_H_

#include <string>
#include <vector>

#include "core/address.h"
#include "core/host_root.h"
#include "core/status.h"

namespace pcipass {

struct VfioProbeStep {
  std::string name;  // "open-container", "group-viable", ...
  bool ok = false;
  std::string detail;  // "version=0", "flags=0x3 regions=9 irqs=5", errno
};

struct VfioProbeResult {
  PciAddress address;
  int group = -1;
  bool ok = false;  // every step passed
  std::vector<VfioProbeStep> steps;
};

// Runs the probe for |addr| (its IOMMU group is read from sysfs). A failed
// step ends the probe; the result says which and why (with errno), e.g.
// "group-set-container: Operation not permitted (EPERM): a group member is
// still on a host driver". Outcomes: the result (check .ok); NotFound when
// the device or its group is unknown.
Result<VfioProbeResult> ProbeVfio(const HostRoot& host, const PciAddress& addr);

}  // namespace pcipass

#endif  // PCIPASS_BINDING_VFIO_PROBE_H_
