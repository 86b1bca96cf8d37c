#include "select/config.h"

#include <algorithm>
#include <cctype>

#include "core/bounded_input.h"
#include "core/sysfs.h"

namespace pcipass {

namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// A single-valued oslo bool option.
void ReadBool(const IniFile& ini, const std::string& section,
              const std::string& key, bool* out, std::vector<Status>* errors) {
  std::vector<IniEntry> all = ini.GetAll(section, key);
  if (all.empty()) return;
  const IniEntry& e = all.back();
  std::optional<bool> b = ParseStrictBool(e.value);
  if (!b) {
    errors->push_back(Status::InvalidArgument(
        ini.Where(e.line) + ": [" + section + "]" + key + " is '" + e.value +
        "'; accepted: true or false (also 1/0, yes/no, on/off)"));
    return;
  }
  *out = *b;
}

}  // namespace

const std::vector<std::string>& AcceptedPciKeys() {
  static const std::vector<std::string> kKeys = {
      "device_spec", "passthrough_whitelist", "alias", "report_in_placement",
      "extra_tags"};
  return kKeys;
}

ConfigLoad ParseConfig(std::string_view text, const std::string& source,
                       const HostRoot& host) {
  ConfigLoad load;
  load.config.path = source;
  Result<IniFile> ini = IniFile::Parse(text, source);
  if (!ini.ok()) {
    load.errors.push_back(ini.status());
    return load;
  }
  Config& cfg = load.config;
  cfg.ini = std::move(*ini);
  const IniFile& f = cfg.ini;

  for (const IniEntry& e : f.entries()) {
    if (e.section != "pci") continue;
    const auto& keys = AcceptedPciKeys();
    if (std::find(keys.begin(), keys.end(), e.key) == keys.end()) {
      std::string accepted;
      for (const std::string& k : keys) {
        accepted += accepted.empty() ? k : ", " + k;
      }
      load.errors.push_back(
          Status::InvalidArgument(f.Where(e.line) + ": unknown key '" + e.key +
                                  "' in [pci]; accepted keys: " + accepted));
    }
  }
  ReadBool(f, "pci", "report_in_placement", &cfg.report_in_placement,
           &load.errors);
  ReadBool(f, "filter_scheduler", "pci_in_placement", &cfg.pci_in_placement,
           &load.errors);
  for (const IniEntry& e : f.GetAll("pci", "extra_tags")) {
    std::string_view rest = e.value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string tag = Trim(rest.substr(0, comma));
      if (!tag.empty()) cfg.extra_tags.insert(tag);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }

  DeviceSpecOptions options;
  options.report_in_placement = cfg.report_in_placement;
  options.extra_tags = cfg.extra_tags;
  // Config order across the old and new names: by line.
  std::vector<IniEntry> spec_entries;
  for (const IniEntry& e : f.entries()) {
    bool is_spec =
        (e.section == "pci" &&
         (e.key == "device_spec" || e.key == "passthrough_whitelist")) ||
        (e.section == "DEFAULT" && e.key == "pci_passthrough_whitelist");
    if (!is_spec) continue;
    if (e.key != "device_spec") {
      load.warnings.push_back(f.Where(e.line) + ": [" + e.section + "]" +
                              e.key +
                              " is a deprecated name; use [pci]device_spec");
    }
    spec_entries.push_back(e);
  }
  for (const IniEntry& e : spec_entries) {
    std::vector<DeviceSpec> specs = ParseDeviceSpecValue(
        e.value, f.Where(e.line), host, options, &load.errors);
    for (DeviceSpec& s : specs) {
      if (s.devname() && !s.facts().devname_address) {
        load.warnings.push_back(s.where() + ": devname '" + *s.devname() +
                                "' is not a network interface on this host; "
                                "the entry selects nothing");
      }
      cfg.device_specs.push_back(std::move(s));
    }
  }

  std::vector<AliasEntry> alias_entries;
  for (const IniEntry& e : f.entries()) {
    if ((e.section == "pci" && e.key == "alias") ||
        (e.section == "DEFAULT" && e.key == "pci_alias")) {
      alias_entries.push_back({e.value, f.Where(e.line)});
    }
  }
  cfg.aliases = ParseAliases(alias_entries, cfg.pci_in_placement, &load.errors);
  return load;
}

ConfigLoad LoadConfig(const std::filesystem::path& path, const HostRoot& host) {
  Result<std::string> text = ReadUserFile(path, kMaxConfigBytes);
  if (!text.ok()) {
    ConfigLoad load;
    load.config.path = path.string();
    load.errors.push_back(
        text.status().WithContext("read config " + path.string()));
    return load;
  }
  return ParseConfig(*text, path.string(), host);
}

}  // namespace pcipass
