#include "select/devspec.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/bounded_input.h"
#include "core/sysfs.h"
#include "core/values.h"
#include "select/json_keys.h"

namespace pcipass {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> kFieldNames = {"domain", "bus",
                                                         "slot", "func"};
constexpr std::array<std::string_view, 4> kRegexKeys = {"domain", "bus", "slot",
                                                        "function"};
constexpr std::array<uint32_t, 4> kFieldMax = {0xffff, 0xff, 0x1f, 0x7};
constexpr std::array<int, 4> kFieldWidth = {4, 2, 2, 1};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(c));
  return out;
}

std::string UpperHex(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "%X", v);
  return buf;
}

std::string PaddedHex(uint32_t v, int width) {
  char buf[16];
  snprintf(buf, sizeof buf, "%0*x", width, v);
  return buf;
}

bool AllHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c));
  });
}

// Nova's hex property check, minus Python int()'s signs and '_' (B14): an
// optional 0x prefix and hex digits. Messages are Nova's, without prefix.
Result<uint32_t> ParseHexProperty(std::string_view prop, std::string_view raw,
                                  uint32_t max) {
  std::string_view v = Trim(raw);
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    v.remove_prefix(2);
  }
  if (!AllHex(v)) {
    return Status::InvalidArgument("property " + std::string(prop) + " ('" +
                                   std::string(raw) +
                                   "') does not parse as a hex number.");
  }
  while (v.size() > 1 && v.front() == '0') v.remove_prefix(1);
  uint64_t value = v.size() > 9 ? uint64_t{1} << 40
                                : std::stoull(std::string(v), nullptr, 16);
  if (value > max) {
    return Status::InvalidArgument(
        "property " + std::string(prop) + " (" + std::string(raw) +
        ") is greater than the maximum allowable value (" + UpperHex(max) +
        ").");
  }
  return static_cast<uint32_t>(value);
}

std::string WrongFormat(std::string_view addr) {
  return "The PCI address " + std::string(addr) +
         " has an incorrect format. Accepted: a glob string "
         "\"[[[[domain]:]bus]:][slot][.[function]]\" whose fields are hex "
         "numbers or *, or an object with string regexes for \"domain\", "
         "\"bus\", \"slot\", \"function\".";
}

std::string JsonTypeName(const json& v) {
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "a boolean";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  if (v.is_null()) return "null";
  return "a string";
}

std::optional<int> ReadInt(const std::filesystem::path& p) {
  auto text = sysfs::ReadOptional(p);
  if (!text) return std::nullopt;
  auto v = sysfs::ParseInt(Trim(*text));
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

std::optional<uint32_t> ReadHex(const std::filesystem::path& p) {
  auto text = sysfs::ReadOptional(p);
  if (!text) return std::nullopt;
  return sysfs::ParseHex(Trim(*text));
}

const std::vector<std::string> kBoolTags = {
    "managed", "live_migratable", "one_time_use", "trusted", "remote_managed"};

}  // namespace

// ---------------------------------------------------------------- AddressSpec

Result<AddressSpec> AddressSpec::ParseGlob(std::string_view text) {
  AddressSpec spec;
  size_t dot = text.find('.');
  std::string_view dbs = text.substr(0, dot);
  std::string_view func =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  std::array<std::string, 4> raw = {"*", "*", "*", "*"};
  // Nova checks the function first, then domain, bus, slot.
  if (!func.empty()) raw[3] = std::string(Trim(func));
  if (!dbs.empty()) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (true) {
      size_t colon = dbs.find(':', start);
      parts.push_back(dbs.substr(start, colon - start));
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
    if (parts.size() > 3) {
      return Status::InvalidArgument(WrongFormat(text));
    }
    size_t offset = 3 - parts.size();
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string_view f = Trim(parts[i]);
      raw[offset + i] = f.empty() ? "*" : std::string(f);
    }
  }
  for (int i : {3, 0, 1, 2}) {
    if (raw[i] == "*") continue;
    Result<uint32_t> v = ParseHexProperty(kFieldNames[i], raw[i], kFieldMax[i]);
    if (!v.ok()) return v.status();
    spec.glob_[i] = PaddedHex(*v, kFieldWidth[i]);
  }
  return spec;
}

