// What a VM asks for: the flavor's "alias:count,..." request (against a
// fixed alias table) and the flavor / image NUMA policy overrides. Input:
// request, flavor policy, image policy, separated by '\n'.
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "select/alias.h"
#include "select/request.h"

namespace {

const pcipass::AliasTable& Aliases() {
  static const pcipass::AliasTable* table = [] {
    std::vector<pcipass::AliasEntry> entries = {
        {R"({"name": "gpu", "vendor_id": "10de", "product_id": "20b0"})",
         "fuzz.conf:1"},
        {R"({"name": "nic-vf", "vendor_id": "8086", "product_id": "154c",
             "device_type": "type-VF", "numa_policy": "preferred"})",
         "fuzz.conf:2"},
        {R"({"name": "nic-vf", "vendor_id": "15b3", "product_id": "101e",
             "device_type": "type-VF", "numa_policy": "preferred"})",
         "fuzz.conf:3"},
    };
    std::vector<pcipass::Status> errors;
    auto* t =
        new pcipass::AliasTable(pcipass::ParseAliases(entries, false, &errors));
    if (!errors.empty() || t->aliases().size() != 2) std::abort();
    return t;
  }();
  return *table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts =
      pcipass::fuzz::Split(pcipass::fuzz::AsText(data, size), '\n');
  parts.resize(std::max<size_t>(parts.size(), 3));
  pcipass::NumaOverride numa;
  if (!parts[1].empty()) numa.flavor = parts[1];
  if (!parts[2].empty()) numa.image = parts[2];
  auto reqs = pcipass::ParsePciRequests(parts[0], Aliases(), numa);
  if (reqs.ok()) {
    for (const pcipass::PciRequest& r : *reqs) {
      if (r.count < 1 || Aliases().Find(r.alias_name) == nullptr) std::abort();
    }
  }
  (void)pcipass::ResolveNumaOverride(numa);
  return 0;
}
