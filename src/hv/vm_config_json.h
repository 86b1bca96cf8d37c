// The JSON form of a VM's passthrough configuration (vm-config --format
// json): one object per device with the host and guest addresses, its role
// and everything the other formats are generated from, plus the ready-made
// libvirt element and QEMU -device value, so a tool can use either without
// re-deriving them. Field names are snake_case and stable (docs/cli.md).
#ifndef PCIPASS_HV_VM_CONFIG_JSON_H_
#define PCIPASS_HV_VM_CONFIG_JSON_H_

#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "core/status.h"
#include "hv/assignment.h"
#include "hv/qemu_args.h"

namespace pcipass::hv {

// {"instance": ID, "devices": [{"id", "host_address", "dev_type",
//  "pci_alias", "managed", "guest_address" (null if not pinned), "form"
//  ("hostdev" | "interface"), "mac", "vlan" (null when unset),
//  "libvirt_alias", "libvirt_xml", "qemu_device"}], "qemu_args": [...],
//  "notes": [...]}. InvalidArgument if ValidateAssignments refuses the list.
Result<nlohmann::json> VmConfigJson(const std::string& instance,
                                    std::span<const HostdevAssignment> devices,
                                    const QemuOptions& qemu = {});

}  // namespace pcipass::hv

#endif  // PCIPASS_HV_VM_CONFIG_JSON_H_
