// libvirt domain XML for passthrough devices.
//
// One element per assignment, in the order given:
//  - a plain device (type-PCI, PF, or VF not used as a NIC) becomes
//      <hostdev mode="subsystem" type="pci" managed="yes|no">
//        <driver name="vfio"/>
//        <source><address domain="0x0000" bus="0x81" slot="0x00"
//                         function="0x1"/></source>
//        <alias name="ua-hostdev0"/>
//        [<address type="pci" .../>   guest slot, when pinned]
//      </hostdev>
//    as Nova writes it (nova-pci-semantics.md 9.1: the source <address> has
//    no type attribute), plus the vfio driver (libvirt's default, stated so
//    the XML does not depend on it) and a user alias so the device can be
//    found in the live domain;
//  - a VF used as a NIC becomes
//      <interface type="hostdev" managed="yes|no">
//        [<mac address="..."/>] <driver name="vfio"/>
//        <source><address type="pci" .../></source>
//        [<vlan><tag id="100"/></vlan>] <alias .../> [<address .../>]
//      </interface>
//    (9.2; the source address here does carry type="pci").
// managed comes from the assignment (the spec's managed tag); Nova
// hard-codes "yes" on interfaces, pcipass honours the tag on both forms
// (docs/vm-config.md).
#ifndef PCIPASS_HV_LIBVIRT_XML_H_
#define PCIPASS_HV_LIBVIRT_XML_H_

#include <span>
#include <string>

#include "core/status.h"
#include "hv/assignment.h"

namespace pcipass::hv {

// The devices as a sequence of top-level elements (the inside of a
// <devices> element), indented by two spaces per level, one element per
// device. InvalidArgument if ValidateAssignments refuses the list.
Result<std::string> LibvirtDevicesXml(
    std::span<const HostdevAssignment> devices);

struct DomainOptions {
  std::string name;          // domain name; required, no '/'
  std::string type = "kvm";  // domain type: "kvm" or "qemu"
  int memory_mib = 1024;     // > 0
  int vcpus = 1;             // > 0
  std::string arch = "x86_64";
  std::string machine = "q35";
};

// A complete minimal domain definition (<domain type="kvm"> with name,
// memory, vcpu, os, and the devices in <devices>) that libvirt's schema
// accepts (virt-xml-validate FILE domain). InvalidArgument for a bad option
// (empty or '/'-containing name, unknown type, non-positive memory or
// vcpus) or refused assignments.
Result<std::string> LibvirtDomainXml(
    const DomainOptions& options, std::span<const HostdevAssignment> devices);

}  // namespace pcipass::hv

#endif  // PCIPASS_HV_LIBVIRT_XML_H_
