#include "select/config.h"

#include <algorithm>
#include <cctype>

#include "core/bounded_input.h"
#include "core/sysfs.h"
#include "core/values.h"

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

const std::vector<std::string>& KnownConfigSections() {
  static const std::vector<std::string> kSections = {
      "DEFAULT", "pci", "filter_scheduler", "host", "claims"};
  return kSections;
}

namespace {

// Levenshtein distance, for "did you mean" (short names only).
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A warning for a section pcipass does not read, naming the nearest known
// one ("[PCI]" -> "[pci]": names are case-sensitive, like oslo.config's).
std::string UnknownSectionWarning(const std::string& source,
                                  const std::string& section) {
  std::string best;
  size_t best_distance = 3;  // suggest only close names
  for (const std::string& known : KnownConfigSections()) {
    size_t d = Lower(known) == Lower(section)
                   ? 0
                   : EditDistance(Lower(known), Lower(section));
    if (d < best_distance) {
      best_distance = d;
      best = known;
    }
  }
  std::string w = source + ": section [" + ShowValue(section, 40) +
                  "] is not one pcipass reads; its keys are ignored";
  if (!best.empty()) {
    w += "; did you mean [" + best + "]?";
    if (Lower(best) == Lower(section))
      w += " (section names are case-sensitive)";
  } else {
    std::string all;
    for (const std::string& k : KnownConfigSections()) {
      all += (all.empty() ? "[" : ", [") + k + "]";
    }
    w += "; known sections: " + all;
  }
  return w;
}

}  // namespace

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
  for (const std::string& section : f.Sections()) {
    const auto& known = KnownConfigSections();
    if (std::find(known.begin(), known.end(), section) == known.end()) {
      load.warnings.push_back(UnknownSectionWarning(source, section));
    }
  }

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
  if (load.errors.empty() && spec_entries.empty()) {
    load.warnings.push_back(
        source +
        ": no [pci] device_spec entries, so no device may be passed through "
        "(add e.g. device_spec = {\"vendor_id\": \"10de\", \"product_id\": "
        "\"2330\"} under [pci])");
  }
  return load;
}

ConfigLoad LoadConfig(const std::filesystem::path& path, const HostRoot& host) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) &&
      !std::filesystem::is_symlink(path, ec)) {
    ConfigLoad load;
    load.config.path = path.string();
    load.not_found = true;
    load.errors.push_back(Status::NotFound(
        "config file " + path.string() +
        " not found; give an existing file with --config FILE (or "
        "$PCIPASS_CONFIG), or leave both unset for no config"));
    return load;
  }
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
