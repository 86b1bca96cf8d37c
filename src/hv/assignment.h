// HostdevAssignment: one host PCI function given to one VM, as the VM
// configuration generators (libvirt XML, QEMU arguments, JSON) see it.
//
// The generators are pure: they take a list of assignments (built by the
// vm-config command from the claims ledger and the operator's flags) and
// return text. Everything the operator can get wrong — a MAC address, a VLAN
// id, two devices pinned to the same guest slot — is checked here, once, by
// ValidateAssignments, so every output format refuses the same inputs with
// the same message. A message names the device (host address), the bad
// value, what is accepted and how to fix it.
#ifndef PCIPASS_HV_ASSIGNMENT_H_
#define PCIPASS_HV_ASSIGNMENT_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/address.h"
#include "core/device.h"
#include "core/status.h"

namespace pcipass::hv {

struct HostdevAssignment {
  PciAddress host;      // the host function handed to the guest
  std::string id;       // device id in the VM: "hostdev0", "net0", ...
  bool managed = true;  // libvirt managed='yes' (spec tag managed, default yes)
  std::optional<PciAddress> guest;  // pinned guest slot, when the operator
                                    // asked for a fixed host<->guest mapping
  bool as_interface = false;        // a VF used as a NIC (interface hostdev)
  std::optional<std::string> mac;   // normalised "52:54:00:aa:bb:cc"
  std::optional<int> vlan;          // 802.1Q tag, 1..4094
  DeviceType dev_type = DeviceType::kPci;
  std::string pci_alias;  // the Nova alias it was claimed for
};

// Parses a MAC address "xx:xx:xx:xx:xx:xx" (6 hex pairs, either case, ':'
// separated) into its lower-case form. InvalidArgument for any other shape,
// for a multicast address (lowest bit of the first octet set: a NIC cannot
// own it) and for 00:00:00:00:00:00.
Result<std::string> ParseMac(std::string_view text);

// Parses a VLAN id: a decimal integer 1..4094 (0 and 4095 are reserved by
// 802.1Q). InvalidArgument otherwise.
Result<int> ParseVlan(std::string_view text);

// Parses a guest PCI address. Accepts the full form "0000:00:05.0" and the
// short form "00:05.0" (domain 0). The guest domain must be 0, the slot must
// not be bus 0 slot 0 (the host bridge of both q35 and i440fx), and the
// function must be 0 (multi-function guest slots are not generated).
// InvalidArgument naming the value and the accepted form otherwise.
Result<PciAddress> ParseGuestAddress(std::string_view text);

// True for ids QEMU and libvirt both accept: a letter, then letters, digits,
// '-', '_' or '.', at most 64 characters.
bool IsValidDeviceId(std::string_view id);

// Checks a whole VM's assignments:
//  - every id valid and unique; every host address unique;
//  - every pinned guest address valid (see ParseGuestAddress) and unique;
//  - mac/vlan only on interfaces, interfaces only on VFs (type-VF),
//    mac syntax, vlan range.
// OK, or InvalidArgument for the first problem found, naming the device.
Status ValidateAssignments(std::span<const HostdevAssignment> devices);

// Libvirt user alias for a device id: "ua-" + id (libvirt keeps only aliases
// with this prefix from the XML it is given).
std::string LibvirtAlias(const HostdevAssignment& device);

}  // namespace pcipass::hv

#endif  // PCIPASS_HV_ASSIGNMENT_H_
