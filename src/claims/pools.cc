#include "claims/pools.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace pcipass::claims {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

std::string Hex4(uint16_t v) { return fmt::format("{:04x}", v); }

}  // namespace

PoolKey MakePoolKey(const LedgerDevice& d, const TagMap& tags) {
  PoolKey key;
  for (const auto& [k, v] : tags) {
    if (k == "resource_class" || k == "traits") continue;
    key[k] = v;
  }
  key["vendor_id"] = d.vendor_id
                         ? std::optional<std::string>(Hex4(*d.vendor_id))
                         : std::nullopt;
  key["product_id"] = d.product_id
                          ? std::optional<std::string>(Hex4(*d.product_id))
                          : std::nullopt;
  key["numa_node"] =
      d.numa_node ? std::optional<std::string>(std::to_string(*d.numa_node))
                  : std::nullopt;
  key["dev_type"] = std::string(DeviceTypeName(d.dev_type));
  key["address"] = (d.parent_addr ? *d.parent_addr : d.address).ToString();
  if (d.dev_type != DeviceType::kPci) {
    auto it = key.find("remote_managed");
    if (it == key.end() || !it->second) key["remote_managed"] = "false";
  }
  return key;
}

std::vector<Pool> BuildPools(const std::vector<LedgerDevice>& devices,
                             const std::map<PciAddress, TagMap>& tags) {
  static const TagMap kNoTags;
  std::vector<Pool> pools;
  std::map<PoolKey, size_t> index;
  for (const LedgerDevice& d : devices) {
    auto t = tags.find(d.address);
    PoolKey key = MakePoolKey(d, t == tags.end() ? kNoTags : t->second);
    auto [it, fresh] = index.emplace(key, pools.size());
    if (fresh) pools.push_back({std::move(key), {}});
    pools[it->second].devices.push_back(d.address);
  }
  std::stable_sort(
      pools.begin(), pools.end(),
      [](const Pool& a, const Pool& b) { return a.key.size() < b.key.size(); });
  return pools;
}

bool Truthy(const std::optional<std::string>& value) {
  if (!value) return false;
  std::string v = Lower(*value);
  return v == "true" || v == "1" || v == "yes" || v == "on" || v == "y" ||
         v == "t";
}

bool SpecMatches(const RequestSpec& spec, const PoolKey& key) {
  for (const auto& [k, want] : spec) {
    if (k == "resource_class" || k == "traits" || k == "rp_uuids") continue;
    auto it = key.find(k);
    std::optional<std::string> have =
        it == key.end() ? std::nullopt : it->second;
    if (k == "live_migratable" && !have) have = "false";  // B6 fixed
    if (!want || !have) {
      if (want.has_value() != have.has_value()) return false;
      continue;
    }
    if (Lower(*want) != Lower(*have)) return false;
  }
  return true;
}

bool AnySpecMatches(const std::vector<RequestSpec>& specs, const PoolKey& key) {
  return std::any_of(specs.begin(), specs.end(),
                     [&](const RequestSpec& s) { return SpecMatches(s, key); });
}

}  // namespace pcipass::claims
