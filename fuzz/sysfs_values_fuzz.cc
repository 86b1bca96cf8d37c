// Values the kernel writes and pcipass reads back: a device's uevent
// (PCI_ID, PCI_SUBSYS_ID, PCI_CLASS), hex and decimal attribute files
// (vendor, class, numa_node, sriov_*) and the VPD (for remote_managed
// card serials).
#include <cstdint>

#include "core/device.h"
#include "core/discovery.h"
#include "core/sysfs.h"
#include "core/uevent.h"
#include "fuzz/fuzz_util.h"
#include "select/allowlist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = pcipass::fuzz::AsText(data, size);
  pcipass::PciDevice dev;
  pcipass::ParseUevent(text, dev);
  if (dev.class_code && *dev.class_code > 0xffffff) std::abort();
  (void)pcipass::sysfs::ParseHex(text);
  (void)pcipass::sysfs::ParseInt(text);
  (void)pcipass::ParseVpdSerial(text);
  return 0;
}
