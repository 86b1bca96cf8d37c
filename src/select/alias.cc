#include "select/alias.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/bounded_input.h"
#include "core/values.h"
#include "select/devspec.h"
#include "select/json_keys.h"

namespace pcipass {

namespace {

using nlohmann::json;

const char* const kAcceptedKeys =
    "name, vendor_id, product_id, device_type, numa_policy, "
    "capability_type, resource_class, traits, live_migratable";

std::string Strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool IsFourHex(const std::string& s) {
  return s.size() == 4 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

Status AliasError(const std::string& where, const std::string& reason) {
  return Status::InvalidArgument("Invalid PCI alias definition at " + where +
                                 ": " + reason);
}

// One parsed entry before same-name merging.
struct ParsedEntry {
  std::string where;
  std::string name;
  std::optional<NumaPolicy> numa_policy;
  std::optional<DeviceType> dev_type;
  RequestSpec spec;
};

Result<ParsedEntry> ParseEntry(const AliasEntry& entry) {
  const std::string& where = entry.where;
  if (Status d = CheckJsonDepth(entry.value, kMaxSpecJsonDepth); !d.ok()) {
    return AliasError(where,
                      d.message() + "; an alias is one flat JSON object");
  }
  json obj;
  try {
    obj = json::parse(entry.value);
  } catch (const json::exception& e) {
    return AliasError(where,
                      "'" + entry.value + "' is not valid JSON: " + e.what());
  }
  if (auto dup = FindDuplicateJsonKey(entry.value)) {
    return AliasError(where, "key '" + ShowValue(dup->key, 40) +
                                 "' appears twice in one object; keep one "
                                 "(JSON keeps only the last)");
  }
  if (!obj.is_object()) {
    return AliasError(where, "'" + entry.value +
                                 "' must be one JSON object (a list is not "
                                 "accepted; write one alias line per object)");
  }
  ParsedEntry out;
  out.where = where;
  auto need_string = [&](const std::string& key, const json& v) -> Status {
    if (v.is_string()) return Status::Ok();
    return AliasError(where,
                      "key '" + key + "' must be a string, got " + v.dump());
  };
  bool have_name = false;
  for (const auto& [key, v] : obj.items()) {
    if (key == "name") {
      PCIPASS_RETURN_IF_ERROR(need_string(key, v));
      std::string name = v.get<std::string>();
      if (name.empty() || name.size() > 256) {
        return AliasError(where,
                          "key 'name' must be 1 to 256 characters, "
                          "got '" +
                              ShowValue(name, 40) + "'");
      }
      out.name = Strip(name);
      if (out.name.empty()) {
        return AliasError(where,
                          "key 'name' is blank: '" + ShowValue(name) + "'");
      }
      // A request is "name:count,name:count" (Nova's flavor syntax): a
      // name with ',' or ':' could never be asked for, and control bytes
      // would be echoed into every message that names the alias.
      for (unsigned char c : out.name) {
        if (c == ',' || c == ':' || c < 0x20 || c == 0x7f) {
          return AliasError(
              where, "key 'name' '" + ShowValue(out.name, 40) +
                         "' has the character '" +
                         ShowValue(std::string(1, static_cast<char>(c))) +
                         "', which a request (\"name:count,name:count\") "
                         "cannot carry; rename the alias without ',', ':' "
                         "or control characters");
        }
      }
      have_name = true;
    } else if (key == "vendor_id" || key == "product_id") {
      PCIPASS_RETURN_IF_ERROR(need_string(key, v));
      std::string id = v.get<std::string>();
      if (!IsFourHex(id)) {
        std::string reason = "key '" + key + "' is '";
        reason += id;
        reason +=
            "'; accepted: exactly 4 hex digits such as \"8086\" "
            "(no '*', no '0x')";
        return AliasError(where, reason);
      }
      out.spec[key] = Lower(id);
    } else if (key == "device_type") {
      PCIPASS_RETURN_IF_ERROR(need_string(key, v));
      std::string t = v.get<std::string>();
      std::optional<DeviceType> dt = ParseDeviceType(t);
      if (!dt) {
        return AliasError(where, "key 'device_type' is '" + t +
                                     "'; accepted: 'type-PCI', 'type-PF', "
                                     "'type-VF'");
      }
      out.dev_type = dt;
      out.spec["dev_type"] = std::string(DeviceTypeName(*dt));
    } else if (key == "numa_policy") {
      PCIPASS_RETURN_IF_ERROR(need_string(key, v));
      std::string p = v.get<std::string>();
      if (p.empty()) continue;  // Nova: empty means legacy
      std::optional<NumaPolicy> np = ParseNumaPolicy(p);
      if (!np) {
        return AliasError(where, "key 'numa_policy' is '" + p +
                                     "'; accepted: 'required', 'legacy', "
                                     "'preferred', 'socket'");
      }
      out.numa_policy = np;
    } else if (key == "capability_type") {
      PCIPASS_RETURN_IF_ERROR(need_string(key, v));
      if (v.get<std::string>() != "pci") {
        return AliasError(where, "key 'capability_type' is '" +
                                     v.get<std::string>() +
                                     "'; accepted: 'pci'");
      }
      // Accepted and ignored (Nova keeps it and never matches: B2).
    } else if (key == "resource_class" || key == "traits") {
      PCIPASS_RETURN_IF_ERROR(need_string(key, v));
      out.spec[key] = v.get<std::string>();
    } else if (key == "live_migratable") {
      std::optional<bool> b;
      if (v.is_boolean()) {
        b = v.get<bool>();
      } else if (v.is_string()) {
        b = ParseStrictBool(v.get<std::string>());
      }
      if (!b) {
        return AliasError(where, "key 'live_migratable' is " + v.dump() +
                                     "; accepted: true/false or one of '0', "
                                     "'1', 'f', 'false', 'n', 'no', 'off', "
                                     "'on', 't', 'true', 'y', 'yes'");
      }
      out.spec[key] = *b ? "true" : "false";
    } else {
      return AliasError(where, "unknown key '" + key + "' (value " + v.dump() +
                                   "); accepted keys: " + kAcceptedKeys);
    }
  }
  if (!have_name) {
    return AliasError(where, "'name' is a required property");
  }
  return out;
}

}  // namespace

std::string_view NumaPolicyName(NumaPolicy policy) {
  switch (policy) {
    case NumaPolicy::kLegacy:
      return "legacy";
    case NumaPolicy::kRequired:
      return "required";
    case NumaPolicy::kPreferred:
      return "preferred";
    case NumaPolicy::kSocket:
      return "socket";
  }
  return "legacy";
}

std::optional<NumaPolicy> ParseNumaPolicy(std::string_view name) {
  for (NumaPolicy p : {NumaPolicy::kLegacy, NumaPolicy::kRequired,
                       NumaPolicy::kPreferred, NumaPolicy::kSocket}) {
    if (name == NumaPolicyName(p)) return p;
  }
  return std::nullopt;
}

const Alias* AliasTable::Find(std::string_view name) const {
  auto it = aliases_.find(std::string(name));
  return it == aliases_.end() ? nullptr : &it->second;
}

AliasTable ParseAliases(const std::vector<AliasEntry>& entries,
                        bool pci_in_placement, std::vector<Status>* errors) {
  AliasTable table;
  auto& aliases = table.mutable_aliases();
  // Policy/type as written by the first entry of each name, to compare.
  std::map<std::string,
           std::pair<std::optional<NumaPolicy>, std::optional<DeviceType>>>
      first;
  std::map<std::string, std::string> first_where;
  std::set<std::string> broken;
  std::vector<std::string> missing_ids;
  for (const AliasEntry& entry : entries) {
    Result<ParsedEntry> parsed = ParseEntry(entry);
    if (!parsed.ok()) {
      errors->push_back(parsed.status());
      continue;
    }
    ParsedEntry& p = *parsed;
    bool has_ids = p.spec.count("vendor_id") && p.spec.count("product_id");
    bool has_rc = p.spec.count("resource_class");
    if (!has_ids && !(pci_in_placement && has_rc)) {
      if (std::find(missing_ids.begin(), missing_ids.end(), p.name) ==
          missing_ids.end()) {
        missing_ids.push_back(p.name);
      }
    }
    auto it = first.find(p.name);
    if (it == first.end()) {
      first[p.name] = {p.numa_policy, p.dev_type};
      first_where[p.name] = p.where;
      Alias& a = aliases[p.name];
      a.name = p.name;
      a.numa_policy = p.numa_policy.value_or(NumaPolicy::kLegacy);
      a.dev_type = p.dev_type;
      a.specs.push_back(std::move(p.spec));
      continue;
    }
    // Same name: OR-ed specs that must agree on policy and type. A missing
    // numa_policy means legacy; a missing device_type must be missing on
    // all (B3: Nova fails with 'dev_type' when any is missing).
    NumaPolicy want = it->second.first.value_or(NumaPolicy::kLegacy);
    if (p.numa_policy.value_or(NumaPolicy::kLegacy) != want) {
      errors->push_back(Status::InvalidArgument(
          "Invalid PCI alias definition at " + p.where +
          ": NUMA policy mismatch for alias '" + p.name + "' (" +
          std::string(
              NumaPolicyName(p.numa_policy.value_or(NumaPolicy::kLegacy))) +
          " here, " + std::string(NumaPolicyName(want)) + " at " +
          first_where[p.name] + ")"));
      broken.insert(p.name);
      continue;
    }
    if (p.dev_type != it->second.second) {
      auto show = [](const std::optional<DeviceType>& t) {
        return t ? std::string(DeviceTypeName(*t)) : std::string("none");
      };
      errors->push_back(Status::InvalidArgument(
          "Invalid PCI alias definition at " + p.where +
          ": Device type mismatch for alias '" + p.name + "' (" +
          show(p.dev_type) + " here, " + show(it->second.second) + " at " +
          first_where[p.name] + ")"));
      broken.insert(p.name);
      continue;
    }
    aliases[p.name].specs.push_back(std::move(p.spec));
  }
  if (!missing_ids.empty()) {
    std::sort(missing_ids.begin(), missing_ids.end());
    std::string names;
    for (const std::string& n : missing_ids) {
      if (!names.empty()) names += ",";
      names += n;
      aliases.erase(n);
    }
    errors->push_back(Status::InvalidArgument(
        "The PCI alias(es) " + names +
        " does not have vendor_id and product_id fields set" +
        (pci_in_placement ? " or resource_class field set." : ".")));
  }
  for (const std::string& n : broken) aliases.erase(n);
  return table;
}

bool DeviceMatchesAliasSpec(const PciDevice& dev, const RequestSpec& spec) {
  auto hex4 =
      [](const std::optional<uint16_t>& v) -> std::optional<std::string> {
    if (!v) return std::nullopt;
    char buf[8];
    snprintf(buf, sizeof buf, "%04x", *v);
    return std::string(buf);
  };
  for (const auto& [key, value] : spec) {
    if (key == "vendor_id") {
      if (hex4(dev.vendor_id) != value) return false;
    } else if (key == "product_id") {
      if (hex4(dev.product_id) != value) return false;
    } else if (key == "dev_type") {
      if (value != DeviceTypeName(dev.type)) return false;
    }
  }
  return true;
}

std::optional<std::string> AliasSpecMismatch(const PciDevice& dev,
                                             const TagMap& tags,
                                             const RequestSpec& spec) {
  auto hex4 = [](const std::optional<uint16_t>& v) -> std::string {
    if (!v) return "unknown";
    char buf[8];
    snprintf(buf, sizeof buf, "%04x", *v);
    return buf;
  };
  auto show = [](const std::optional<std::string>& v) {
    return v ? *v : std::string("null");
  };
  for (const auto& [key, value] : spec) {
    std::string have;
    if (key == "vendor_id") {
      have = hex4(dev.vendor_id);
    } else if (key == "product_id") {
      have = hex4(dev.product_id);
    } else if (key == "dev_type") {
      have = std::string(DeviceTypeName(dev.type));
    } else if (key == "resource_class" || key == "traits") {
      continue;
    } else {
      auto it = tags.find(key);
      std::optional<std::string> tag =
          it == tags.end() ? std::nullopt : it->second;
      if (key == "live_migratable" && value == "false" && !tag) continue;
      if (Lower(show(tag)) != Lower(show(value))) {
        return "tag " + key + " is " + show(tag) + ", the alias wants " +
               show(value);
      }
      continue;
    }
    if (have != show(value)) {
      std::string why = key;
      why += " ";
      why += have;
      why += " is not the alias's ";
      why += show(value);
      return why;
    }
  }
  return std::nullopt;
}

}  // namespace pcipass
