// Pools: Nova's grouping of free devices by the properties a request can
// ask for (nova-pci-semantics.md 5.1), and request-spec matching (4.3).
//
// A device's pool key holds vendor_id, product_id, numa_node, dev_type,
// address (the parent PF's address for a VF, else its own), the tags of the
// FIRST matching device_spec (minus resource_class and traits), and
// remote_managed="false" for PFs and VFs that lack the tag. Devices with
// equal keys share a pool. All values are strings or null, as on Nova's
// scheduler side. Pools are ordered stably by the number of keys (fewer
// tags first), then by first device address, like Nova.
//
// Matching (4.3): a request matches a pool if ANY of its spec dicts
// matches; a dict matches when every key matches: values are compared
// case-insensitively; a key the pool lacks reads as null, so a null spec
// value matches pools without that key. resource_class, traits and
// rp_uuids are ignored. Better than Nova (B6): a pool without
// live_migratable reads as "false", the documented default.
#ifndef PCIPASS_CLAIMS_POOLS_H_
#define PCIPASS_CLAIMS_POOLS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "select/devspec.h"
#include "select/request.h"
#include "store/ledger.h"

namespace pcipass::claims {

using PoolKey = std::map<std::string, std::optional<std::string>>;

// The pool key of |device| selected with |tags|.
PoolKey MakePoolKey(const LedgerDevice& device, const TagMap& tags);

struct Pool {
  PoolKey key;
  std::vector<PciAddress> devices;  // address order
};

// Groups |devices| (with their tags; a device without an entry in |tags|
// has none) into pools, in Nova's order.
std::vector<Pool> BuildPools(const std::vector<LedgerDevice>& devices,
                             const std::map<PciAddress, TagMap>& tags);

// Whether one spec dict / any of |specs| matches |key| (4.3).
bool SpecMatches(const RequestSpec& spec, const PoolKey& key);
bool AnySpecMatches(const std::vector<RequestSpec>& specs, const PoolKey& key);

// Nova's non-strict truthiness ("true", "1", "yes", "on", "y", "t").
bool Truthy(const std::optional<std::string>& value);

}  // namespace pcipass::claims

#endif  // PCIPASS_CLAIMS_POOLS_H_
