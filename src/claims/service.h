// The claims service: reconcile, claim, release and usage over a Ledger.
//
// A HostSnapshot is what the host has now (discovery + the device_spec
// rules): the allowed endpoint devices with their spec tags, which of them
// the host uses, group members outside the rules, and the NUMA topology.
// Every operation first reconciles the ledger with the snapshot inside the
// same write transaction, then decides on the ledger's states, so two
// pcipass processes never see or hand out the same device.
//
// Claim (all-or-nothing): (1) one transaction reconciles, fits (fit.h) and
// records the devices as `claimed`; (2) outside the transaction the devices
// are handed to vfio-pci (binding::Detach via HandOffFn), except devices
// whose spec says managed="true" (libvirt detaches those itself when the
// domain starts); (3) a second transaction marks them `allocated`. If the
// hand-off fails, a compensating transaction frees the claims (and the
// hand-off has already restored the host), so a failed claim leaves
// nothing behind. A process killed between (1) and (3) leaves `claimed`
// rows that `pcipass claims` shows and `release` frees.
//
// Release: reattaches the instance's devices first (only with
// [claims] reattach_on_release = true), while the ledger still says they
// are owned so no other claim can take them mid-way, then frees them in one
// transaction. Only the instance's own claims are touched. A device that
// vanished while held stays `removed` (never re-pooled).
#ifndef PCIPASS_CLAIMS_SERVICE_H_
#define PCIPASS_CLAIMS_SERVICE_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "claims/fit.h"
#include "claims/numa.h"
#include "core/inventory.h"
#include "select/allowlist.h"
#include "select/devspec.h"
#include "select/ini.h"
#include "select/request.h"
#include "store/ledger.h"

namespace pcipass::claims {

// The [claims] section of the config.
struct ClaimsSettings {
  Placement placement = Placement::kPack;  // placement = pack|spread
  bool reattach_on_release = false;        // reattach_on_release = bool
  // lock_timeout = seconds (0..3600): how long to wait for the ledger and
  // state locks; --lock-timeout wins. Unset: the default (10 s).
  std::optional<int> lock_timeout_seconds;
};
// Reads [claims]. Errors (InvalidArgument) name the key, the bad value and
// what is accepted; unknown keys in [claims] are errors.
Result<ClaimsSettings> ReadClaimsSettings(const IniFile& ini);

struct HostSnapshot {
  std::vector<LedgerDevice> devices;           // allowed endpoints, seen now
  std::map<PciAddress, TagMap> tags;           // first matching spec's tags
  std::map<PciAddress, std::string> host_use;  // allowed + used by host
  std::set<PciAddress> present;                // every PCI function in sysfs
  std::map<int, std::vector<std::string>> group_outsiders;
  NumaTopology topology;
};

// Builds the snapshot from an inventory and the rules. Bridges are never
// pool members; a not-allowed endpoint in a group is an outsider.
HostSnapshot SnapshotHost(const Inventory& inv,
                          const std::vector<DeviceSpec>& specs,
                          const VpdSerialFn& vpd, NumaTopology topology);

// One difference between the ledger and the host.
struct DriftItem {
  PciAddress address;
  // "added", "reappeared", "removed", "vanished_while_held",
  // "reappeared_while_held", "no_longer_allowed", "ids_changed",
  // "type_changed", "numa_changed", "group_changed", "driver_changed",
  // "reserved", "unreserved", "host_uses_held_device".
  std::string kind;
  std::string detail;
};
struct ReconcileReport {
  std::vector<DriftItem> drift;
};

// Brings the ledger's devices in line with |snap| inside |txn| (events are
// appended for every change). Appends to |report|.
Status ReconcileIn(LedgerTxn& txn, const HostSnapshot& snap,
                   ReconcileReport* report);
// Same, in its own transaction.
Result<ReconcileReport> Reconcile(Ledger& ledger, const HostSnapshot& snap);

// The devices a first reconcile would record, without a ledger (`fit` on
// a host with no ledger yet): every allowed device, derived, and the ones
// the host uses reserved. Linear in the number of devices.
std::vector<LedgerDevice> UnrecordedDevices(const HostSnapshot& snap);

// The fit's view of the ledger devices plus the snapshot's tags, outsiders
// and topology.
FitHost MakeFitHost(std::vector<LedgerDevice> ledger_devices,
                    const HostSnapshot& snap);

// Hands devices to vfio-pci (or back). Returns OK, or the failure after the
// hand-off rolled its own changes back. |notes| gets what it did.
using HandOffFn = std::function<Status(const std::vector<PciAddress>&,
                                       std::vector<std::string>* notes)>;

struct ClaimOptions {
  std::string instance;
  FitOptions fit;       // instance is set from |instance|
  bool detach = true;   // false: --no-detach
  HandOffFn detach_fn;  // required when detach
  std::string why;      // e.g. the request text, for the history
};

struct ClaimOutcome {
  bool ok = false;
  Status status;  // why not ok
  FitResult fit;
  std::vector<ClaimRecord> claims;         // the instance's claims after
  std::vector<PciAddress> detached;        // handed to vfio-pci by this claim
  std::vector<PciAddress> skipped_detach;  // managed="true" devices
  std::vector<std::string> notes;
  ReconcileReport drift;
};

// Claims |requests| for options.instance. Outcome ok=false with status:
// FailedPrecondition when the fit says no (fit explains); AlreadyExists
// when the instance already holds devices; the hand-off error after
// rollback. Errors (Result): the ledger failed.
Result<ClaimOutcome> Claim(Ledger& ledger, const HostSnapshot& snap,
                           const std::vector<PciRequest>& requests,
                           const ClaimOptions& options);

struct ReleaseOptions {
  std::string instance;
  bool reattach = false;  // [claims] reattach_on_release
  HandOffFn reattach_fn;  // required when reattach
  // Looks at the host again after a reattach (optional): the drivers
  // pcipass restored are then recorded as its own change, not as drift.
  std::function<Result<HostSnapshot>()> rescan;
};
struct ReleaseOutcome {
  std::vector<ClaimRecord> released;
  std::vector<PciAddress> reattached;
  std::vector<std::string> notes;  // reattach problems are notes, not errors
  ReconcileReport drift;
};
// Frees every device of options.instance. NotFound when it holds none.
Result<ReleaseOutcome> Release(Ledger& ledger, const HostSnapshot& snap,
                               const ReleaseOptions& options);

// Device-hours from the history, per instance and per alias.
struct UsageRow {
  std::string key;  // instance id or alias name
  double device_hours = 0;
  int devices = 0;  // distinct devices used in the window
};
struct UsageReport {
  int64_t since_unix = 0;
  int64_t until_unix = 0;
  std::vector<UsageRow> by_instance;
  std::vector<UsageRow> by_alias;
};
// A device is billed from its "claim" event to its "release", "rollback"
// or "vanish" event, clipped to [since, until); still-held devices up to
// |until|.
UsageReport ComputeUsage(const std::vector<Event>& events, int64_t since_unix,
                         int64_t until_unix);

}  // namespace pcipass::claims

#endif  // PCIPASS_CLAIMS_SERVICE_H_
