// Config: the `[pci]` section of a pcipass (nova.conf-style) INI file.
//
// `[pci]` holds exactly Nova's selection options: `device_spec` (old name
// `passthrough_whitelist`, also `[DEFAULT]pci_passthrough_whitelist`) and
// `alias` (old `[DEFAULT]pci_alias`), both multi-valued, plus
// `report_in_placement` and pcipass's `extra_tags` (comma-separated tag
// names that device_spec may use besides Nova's). `[filter_scheduler]
// pci_in_placement` is read for the alias check. Unknown keys in `[pci]` are
// errors; other sections belong to other layers ([host], [claims]) and are
// only kept in |ini|.
//
// LoadConfig collects every error instead of stopping at the first, so
// `pcipass config check` can list them all; a config with errors must not
// be used to select devices.
#ifndef PCIPASS_SELECT_CONFIG_H_
#define PCIPASS_SELECT_CONFIG_H_

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/host_root.h"
#include "core/status.h"
#include "select/alias.h"
#include "select/devspec.h"
#include "select/ini.h"

namespace pcipass {

struct Config {
  std::string path;  // empty: no config given (nothing is allowed)
  IniFile ini;
  std::vector<DeviceSpec> device_specs;  // config order
  AliasTable aliases;
  bool report_in_placement = false;
  bool pci_in_placement = false;
  std::set<std::string> extra_tags;
};

struct ConfigLoad {
  Config config;
  std::vector<Status> errors;         // empty: valid
  std::vector<std::string> warnings;  // e.g. deprecated option names
  bool ok() const { return errors.empty(); }
  // The file does not exist (then errors holds one NotFound naming it):
  // callers say "not found", not "invalid".
  bool not_found = false;
};

// Reads |path| and parses it (see ParseConfig). An unreadable file or INI
// syntax error is the single error.
ConfigLoad LoadConfig(const std::filesystem::path& path, const HostRoot& host);
// Parses INI |text| named |source| (for messages). |host| resolves devname
// and PF addresses once, now.
ConfigLoad ParseConfig(std::string_view text, const std::string& source,
                       const HostRoot& host);
// Section names pcipass reads; any other section gets a warning naming the
// nearest of these (config check, list).
const std::vector<std::string>& KnownConfigSections();
// The [pci] keys pcipass accepts, for messages and docs.
const std::vector<std::string>& AcceptedPciKeys();

}  // namespace pcipass

#endif  // PCIPASS_SELECT_CONFIG_H_
