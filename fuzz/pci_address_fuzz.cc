// PCI addresses as operators and the kernel write them: PciAddress::Parse
// (sysfs names, command-line arguments, ledger rows), device_spec address
// globs, guest addresses, and the MAC / VLAN values of vm-config. Checks
// that what parses prints back to something that parses to the same value.
#include <cstdint>
#include <cstdlib>

#include "core/address.h"
#include "fuzz/fuzz_util.h"
#include "hv/assignment.h"
#include "select/devspec.h"

using pcipass::AddressSpec;
using pcipass::PciAddress;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = pcipass::fuzz::AsText(data, size);
  pcipass::Result<PciAddress> a = PciAddress::Parse(text);
  if (a.ok()) {
    pcipass::Result<PciAddress> again = PciAddress::Parse(a->ToString());
    if (!again.ok() || *again != *a) std::abort();
  } else if (a.status().message().empty()) {
    std::abort();  // every refusal says why
  }
  pcipass::Result<AddressSpec> glob = AddressSpec::ParseGlob(text);
  if (glob.ok()) {
    (void)glob->ToString();
    if (auto single = glob->SingleAddress()) {
      if (!glob->Matches(*single)) std::abort();
    }
    if (a.ok()) (void)glob->Matches(*a);
  }
  (void)pcipass::hv::ParseGuestAddress(text);
  pcipass::Result<std::string> mac = pcipass::hv::ParseMac(text);
  if (mac.ok() && !pcipass::hv::ParseMac(*mac).ok()) std::abort();
  (void)pcipass::hv::ParseVlan(text);
  return 0;
}
