// One [pci]device_spec value (a JSON object or a list of objects, as in
// nova.conf): ParseDeviceSpecValue on an empty host, then every parsed
// spec matched against a VF and a plain device. Deep JSON nesting is
// bounded by the parser's own depth limit (branch confine), not here.
#include <cstdint>

#include "core/device.h"
#include "fuzz/fuzz_util.h"
#include "select/devspec.h"

namespace {

pcipass::PciDevice Device(const char* addr, pcipass::DeviceType type) {
  pcipass::PciDevice d;
  d.address = *pcipass::PciAddress::Parse(addr);
  d.vendor_id = 0x8086;
  d.product_id = 0x154c;
  d.type = type;
  if (type == pcipass::DeviceType::kVf) {
    d.physfn = *pcipass::PciAddress::Parse("0000:81:00.0");
  }
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string value(pcipass::fuzz::AsText(data, size));
  std::vector<pcipass::Status> errors;
  pcipass::DeviceSpecOptions options;
  options.report_in_placement = size % 2 == 1;
  options.extra_tags = {"x_rack"};
  std::vector<pcipass::DeviceSpec> specs = pcipass::ParseDeviceSpecValue(
      value, "fuzz.conf:1", pcipass::fuzz::EmptyHost(), options, &errors);
  static const pcipass::PciDevice kVf =
      Device("0000:81:02.1", pcipass::DeviceType::kVf);
  static const pcipass::PciDevice kPci =
      Device("0000:03:00.0", pcipass::DeviceType::kPci);
  auto serial = [](const pcipass::PciAddress&) {
    return std::optional<std::string>("MT2042X00001");
  };
  for (const pcipass::DeviceSpec& s : specs) {
    (void)s.Match(kVf, serial);
    (void)s.Match(kPci);
    (void)s.address().ToString();
  }
  return 0;
}
