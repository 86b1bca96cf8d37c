// ParseUevent: the identity fields of a PCI function from its sysfs
// uevent file (defined in discovery.cc, which prefers it to the single
// vendor/device/class files).
#ifndef PCIPASS_CORE_UEVENT_H_
#define PCIPASS_CORE_UEVENT_H_

#include <string_view>

#include "core/device.h"

namespace pcipass {

// Sets vendor/product ids, subsystem ids and class of |dev| from a device's
// uevent text (PCI_ID=8086:10D3, PCI_SUBSYS_ID=8086:0000, PCI_CLASS=20000);
// lines or fields that do not parse leave the field unset. Any text is safe
// (fuzzed: fuzz/sysfs_values_fuzz.cc).
void ParseUevent(std::string_view text, PciDevice& dev);

}  // namespace pcipass

#endif  // PCIPASS_CORE_UEVENT_H_
