// DeviceSpec: one `[pci]device_spec` entry, parsed and validated the way
// Nova parses it (nova-pci-semantics.md section 2), with Nova's bugs fixed.
//
// An entry selects devices by vendor_id, product_id and either an address
// (a glob string "[[[[dom]:]bus]:][slot][.[func]]" or a regex object
// {"domain","bus","slot","function"}) or a devname (a netdev whose PCI
// device is the target). Every other key is a tag that travels with the
// devices it selects (physical_network, trusted, managed, ...). A spec whose
// address is one PF (sriov_totalvfs > 0) also selects that PF's VFs.
//
// Error messages keep Nova's exact text after the prefix
// "Invalid [pci]device_spec config: " so operators can search for them,
// and are preceded by where the entry is ("nova.conf:12 entry 2").
//
// Better than Nova (each in docs/nova-compatibility.md): regex fields must
// match the WHOLE field (B4); unknown regex keys and non-string regex values
// are errors (B4); hex fields reject signs and '_' (B14); JSON numbers for
// ids are a clear error (B14); trusted and remote_managed are strict bools
// normalised to "true"/"false" like managed (B5); a remote_managed PF
// address reads the real PF sysfs directory (B1); devname is resolved once,
// when the config is loaded (B16); unknown tag names are errors unless they
// start with "x-" or are listed in [pci]extra_tags.
#ifndef PCIPASS_SELECT_DEVSPEC_H_
#define PCIPASS_SELECT_DEVSPEC_H_

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/device.h"
#include "core/host_root.h"
#include "core/status.h"

namespace pcipass {

inline constexpr std::string_view kDeviceSpecErrorPrefix =
    "Invalid [pci]device_spec config: ";

// Tag values are strings or null (JSON null), as in Nova pools.
using TagMap = std::map<std::string, std::optional<std::string>>;

// The address part of a spec: glob or regex, or "any" when absent.
class AddressSpec {
 public:
  // Matches every address ("*:*:*.*").
  AddressSpec() = default;

  // Glob grammar of section 2.3. Errors (InvalidArgument) carry Nova's
  // message without the prefix, e.g. "property func (8) is greater than the
  // maximum allowable value (7)." or "The PCI address 0000:0a:0b:00.5 has an
  // incorrect format. ...".
  static Result<AddressSpec> ParseGlob(std::string_view text);
  // Regex form of section 2.4 (keys domain, bus, slot, function; each a
  // regex that must match the whole normalised field).
  static Result<AddressSpec> ParseRegex(
      const std::map<std::string, std::string>& fields);
  static AddressSpec Exact(const PciAddress& addr);

  bool Matches(const PciAddress& addr) const;
  // The one address this spec names (all four fields plain hex), if any;
  // used to detect a PF address that also selects its VFs.
  std::optional<PciAddress> SingleAddress() const;
  // "*:0a:00.*" for a glob, "regex{bus=0a,...}" for a regex.
  std::string ToString() const;
  bool is_regex() const { return is_regex_; }

 private:
  bool is_regex_ = false;
  // Glob: normalised field text or nullopt for "*". Order: domain, bus,
  // slot, function.
  std::array<std::optional<std::string>, 4> glob_;
  // Regex: raw pattern (nullopt = ".*") and compiled form.
  std::array<std::optional<std::string>, 4> pattern_;
  std::array<std::optional<std::regex>, 4> regex_;
};

// How the spec found out what a devname or PF address refers to.
struct SpecHostFacts {
  // devname -> PCI address, resolved at load; nullopt if not present.
  std::optional<PciAddress> devname_address;
  // The spec's single address (or devname) is a PF with VFs possible.
  bool is_pf = false;
};

// Why a spec did or did not match a device: the first key that failed.
struct SpecMatch {
  bool matched = false;
  std::string key;     // "vendor_id", "product_id", "address", "devname",
                       // "remote_managed"; empty when matched
  std::string detail;  // "vendor_id 15b3 != spec 8086"
};

// Options that change parsing.
struct DeviceSpecOptions {
  bool report_in_placement = false;  // [pci]report_in_placement
  std::set<std::string> extra_tags;  // [pci]extra_tags
};

class DeviceSpec {
 public:
  friend class DeviceSpecBuilder;  // devspec.cc

  // Parses one JSON object (already decoded). |where| prefixes errors
  // ("nova.conf:12 entry 1"). |host| is read for a devname's target and for
  // sriov_totalvfs / sriov_vf_device of a single PF address.
  // Errors: InvalidArgument with "<where>: Invalid [pci]device_spec config:
  // <Nova text>" or a pcipass message that names the key, the bad value and
  // what is accepted.
  static Result<DeviceSpec> FromJson(const std::string& json_object_text,
                                     const std::string& where,
                                     const HostRoot& host,
                                     const DeviceSpecOptions& options);

  // Whether |dev| is selected, and if not, the first key that failed.
  // |vpd_serial| returns a device's VPD card serial number (for
  // remote_managed specs); without it remote_managed specs match nothing.
  SpecMatch Match(
      const PciDevice& dev,
      const std::function<std::optional<std::string>(const PciAddress&)>&
          vpd_serial = {}) const;

  const std::optional<uint16_t>& vendor_id() const { return vendor_id_; }
  const std::optional<uint16_t>& product_id() const { return product_id_; }
  const AddressSpec& address() const { return address_; }
  const std::optional<std::string>& devname() const { return devname_; }
  const SpecHostFacts& facts() const { return facts_; }
  // Tags after normalisation (bool tags are "true"/"false").
  const TagMap& tags() const { return tags_; }
  bool remote_managed() const;
  const std::string& where() const { return where_; }
  const std::string& raw() const { return raw_; }

 private:
  std::string where_;
  std::string raw_;
  std::optional<uint16_t> vendor_id_;
  std::optional<uint16_t> product_id_;
  AddressSpec address_;
  std::optional<std::string> devname_;
  SpecHostFacts facts_;
  TagMap tags_;
};

// Parses one `device_spec` value: a JSON object or a list of objects. Each
// object becomes a spec, in order; "[]" gives none. |where| is the config
// location ("nova.conf:12"); entries are named "<where> entry <n>" (n from
// 1). Errors are appended to |errors| and the bad objects are skipped, so a
// config check reports every problem at once.
std::vector<DeviceSpec> ParseDeviceSpecValue(const std::string& value,
                                             const std::string& where,
                                             const HostRoot& host,
                                             const DeviceSpecOptions& options,
                                             std::vector<Status>* errors);

// Strict boolean as Nova's strutils.bool_from_string(strict=True): after
// trimming, case-insensitive 1 t true on y yes / 0 f false off n no.
std::optional<bool> ParseStrictBool(std::string_view text);

// Tag names with a meaning in Nova.
const std::vector<std::string>& KnownTagNames();

}  // namespace pcipass

#endif  // PCIPASS_SELECT_DEVSPEC_H_
