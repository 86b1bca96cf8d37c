// [pci]alias values: each input line is one alias entry (one JSON object);
// ParseAliases checks them one by one and then as a table. The first byte
// chooses [filter_scheduler]pci_in_placement.
#include <cstdint>

#include "core/device.h"
#include "fuzz/fuzz_util.h"
#include "select/alias.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bool in_placement = data[0] & 1;
  std::vector<pcipass::AliasEntry> entries;
  int line = 0;
  for (std::string& v :
       pcipass::fuzz::Split(pcipass::fuzz::AsText(data + 1, size - 1), '\n')) {
    entries.push_back({std::move(v), "fuzz.conf:" + std::to_string(++line)});
  }
  std::vector<pcipass::Status> errors;
  pcipass::AliasTable table =
      pcipass::ParseAliases(entries, in_placement, &errors);
  pcipass::PciDevice dev;
  dev.address = *pcipass::PciAddress::Parse("0000:81:02.1");
  dev.vendor_id = 0x8086;
  dev.product_id = 0x154c;
  dev.type = pcipass::DeviceType::kVf;
  pcipass::TagMap tags = {{"physical_network", "physnet1"}};
  for (const auto& [name, alias] : table.aliases()) {
    if (table.Find(name) != &alias) std::abort();
    for (const pcipass::RequestSpec& spec : alias.specs) {
      (void)pcipass::DeviceMatchesAliasSpec(dev, spec);
      (void)pcipass::AliasSpecMismatch(dev, tags, spec);
    }
  }
  return 0;
}
