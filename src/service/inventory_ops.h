// Read-only operations on the host's inventory and the selection config:
// check (host readiness), devices (list), show, groups, explain and config
// check. None of them writes anything (not sysfs, not the ledger).
#ifndef PCIPASS_SERVICE_INVENTORY_OPS_H_
#define PCIPASS_SERVICE_INVENTORY_OPS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/host_check.h"
#include "core/inventory.h"
#include "select/allowlist.h"
#include "select/assess.h"
#include "select/devspec.h"
#include "service/reply.h"

namespace pcipass::service {

// ---- check: is this host ready for PCI passthrough? ----
struct CheckParams {
  // No fields; FromJson accepts only an empty object (or null).
  static Result<CheckParams> FromJson(const nlohmann::json& body);
};
struct CheckReply : Reply {
  HostReport report;          // summary set when discovery worked
  std::string summary_error;  // why there is no summary
};
// status: OK when ready; FailedPrecondition (the verdict) when not ready
// (json is still the full report); InvalidArgument when the host root is
// not a directory.
CheckReply Check(const ServiceEnv& env, const CheckParams& params);

// ---- devices: every PCI function with what the rules say about it ----
struct DevicesParams {
  bool allowed_only = false;     // "allowed": only devices a spec selects
  bool assignable_only = false;  // "assignable": only assignable now
  static Result<DevicesParams> FromJson(const nlohmann::json& body);
};
struct DeviceRow {
  PciDevice device;
  Assessment assessment;
};
struct DevicesReply : Reply {
  bool have_config = false;
  std::vector<std::string> config_warnings;  // also in json["warnings"]
  std::vector<DeviceRow> rows;               // filtered, address order
};
// json: {"config": path|null, "devices": [row...], "warnings": [...]}
// (rows as service/selection_view.h DeviceRowJson). Fails: invalid config
// (FailConfig), discovery error.
DevicesReply ListDevices(const ServiceEnv& env, const DevicesParams& params);

// ---- show: everything known about one PCI function ----
struct ShowParams {
  std::string address;  // "address", required
  static Result<ShowParams> FromJson(const nlohmann::json& body);
};
struct ShowReply : Reply {
  PciDevice device;
  Assessment assessment;
  bool have_group = false;
  bool group_viable = false;
  std::vector<std::string> group_members;
};
// json: the device row plus iommu_group_members and iommu_group_viable.
// Fails: InvalidArgument (malformed address), NotFound (no such device),
// invalid config, discovery error.
ShowReply ShowDevice(const ServiceEnv& env, const ShowParams& params);

// ---- groups: IOMMU groups and whether VFIO can use them ----
struct GroupsParams {
  bool non_viable_only = false;  // "non_viable"
  static Result<GroupsParams> FromJson(const nlohmann::json& body);
};
struct GroupsReply : Reply {
  Inventory inventory;  // discovered without host use (fast)
};
// json: {"groups": [GroupJson...], "warnings": [...]}; warnings are the
// discovery's (the CLI prints them only with -v).
GroupsReply ListGroups(const ServiceEnv& env, const GroupsParams& params);

// ---- explain: why a device is or is not selected and assignable ----
struct ExplainParams {
  std::string address;  // "address", required
  std::string alias;    // "alias": also judge this [pci]alias
  static Result<ExplainParams> FromJson(const nlohmann::json& body);
};
struct AliasVerdict {
  std::string name;
  bool satisfied = false;
  std::vector<std::string> mismatches;  // one per alias spec, if not
};
struct ExplainReply : Reply {
  PciDevice device;
  Assessment assessment;
  AllowDecision decision;
  bool have_config = false;
  std::string config_path;
  std::vector<DeviceSpec> specs;
  std::vector<AliasVerdict> verdicts;
};
// status: OK when assignable (and satisfying |alias| if given), else
// FailedPrecondition with the full document. Fails: bad address, unknown
// device, alias not defined (NotFound), invalid config.
ExplainReply Explain(const ServiceEnv& env, const ExplainParams& params);

// ---- config check: validate a config file ----
struct ConfigCheckParams {
  std::string file;  // "file": default env.config_path
  static Result<ConfigCheckParams> FromJson(const nlohmann::json& body);
};
struct ConfigCheckReply : Reply {
  std::string path;
  bool valid = false;
  bool not_found = false;  // the file does not exist (errors[0] says so)
  std::vector<Status> errors;
  std::vector<std::string> load_warnings;
  size_t device_specs = 0;
  std::vector<std::string> aliases;
  bool host_state_empty = true;
  size_t host_vfio_selectors = 0;
  size_t host_sriov_targets = 0;
};
// status: OK valid; FailedPrecondition invalid (config_errors set, json is
// the full report); InvalidArgument when no file is named.
ConfigCheckReply CheckConfig(const ServiceEnv& env,
                             const ConfigCheckParams& params);

}  // namespace pcipass::service

#endif  // PCIPASS_SERVICE_INVENTORY_OPS_H_
