// From claimed devices to VM device assignments.
//
// vm-config reads an instance's claims from the ledger and the operator's
// per-device flags (--pin HOST=GUEST, --mac HOST=MAC, --vlan HOST=ID,
// --interface HOST) and needs one HostdevAssignment per claimed device. The
// rules, kept here so they are tested without a ledger:
//  - ids are hostdev0, hostdev1, ... in host address order (stable across
//    runs, so the guest sees the same ids each time);
//  - managed is true only when the device_spec's managed tag says yes
//    ("yes", "true", "1", "on", any case), unless the operator overrides it
//    for every device (--managed yes|no). Nova defaults an absent tag to
//    yes (row 59); pcipass does not, because `pcipass claim` already put
//    such devices on vfio-pci and libvirt's managed="yes" would hand them
//    back to the host driver at VM stop while the ledger still says the
//    instance holds them. Devices tagged managed=yes are the ones claim
//    leaves for libvirt to detach (claims/service.h), so the two agree;
//  - a VF becomes a network interface (<interface type="hostdev">) when its
//    spec has a non-empty physical_network tag, or the operator names it in
//    --interface, --mac or --vlan; anything else stays a <hostdev>;
//  - a device the ledger marks "removed" (it vanished while claimed) is
//    refused: a VM must not be started with a device that is not there.
// Every flag must name a device the instance holds; each HOST may be given
// once per flag kind. Errors name the flag, the value and the fix.
#ifndef PCIPASS_HV_VM_PLAN_H_
#define PCIPASS_HV_VM_PLAN_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/device.h"
#include "core/status.h"
#include "hv/assignment.h"

namespace pcipass::hv {

// What vm-config needs from one ledger claim.
struct ClaimedDevice {
  PciAddress address;
  DeviceType dev_type = DeviceType::kPci;
  std::string pci_alias;
  std::map<std::string, std::optional<std::string>> tags;  // spec tags
  std::string state;  // "claimed", "allocated", "removed"
};

// The operator's per-device flags, as given ("HOST=VALUE" strings).
struct VmConfigFlags {
  std::vector<std::string> pins = {};        // "0000:81:00.1=00:05.0"
  std::vector<std::string> macs = {};        // "0000:81:10.1=52:54:00:12:34:56"
  std::vector<std::string> vlans = {};       // "0000:81:10.1=100"
  std::vector<std::string> interfaces = {};  // "0000:81:10.1"
  // --managed yes|no: overrides every device's managed tag (nullopt: the
  // spec's tag decides; absent means no, see above).
  std::optional<bool> managed = std::nullopt;
};

// The assignments for |instance|'s devices, validated (ValidateAssignments).
// NotFound when |devices| is empty; FailedPrecondition for a removed device;
// InvalidArgument for a malformed flag, a flag naming a device the instance
// does not hold, a flag given twice for one device, or any refusal of
// ValidateAssignments.
Result<std::vector<HostdevAssignment>> PlanAssignments(
    const std::string& instance, std::span<const ClaimedDevice> devices,
    const VmConfigFlags& flags);

// True when a spec's managed tag value means "libvirt manages the binding"
// (yes/true/1/on in any case; the parser stores "true"). Absent: false.
bool ManagedTagSaysYes(const std::optional<std::string>& value);

}  // namespace pcipass::hv

#endif  // PCIPASS_HV_VM_PLAN_H_
