// Duplicate keys in JSON config values (device_spec, alias).
//
// nlohmann::json (like Python's json, which Nova uses) keeps the last of
// two equal keys in one object and drops the other without a word, so
// {"vendor_id": "8086", "vendor_id": "10de"} would silently select NVIDIA
// cards. pcipass refuses such a value instead, naming the key.
#ifndef PCIPASS_SELECT_JSON_KEYS_H_
#define PCIPASS_SELECT_JSON_KEYS_H_

#include <optional>
#include <string>
#include <string_view>

namespace pcipass {

struct DuplicateJsonKey {
  std::string key;
  // 1-based index of the element of a top-level array that holds the
  // object; 0 when the value itself is an object.
  int entry = 0;
};

// The first key that appears twice in one object of |text| (at any depth),
// or nullopt (also for text that is not valid JSON: the caller's parse
// reports that).
std::optional<DuplicateJsonKey> FindDuplicateJsonKey(std::string_view text);

}  // namespace pcipass

#endif  // PCIPASS_SELECT_JSON_KEYS_H_
