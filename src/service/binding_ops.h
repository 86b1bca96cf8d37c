// Operations that change which driver owns a device or how many VFs exist:
// detach (to vfio-pci), reattach (back to the host drivers), sriov (a PF's
// VF count), apply (the config's [host] desired state), and vfio-check (a
// read-only probe). They write sysfs (binding/handoff.h, binding/sriov.h,
// binding/desired_state.h) and serialise on flock(<state>/lock) across
// threads and processes. Reattach, sriov and apply first read the claims
// ledger and refuse to take a claimed device from its instance.
#ifndef PCIPASS_SERVICE_BINDING_OPS_H_
#define PCIPASS_SERVICE_BINDING_OPS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "binding/desired_state.h"
#include "binding/handoff.h"
#include "binding/sriov.h"
#include "binding/vfio_probe.h"
#include "service/reply.h"

namespace pcipass::service {

// ---- detach: hand devices to vfio-pci ----
struct DetachParams {
  std::vector<std::string> addresses;  // "addresses", required
  bool dry_run = false;                // "dry_run": plan only
  bool group = false;                  // "group": whole IOMMU groups
  std::string force;                   // "force": REASON to take host-used
  int timeout_ms = 15000;              // "timeout_ms": per sysfs write
  static Result<DetachParams> FromJson(const nlohmann::json& body);
};
struct HandOffReply : Reply {
  HandOffReport report;
  bool dry_run = false;
};
// json: binding/report.h HandOffReportToJson. Progress: "plan", "done".
HandOffReply Detach(const ServiceEnv& env, const DetachParams& params);

// ---- reattach: give devices back to their host drivers ----
struct ReattachParams {
  std::vector<std::string> addresses;  // "addresses", required
  bool dry_run = false;                // "dry_run"
  bool group = false;                  // "group"
  std::string force;       // "force": REASON to take claimed devices anyway
  int timeout_ms = 15000;  // "timeout_ms"
  static Result<ReattachParams> FromJson(const nlohmann::json& body);
};
// Refuses (FailedPrecondition) devices an instance holds in the ledger
// unless force is given (then a warning says so); refuses when the ledger
// cannot be read.
HandOffReply Reattach(const ServiceEnv& env, const ReattachParams& params);

// ---- sriov: set a PF's VF count ----
struct SriovParams {
  std::string pf;                 // "pf", required
  int numvfs = -1;                // "numvfs", required, >= 0
  std::optional<bool> autoprobe;  // "autoprobe": sriov_drivers_autoprobe
  bool dry_run = false;           // "dry_run"
  int timeout_ms = 30000;         // "timeout_ms"
  static Result<SriovParams> FromJson(const nlohmann::json& body);
};
struct SriovReply : Reply {
  SriovReport report;
  bool dry_run = false;
};
// Refuses removing VFs an instance holds.
SriovReply Sriov(const ServiceEnv& env, const SriovParams& params);

// ---- apply: make the host match [host] of the config ----
struct ApplyParams {
  bool dry_run = false;    // "dry_run"
  std::string force;       // "force": REASON to take host-used devices
  int timeout_ms = 30000;  // "timeout_ms"
  static Result<ApplyParams> FromJson(const nlohmann::json& body);
};
struct ApplyReply : Reply {
  ApplyReport report;
  std::string config_path;
  bool dry_run = false;
};
ApplyReply Apply(const ServiceEnv& env, const ApplyParams& params);

// ---- vfio-check: can a VMM open a device through VFIO? ----
struct VfioCheckParams {
  std::string address;  // "address", required
  static Result<VfioCheckParams> FromJson(const nlohmann::json& body);
};
struct VfioCheckReply : Reply {
  VfioProbeResult report;
};
// status: OK when usable; FailedPrecondition (json still the steps) when
// not.
VfioCheckReply VfioCheck(const ServiceEnv& env, const VfioCheckParams& params);

}  // namespace pcipass::service

#endif  // PCIPASS_SERVICE_BINDING_OPS_H_