Result<AddressSpec> AddressSpec::ParseRegex(
    const std::map<std::string, std::string>& fields) {
  AddressSpec spec;
  spec.is_regex_ = true;
  for (size_t i = 0; i < 4; ++i) {
    auto it = fields.find(std::string(kRegexKeys[i]));
    if (it == fields.end()) continue;
    spec.pattern_[i] = it->second;
    try {
      spec.regex_[i] = std::regex(it->second, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status::InvalidArgument(
          WrongFormat(spec.ToString()) + " The " + std::string(kRegexKeys[i]) +
          " pattern '" + it->second + "' is not a valid regex: " + e.what());
    }
  }
  return spec;
}

AddressSpec AddressSpec::Exact(const PciAddress& addr) {
  AddressSpec spec;
  spec.glob_ = {addr.DomainHex(), addr.BusHex(), addr.SlotHex(),
                addr.FunctionHex()};
  return spec;
}

bool AddressSpec::Matches(const PciAddress& addr) const {
  const std::array<std::string, 4> fields = {
      addr.DomainHex(), addr.BusHex(), addr.SlotHex(), addr.FunctionHex()};
  for (size_t i = 0; i < 4; ++i) {
    if (is_regex_) {
      // Whole-field match (Nova anchors at the start only: B4).
      if (regex_[i] && !std::regex_match(fields[i], *regex_[i])) return false;
    } else if (glob_[i] && *glob_[i] != fields[i]) {
      return false;
    }
  }
  return true;
}

std::optional<PciAddress> AddressSpec::SingleAddress() const {
  std::array<uint32_t, 4> v{};
  for (size_t i = 0; i < 4; ++i) {
    const std::optional<std::string>& f = is_regex_ ? pattern_[i] : glob_[i];
    if (!f || !AllHex(*f) || f->size() > 8) return std::nullopt;
    v[i] = static_cast<uint32_t>(std::stoul(*f, nullptr, 16));
    if (v[i] > kFieldMax[i]) return std::nullopt;
  }
  return PciAddress{v[0], static_cast<uint8_t>(v[1]),
                    static_cast<uint8_t>(v[2]), static_cast<uint8_t>(v[3])};
}

std::string AddressSpec::ToString() const {
  if (is_regex_) {
    std::string out = "{";
    for (size_t i = 0; i < 4; ++i) {
      if (!pattern_[i]) continue;
      if (out.size() > 1) out += ", ";
      out += "\"" + std::string(kRegexKeys[i]) + "\": \"" + *pattern_[i] + "\"";
    }
    return out + "}";
  }
  auto f = [&](size_t i) { return glob_[i] ? *glob_[i] : std::string("*"); };
  return f(0) + ":" + f(1) + ":" + f(2) + "." + f(3);
}

// ----------------------------------------------------------------- DeviceSpec

std::optional<bool> ParseStrictBool(std::string_view text) {
  std::string v = Lower(Trim(text));
  for (const char* t : {"1", "t", "true", "on", "y", "yes"}) {
    if (v == t) return true;
  }
  for (const char* f : {"0", "f", "false", "off", "n", "no"}) {
    if (v == f) return false;
  }
  return std::nullopt;
}

const std::vector<std::string>& KnownTagNames() {
  static const std::vector<std::string> kTags = {
      "physical_network", "trusted",      "remote_managed", "managed",
      "live_migratable",  "one_time_use", "resource_class", "traits"};
  return kTags;
}

namespace {

Result<DeviceSpec> SpecFromObject(const json& obj, const std::string& raw,
                                  const std::string& where,
                                  const HostRoot& host,
                                  const DeviceSpecOptions& options);

}  // namespace

class DeviceSpecBuilder {
 public:
  static Result<DeviceSpec> Build(const json& obj, const std::string& raw,
                                  const std::string& where,
                                  const HostRoot& host,
                                  const DeviceSpecOptions& options);
};

Result<DeviceSpec> DeviceSpec::FromJson(const std::string& json_object_text,
                                        const std::string& where,
                                        const HostRoot& host,
                                        const DeviceSpecOptions& options) {
  if (Status d = CheckJsonDepth(json_object_text, kMaxSpecJsonDepth); !d.ok()) {
    return Status::InvalidArgument(
        where + ": " + std::string(kDeviceSpecErrorPrefix) +
        "Invalid entry: " + d.message() + "; a device_spec is one JSON object");
  }
  json obj;
  try {
    obj = json::parse(json_object_text);
  } catch (const json::exception&) {
    return Status::InvalidArgument(
        where + ": " + std::string(kDeviceSpecErrorPrefix) +
        "Invalid entry: '" + ShowText(json_object_text) + "'");
  }
  if (!obj.is_object()) {
    return Status::InvalidArgument(
        where + ": " + std::string(kDeviceSpecErrorPrefix) +
        "Invalid entry: '" + ShowText(json_object_text) + "'; Expecting dict");
  }
  return SpecFromObject(obj, json_object_text, where, host, options);
}

bool DeviceSpec::remote_managed() const {
  auto it = tags_.find("remote_managed");
  return it != tags_.end() && it->second == "true";
}

SpecMatch DeviceSpec::Match(
    const PciDevice& dev,
    const std::function<std::optional<std::string>(const PciAddress&)>&
        vpd_serial) const {
  auto fail = [](std::string key, std::string detail) {
    return SpecMatch{false, std::move(key), std::move(detail)};
  };
  auto hex4 = [](const std::optional<uint16_t>& v) {
    return v ? PaddedHex(*v, 4) : std::string("unknown");
  };
  if (vendor_id_ && dev.vendor_id != vendor_id_) {
    return fail("vendor_id", "device vendor_id " + hex4(dev.vendor_id) +
                                 " is not the spec's " + hex4(vendor_id_));
  }
  if (product_id_ && dev.product_id != product_id_) {
    return fail("product_id", "device product_id " + hex4(dev.product_id) +
                                  " is not the spec's " + hex4(product_id_));
  }
  if (devname_) {
    if (!facts_.devname_address) {
      return fail("devname", "netdev '" + *devname_ +
                                 "' was not present when the config was "
                                 "loaded, so the spec selects nothing");
    }
    const PciAddress& target = *facts_.devname_address;
    bool hit = dev.address == target ||
               (facts_.is_pf && dev.physfn && *dev.physfn == target);
    if (!hit) {
      return fail("devname",
                  "netdev '" + *devname_ + "' is " + target.ToString() +
                      (facts_.is_pf ? " (a PF; its VFs match too)" : "") +
                      ", not this device");
    }
  } else {
    bool hit = false;
    if (facts_.is_pf && dev.physfn && address_.Matches(*dev.physfn)) {
      hit = true;
    } else {
      hit = address_.Matches(dev.address);
    }
    if (!hit) {
      std::string detail = "address " + dev.address.ToString() +
                           " does not match " + address_.ToString();
      if (dev.physfn) {
        detail += facts_.is_pf
                      ? " (nor does its PF " + dev.physfn->ToString() + ")"
                      : " (the spec is not a single PF address, so "
                        "the VF's PF " +
                            dev.physfn->ToString() + " is not considered)";
      }
      return fail("address", detail);
    }
  }
  if (remote_managed()) {
    std::optional<std::string> serial;
    if (vpd_serial) {
      serial = vpd_serial(dev.address);
      if ((!serial || serial->empty()) && dev.physfn) {
        serial = vpd_serial(*dev.physfn);
      }
    }
    if (!serial || serial->empty()) {
      return fail("remote_managed",
                  "remote_managed devices need a VPD card serial number "
                  "(on the device or its PF); none was found");
    }
  }
  return SpecMatch{true, "", ""};
}

namespace {

Status SpecError(const std::string& where, const std::string& msg) {
  return Status::InvalidArgument(where + ": " +
                                 std::string(kDeviceSpecErrorPrefix) + msg);
}

Result<std::optional<uint16_t>> ParseIdKey(const std::string& where,
                                           const std::string& key,
                                           const json& v) {
  if (!v.is_string()) {
    return SpecError(where, "key '" + key +
                                "' must be a JSON string with 4 "
                                "hex digits or \"*\" (e.g. \"8086\"), got " +
                                v.dump() + " (" + JsonTypeName(v) + ")");
  }
  std::string s = v.get<std::string>();
  if (Trim(s) == "*") return std::optional<uint16_t>();
  Result<uint32_t> id = ParseHexProperty(key, s, 0xffff);
  if (!id.ok()) return SpecError(where, id.status().message());
  return std::optional<uint16_t>(static_cast<uint16_t>(*id));
}

Result<DeviceSpec> SpecFromObject(const json& obj, const std::string& raw,
                                  const std::string& where,
                                  const HostRoot& host,
                                  const DeviceSpecOptions& options) {
  return DeviceSpecBuilder::Build(obj, raw, where, host, options);
}

}  // namespace

Result<DeviceSpec> DeviceSpecBuilder::Build(const json& obj,
                                            const std::string& raw,
                                            const std::string& where,
                                            const HostRoot& host,
                                            const DeviceSpecOptions& options) {
  DeviceSpec spec;
  spec.where_ = where;
  spec.raw_ = raw;
  bool have_address = false;
  for (const auto& [key, v] : obj.items()) {
    if (key == "vendor_id" || key == "product_id") {
      auto id = ParseIdKey(where, key, v);
      if (!id.ok()) return id.status();
      (key == "vendor_id" ? spec.vendor_id_ : spec.product_id_) = *id;
    } else if (key == "address") {
      if (v.is_string()) {
        auto a = AddressSpec::ParseGlob(v.get<std::string>());
        if (!a.ok()) return SpecError(where, a.status().message());
        spec.address_ = *a;
        have_address = !v.get<std::string>().empty();
      } else if (v.is_object()) {
        std::map<std::string, std::string> fields;
        for (const auto& [rk, rv] : v.items()) {
          if (std::find(kRegexKeys.begin(), kRegexKeys.end(), rk) ==
              kRegexKeys.end()) {
            return SpecError(
                where, "unknown key '" + rk + "' in the regex address " +
                           v.dump() +
                           "; accepted keys: domain, bus, slot, function");
          }
          if (!rv.is_string()) {
            return SpecError(where, "regex address key '" + rk +
                                        "' must be a string, got " + rv.dump() +
                                        " (" + JsonTypeName(rv) + ")");
          }
          fields[rk] = rv.get<std::string>();
        }
        auto a = AddressSpec::ParseRegex(fields);
        if (!a.ok()) return SpecError(where, a.status().message());
        spec.address_ = *a;
        have_address = !fields.empty();
      } else if (v.is_null()) {
        // Nova treats a falsy address as "*:*:*.*".
      } else {
        return SpecError(where, WrongFormat(v.dump()));
      }
    } else if (key == "devname") {
      if (!v.is_string()) {
        return SpecError(where,
                         "key 'devname' must be a string naming a "
                         "network interface, got " +
                             v.dump());
      }
      std::string name = v.get<std::string>();
      // Nova: an empty devname counts as absent.
      if (!name.empty()) spec.devname_ = name;
    } else {
      // A tag.
      bool known = std::find(KnownTagNames().begin(), KnownTagNames().end(),
                             key) != KnownTagNames().end();
      if (!known && key.rfind("x-", 0) != 0 && !options.extra_tags.count(key)) {
        std::string accepted = "vendor_id, product_id, address, devname";
        for (const std::string& t : KnownTagNames()) accepted += ", " + t;
        std::string msg = "unknown key '" + key + "' (value " + v.dump() +
                          "); accepted keys: ";
        msg += accepted;
        msg += ", and tags named in [pci]extra_tags or starting with 'x-'";
        return SpecError(where, msg);
      }
      std::optional<std::string> value;
      if (v.is_string()) {
        value = v.get<std::string>();
      } else if (v.is_boolean()) {
        value = v.get<bool>() ? "true" : "false";
      } else if (v.is_number()) {
        value = v.dump();
      } else if (!v.is_null()) {
        return SpecError(where, "tag '" + key +
                                    "' must be a string, boolean, number or "
                                    "null, got " +
                                    v.dump());
      }
      if (std::find(kBoolTags.begin(), kBoolTags.end(), key) !=
          kBoolTags.end()) {
        if (!value) {
          return SpecError(where, "Cannot parse tag '" + key +
                                      "': Unrecognized value 'None', "
                                      "acceptable values are: '0', '1', 'f', "
                                      "'false', 'n', 'no', 'off', 'on', 't', "
                                      "'true', 'y', 'yes'");
        }
        std::optional<bool> b = ParseStrictBool(*value);
        if (!b) {
          return SpecError(where, "Cannot parse tag '" + key +
                                      "': Unrecognized value '" + *value +
                                      "', acceptable values are: '0', '1', "
                                      "'f', 'false', 'n', 'no', 'off', 'on', "
                                      "'t', 'true', 'y', 'yes'");
        }
        value = *b ? "true" : "false";
      }
      spec.tags_[key] = value;
    }
  }
  if (have_address && spec.devname_) {
    return Status::InvalidArgument(
        where +
        ": Invalid PCI Whitelist: The PCI whitelist can specify "
        "devname or address, but not both");
  }
  auto otu = spec.tags_.find("one_time_use");
  if (otu != spec.tags_.end() && otu->second == "true" &&
      !options.report_in_placement) {
    return SpecError(where,
                     "one_time_use=true requires pci.report_in_placement to "
                     "be enabled");
  }
  // Resolve host facts once, now (B16).
  std::optional<PciAddress> single;
  if (spec.devname_) {
    auto base =
        sysfs::LinkBasename(host.ClassDir("net") / *spec.devname_ / "device");
    if (base) {
      auto addr = PciAddress::Parse(*base);
      if (addr.ok()) spec.facts_.devname_address = *addr;
    }
    single = spec.facts_.devname_address;
  } else {
    single = spec.address_.SingleAddress();
  }
  if (single) {
    auto total = ReadInt(host.PciDeviceDir(*single) / "sriov_totalvfs");
    spec.facts_.is_pf = total && *total > 0;
  }
  if (spec.remote_managed()) {
    if (spec.devname_ && !spec.facts_.devname_address) {
      return Status::InvalidArgument(
          where +
          ": Invalid PCI Whitelist: A device specified as "
          "\"remote_managed\" is not actually present on the host "
          "(netdev '" +
          *spec.devname_ + "' does not exist)");
    }
    if (single && spec.facts_.is_pf) {
      std::filesystem::path pf_dir = host.PciDeviceDir(*single);
      auto vf_dev = ReadHex(pf_dir / "sriov_vf_device");
      auto pf_vendor = ReadHex(pf_dir / "vendor");
      auto pf_product = ReadHex(pf_dir / "device");
      auto eq = [](const std::optional<uint16_t>& spec_id,
                   const std::optional<uint32_t>& actual) {
        return spec_id && actual && *spec_id == *actual;
      };
      bool vendor_ok = !spec.vendor_id_ || eq(spec.vendor_id_, pf_vendor);
      if (eq(spec.product_id_, vf_dev) && vendor_ok) {
        // "The VFs of this PF": fine.
      } else if ((!spec.product_id_ || eq(spec.product_id_, pf_product)) &&
                 vendor_ok) {
        return Status::InvalidArgument(
            where +
            ": Invalid PCI Whitelist: PFs must not have the "
            "\"remote_managed\" tag, device address: " +
            single->ToString() + " (set product_id to the VF device id " +
            (vf_dev ? PaddedHex(*vf_dev, 4)
                    : std::string("from "
                                  "sriov_vf_device")) +
            " to select its VFs)");
      } else {
        auto show = [](const std::optional<uint16_t>& v) {
          return v ? PaddedHex(*v, 4) : std::string("*");
        };
        return SpecError(where,
                         "the specified VF vendor ID " + show(spec.vendor_id_) +
                             " and product ID " + show(spec.product_id_) +
                             " do not match the expected VF IDs based on the "
                             "corresponding PF identified by PCI address " +
                             single->ToString());
      }
    }
  }
  return spec;
}

std::vector<DeviceSpec> ParseDeviceSpecValue(const std::string& value,
                                             const std::string& where,
                                             const HostRoot& host,
                                             const DeviceSpecOptions& options,
                                             std::vector<Status>* errors) {
  std::vector<DeviceSpec> specs;
  if (Status d = CheckJsonDepth(value, kMaxSpecJsonDepth); !d.ok()) {
    errors->push_back(SpecError(
        where, "Invalid entry: " + d.message() +
                   "; a device_spec is a JSON object or a list of objects"));
    return specs;
  }
  json doc;
  try {
    doc = json::parse(value);
  } catch (const json::exception&) {
    errors->push_back(
        SpecError(where, "Invalid entry: '" + ShowText(value) + "'"));
    return specs;
  }
  if (auto dup = FindDuplicateJsonKey(value)) {
    errors->push_back(SpecError(
        dup->entry > 0 ? where + " entry " + std::to_string(dup->entry) : where,
        "key '" + ShowValue(dup->key, 40) +
            "' appears twice in one object; keep one (JSON keeps only the "
            "last, which would silently change what the entry selects)"));
    return specs;
  }
  if (doc.is_object()) {
    auto spec = DeviceSpecBuilder::Build(doc, value, where, host, options);
    if (spec.ok()) {
      specs.push_back(std::move(*spec));
    } else {
      errors->push_back(spec.status());
    }
    return specs;
  }
  if (!doc.is_array()) {
    errors->push_back(SpecError(where, "Invalid entry: '" + ShowText(value) +
                                           "'; Expecting list or dict"));
    return specs;
  }
  int n = 0;
  for (const json& element : doc) {
    ++n;
    std::string entry_where = where + " entry " + std::to_string(n);
    if (!element.is_object()) {
      std::string repr =
          element.is_string() ? element.get<std::string>() : element.dump();
      errors->push_back(
          SpecError(entry_where,
                    "Invalid entry: '" + ShowText(repr) + "'; Expecting dict"));
      continue;
    }
    auto spec = DeviceSpecBuilder::Build(element, element.dump(), entry_where,
                                         host, options);
    if (spec.ok()) {
      specs.push_back(std::move(*spec));
    } else {
      errors->push_back(spec.status());
    }
  }
  return specs;
}

}  // namespace pcipass
