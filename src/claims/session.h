// Session: what every claims command (fit, claim, release, claims,
// history, reconcile, usage) loads before it decides anything, and the
// JSON shapes they print (field names documented in docs/cli.md).
//
// A session reads the config ([pci] rules and [claims] settings), discovers
// the host, builds the HostSnapshot (service.h), reads the NUMA topology
// and opens the ledger at <state dir>/ledger.sqlite. Commands that change
// nothing (fit, claims, history, usage) still reconcile the ledger first
// when it exists, so what they show is the host as it is now.
#ifndef PCIPASS_CLAIMS_SESSION_H_
#define PCIPASS_CLAIMS_SESSION_H_

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "claims/service.h"
#include "core/host_root.h"
#include "core/inventory.h"
#include "select/config.h"
#include "store/ledger.h"

namespace pcipass::claims {

struct SessionOptions {
  HostRoot host;
  std::string config_path;  // "" = no config: nothing is allowed
  std::string state_dir;
  std::string pci_ids;
  // false: do not create a ledger that does not exist yet (read-only
  // commands); ledger is then null.
  bool create_ledger = true;
  // true (claim, release): first finish a hand-off that a killed pcipass
  // left in <state dir>/journal.json (binding RecoverUnfinishedHandOff),
  // so the snapshot and the ledger decisions see the recovered host.
  bool recover_handoff = false;
};

struct Session {
  HostRoot host;
  std::string state_dir;
  Config config;
  ClaimsSettings settings;
  Inventory inventory;
  HostSnapshot snapshot;
  std::unique_ptr<Ledger> ledger;  // null if absent and !create_ledger
  // What the hand-off recovery did ("recovered an unfinished detach ...").
  std::vector<std::string> notes;
};

// Errors: FailedPrecondition "invalid config <path>: <every error>" (exit
// 1); the hand-off recovery error (recover_handoff); the discovery or
// ledger error otherwise.
Result<Session> OpenSession(const SessionOptions& options);

// Discovers the host again and rebuilds the snapshot with the session's
// rules (after pcipass itself changed drivers, e.g. a release's reattach).
Result<HostSnapshot> RescanHost(const Session& session,
                                const std::string& pci_ids);

// <state dir>/ledger.sqlite.
std::string LedgerPath(const std::string& state_dir);

// Time for --since/--until: "2026-11-22", "2026-11-22T05:00:00Z" (UTC),
// "@<unix seconds>", "now", or a duration before now: "90m", "24h", "7d".
// InvalidArgument naming the value and the accepted forms.
Result<int64_t> ParseTime(std::string_view text, int64_t now_unix);
// "2026-11-22T05:00:00Z".
std::string FormatTime(int64_t unix_seconds);
int64_t NowUnix();

nlohmann::json FitJson(const FitResult& fit, const FitOptions& options);
nlohmann::json ClaimJson(const ClaimRecord& claim);
nlohmann::json DeviceStateJson(const LedgerDevice& device);
nlohmann::json DriftJson(const ReconcileReport& report);
nlohmann::json EventJson(const Event& event);
nlohmann::json UsageJson(const UsageReport& usage);

}  // namespace pcipass::claims

#endif  // PCIPASS_CLAIMS_SESSION_H_
