// Aliases: named device requests from `[pci]alias`, as in nova.conf.
//
// Each `alias` value is ONE JSON object (a list is rejected) with the keys
// name, vendor_id, product_id, device_type, numa_policy, capability_type,
// resource_class, traits, live_migratable; any other key is an error. Entries
// sharing a name are OR-ed: the alias has several request specs, and they
// must agree on numa_policy and device_type. A flavor asks for an alias by
// name (request.h).
//
// Better than Nova (docs/nova-compatibility.md): `capability_type: "pci"` is
// accepted and ignored instead of making the alias unmatchable (11.B2);
// same-name entries may all omit device_type (11.B3: Nova says 'dev_type');
// an entry omitting device_type while another sets it is a mismatch.
#ifndef PCIPASS_SELECT_ALIAS_H_
#define PCIPASS_SELECT_ALIAS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/device.h"
#include "core/status.h"
#include "select/devspec.h"
#include "select/request.h"

namespace pcipass {

struct Alias {
  std::string name;  // stripped
  NumaPolicy numa_policy = NumaPolicy::kLegacy;
  std::optional<DeviceType> dev_type;
  // One spec per config entry with this name, Nova-style: "vendor_id",
  // "product_id" (lower-case 4 hex), "dev_type", "live_migratable"
  // ("true"/"false"), "resource_class", "traits" when set.
  std::vector<RequestSpec> specs;
};

class AliasTable {
 public:
  // nullptr if no alias has |name| (exact, after stripping).
  const Alias* Find(std::string_view name) const;
  const std::map<std::string, Alias>& aliases() const { return aliases_; }
  bool empty() const { return aliases_.empty(); }

  // Used by ParseAliases.
  std::map<std::string, Alias>& mutable_aliases() { return aliases_; }

 private:
  std::map<std::string, Alias> aliases_;
};

// One raw `alias` value and where it came from, for error messages.
struct AliasEntry {
  std::string value;
  std::string where;  // "nova.conf:12"
};

// Parses every entry. Entries with errors are left out and each error is
// appended to |errors| (InvalidArgument, text "Invalid PCI alias definition
// at <where>: <reason>" naming the key, the bad value and what is
// accepted). Whole-table checks follow: NUMA policy / device type mismatch
// between same-name entries, and (unless |pci_in_placement|) the rule that
// every entry sets vendor_id and product_id; with |pci_in_placement| a
// resource_class alone also does.
AliasTable ParseAliases(const std::vector<AliasEntry>& entries,
                        bool pci_in_placement, std::vector<Status>* errors);

// True if |dev| satisfies |spec| on the keys a device has by itself
// (vendor_id, product_id, dev_type); tags are left to the caller.
bool DeviceMatchesAliasSpec(const PciDevice& dev, const RequestSpec& spec);

// Why |dev| with the tags of its device_spec (|tags|) does not satisfy
// |spec|, e.g. "product_id 1520 is not the alias's 10d3"; nullopt if it
// does. vendor_id, product_id and dev_type are compared with the device;
// live_migratable with the tag ("false" also accepts an untagged device,
// unlike Nova: B6); resource_class and traits are Placement-only and
// ignored; any other key is compared with the tag of that name.
std::optional<std::string> AliasSpecMismatch(const PciDevice& dev,
                                             const TagMap& tags,
                                             const RequestSpec& spec);

}  // namespace pcipass

#endif  // PCIPASS_SELECT_ALIAS_H_
