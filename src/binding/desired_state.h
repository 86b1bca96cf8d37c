// Desired host state: the [host] section of the config, and `pcipass apply`
// which makes the host match it (at boot, from packaging/pcipass-apply.service,
// before libvirtd starts).
//
//   [host]
//   # devices that must be on vfio-pci: an address glob, or a JSON object
//   # with vendor_id / product_id (4 hex digits or "*") and/or address
//   vfio = 0000:06:00.0
//   vfio = 0000:03:00.[1-4]
//   vfio = {"vendor_id": "8086", "product_id": "10d3"}
//   # VF count per PF, and whether host VF drivers may probe new VFs
//   sriov_numvfs = 0000:03:00.0=2
//   sriov_autoprobe = 0000:03:00.0=off
//
// Apply first sets the VF counts (so VFs named in `vfio` exist), then
// detaches every matching device that is not on vfio-pci yet, through the
// same safe path as `pcipass detach` (groups, host use, rollback). It only
// adds: devices not listed are left alone (giving them back is an explicit
// `pcipass reattach`). A second run finds nothing to do and says so.
#ifndef PCIPASS_BINDING_DESIRED_STATE_H_
#define PCIPASS_BINDING_DESIRED_STATE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "binding/handoff.h"
#include "binding/sriov.h"
#include "core/device.h"
#include "core/host_root.h"
#include "select/ini.h"

namespace pcipass {

struct VfioSelector {
  std::string text;                         // as written, for messages
  std::string where;                        // "pcipass.conf:12"
  std::optional<std::string> address_glob;  // fnmatch on "dddd:bb:ss.f"
  std::optional<uint16_t> vendor_id;        // nullopt: any
  std::optional<uint16_t> product_id;       // nullopt: any

  bool Matches(const PciDevice& dev) const;
};

struct SriovTarget {
  PciAddress pf;
  int numvfs = 0;
  std::optional<bool> autoprobe;
  std::string where;
};

struct HostDesiredState {
  std::vector<VfioSelector> vfio;
  std::vector<SriovTarget> sriov;
  bool empty() const { return vfio.empty() && sriov.empty(); }
};

// OK when |ini| has a [host] section with at least one key; otherwise
// FailedPrecondition saying there is no (or an empty) [host] section in the
// file and what to add, so `apply` never claims the host "already
// matches" a desired state that was never written.
Status RequireHostSection(const IniFile& ini);

// Reads [host] from |ini|. A missing section is an empty state. Errors
// (InvalidArgument, "<file>:<line>: [host] <key> = <value>: <what is
// accepted>"): unknown keys, a bad address glob or id, a JSON object with
// unknown keys or no keys, a bad "ADDR=N" / "ADDR=on|off" value, the same
// PF twice.
Result<HostDesiredState> ParseHostSection(const IniFile& ini);
// The same, collecting every error (file order) in |errors| instead of
// failing: the state holds the valid entries. For `pcipass config check`.
HostDesiredState ParseHostSection(const IniFile& ini,
                                  std::vector<Status>* errors);

struct ApplyOptions {
  std::string state_dir;
  bool dry_run = false;
  std::chrono::milliseconds write_timeout{30000};
  std::optional<std::string> force_reason;
  std::function<std::optional<std::string>(const PciAddress&)> claimed_by;
};

struct ApplyReport {
  std::vector<SriovReport> sriov;  // only PFs that needed a change
  HandOffReport detach;
  std::vector<std::string> notes;
  bool nothing_to_do = false;  // host already matched
};

// Makes the host match |state| (see the file comment). Outcomes: the
// report; the first error of SetNumVfs or Detach (with the config line
// that asked for it), after their own rollback.
Result<ApplyReport> Apply(const HostRoot& host, KernelIo& io,
                          const HostDesiredState& state,
                          const ApplyOptions& opts);
Result<ApplyReport> Apply(const HostRoot& host, const HostDesiredState& state,
                          const ApplyOptions& opts);

}  // namespace pcipass

#endif  // PCIPASS_BINDING_DESIRED_STATE_H_
