// Ledger: the durable record of which PCI device belongs to which VM.
//
// The ledger holds three things: every device pcipass has seen with its
// state (available, claimed, allocated, unavailable because a PF/VF or IOMMU
// group relative is taken, reserved for the host, removed), the claims of
// each instance (one row per device), and an append-only event history (who,
// when, what, why) from which usage is billed. It is the single source of
// truth for ownership: sysfs says what the host HAS, the ledger says who
// OWNS it.
//
// Concurrency: every change happens inside Transact(), which on SQLite is a
// BEGIN IMMEDIATE transaction (one writer at a time across processes, with
// a busy timeout), so a process reads device states, decides, and writes
// claims without another process interleaving. A transaction whose callback
// returns an error is rolled back entirely: claims are all-or-nothing.
// Durability: WAL journal with synchronous=FULL, so a committed claim
// survives power loss.
//
// Ledger is an abstract interface so that a PostgreSQL store can follow;
// the SQLite store is the embedded default (<state dir>/ledger.sqlite).
// State rules (which transitions are legal, PF/VF coupling) live in
// claims/device_state.h, not here: the store only persists.
#ifndef PCIPASS_STORE_LEDGER_H_
#define PCIPASS_STORE_LEDGER_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/device.h"
#include "core/status.h"

namespace pcipass {

// Device states. Do not renumber (persisted as names, but kept stable).
enum class DeviceState {
  kAvailable = 0,    // free and allowed by the rules
  kClaimed = 1,      // taken by an instance; host hand-off not yet done
  kAllocated = 2,    // taken by an instance and handed to vfio-pci
  kUnavailable = 3,  // free itself, but a PF/VF or group relative is taken
  kReserved = 4,     // the host uses it (netdev up, mounted disk, console)
  kRemoved = 5,      // vanished from sysfs (never re-pooled automatically)
};
// "available", "claimed", "allocated", "unavailable", "reserved", "removed".
std::string_view DeviceStateName(DeviceState state);
// Exact names above; nullopt otherwise.
std::optional<DeviceState> ParseDeviceState(std::string_view name);

// One device as the ledger knows it: identity seen at the last reconcile
// plus its ownership state. (Not binding/state.h's DeviceRecord, which is a
// device's pre-hand-off driver record; both live in namespace pcipass.)
struct LedgerDevice {
  PciAddress address;
  std::optional<uint16_t> vendor_id;
  std::optional<uint16_t> product_id;
  DeviceType dev_type = DeviceType::kPci;
  std::optional<PciAddress> parent_addr;  // PF of a VF
  std::optional<int> numa_node;
  std::optional<int> iommu_group;
  std::optional<std::string> driver;  // driver seen at the last reconcile
  DeviceState state = DeviceState::kAvailable;
  // Instance owning it (claimed/allocated), or, for a removed device that
  // was allocated, the instance it was taken from.
  std::optional<std::string> owner;
  // Why it is unavailable/reserved/removed, e.g. "VF 0000:0a:00.1 is
  // claimed by vm-1" or "eth0 is up with address 10.0.0.5/24".
  std::string reason;
  int64_t updated_at_unix = 0;
};

// One device held by one instance.
struct ClaimRecord {
  std::string instance;
  PciAddress address;
  std::string alias_name;
  std::string request_id;  // "<instance>/<request index>"
  DeviceType dev_type = DeviceType::kPci;
  std::optional<PciAddress> parent_addr;
  // The tags of the device_spec that selected the device (managed,
  // physical_network, trusted, ...).
  std::map<std::string, std::optional<std::string>> tags;
  int64_t claimed_at_unix = 0;
  // Mirrors the device state: "claimed", "allocated", or "removed" when the
  // device vanished while the instance held it.
  std::string state;
};

// One entry of the append-only history.
struct Event {
  int64_t id = 0;  // assigned by the store, increasing
  int64_t at_unix = 0;
  std::string who;  // "user=<name> pid=<pid>"
  // "claim", "allocate", "release", "refuse", "reserve", "unreserve",
  // "remove", "add", "drift", "rollback", "state".
  std::string kind;
  std::optional<std::string> instance;
  std::optional<PciAddress> address;
  std::optional<std::string> alias_name;
  std::optional<std::string> from_state;
  std::optional<std::string> to_state;
  std::string why;
};

// Which events to list; every set field narrows the result.
struct EventFilter {
  std::optional<PciAddress> address;
  std::optional<std::string> instance;
  std::optional<int64_t> since_unix;  // at_unix >= since
  std::optional<int64_t> until_unix;  // at_unix < until
};

// Reads and writes inside one transaction. Only valid inside the Transact()
// callback that received it.
class LedgerTxn {
 public:
  virtual ~LedgerTxn() = default;

  // Every device, sorted by address.
  virtual Result<std::vector<LedgerDevice>> Devices() = 0;
  // Inserts or replaces the record with the same address.
  virtual Status PutDevice(const LedgerDevice& device) = 0;
  // Claims of |instance| (all instances when nullopt), sorted by instance
  // then address.
  virtual Result<std::vector<ClaimRecord>> Claims(
      const std::optional<std::string>& instance) = 0;
  // Inserts a claim. AlreadyExists if the address already has a claim (by
  // any instance): the store itself refuses a second owner.
  virtual Status AddClaim(const ClaimRecord& claim) = 0;
  // Sets the state field of an existing claim. NotFound if |instance| does
  // not hold |address|.
  virtual Status SetClaimState(const std::string& instance,
                               const PciAddress& address,
                               std::string_view state) = 0;
  // Deletes the claim of |instance| on |address|. NotFound if |instance|
  // does not hold it (another instance's claim is never touched).
  virtual Status DeleteClaim(const std::string& instance,
                             const PciAddress& address) = 0;
  // Appends |event| (its id and, when 0, at_unix are filled in).
  virtual Status AppendEvent(const Event& event) = 0;
};

class Ledger {
 public:
  virtual ~Ledger() = default;

  // Opens (creating if needed, with parent directories) the SQLite ledger
  // at |path| and migrates its schema to the current version. ":memory:"
  // gives a private in-memory ledger (tests).
  // Errors: IOError/PermissionDenied when the file or directory cannot be
  // created or opened; DataLoss when it is not a pcipass ledger or its
  // schema is newer than this binary knows; Unavailable naming the file
  // and the holder when another process keeps it locked for longer than
  // |busy_timeout_ms| (-1: the process-wide core/lock_wait.h policy,
  // default 10 s, saying after 1 s on stderr what it waits for). The same
  // bound applies to every later Transact().
  static Result<std::unique_ptr<Ledger>> OpenSqlite(
      const std::filesystem::path& path, int busy_timeout_ms = -1);

  // Runs |fn| in one write transaction (BEGIN IMMEDIATE on SQLite): commits
  // if it returns OK, rolls back everything otherwise and returns its
  // status. Unavailable if the ledger stayed locked by another process for
  // the whole busy timeout; IOError if the commit fails.
  virtual Status Transact(const std::function<Status(LedgerTxn&)>& fn) = 0;

  // Read-only snapshots (each its own read transaction).
  virtual Result<std::vector<LedgerDevice>> ListDevices() = 0;
  // Claims of |instance|, or of every instance when nullopt; sorted by
  // instance then address. An unknown instance gives an empty list.
  virtual Result<std::vector<ClaimRecord>> ListClaims(
      std::optional<std::string> instance) = 0;
  // Events matching |filter|, oldest first.
  virtual Result<std::vector<Event>> ListEvents(const EventFilter& filter) = 0;

  // Schema version of the open ledger.
  virtual int SchemaVersion() const = 0;
};

// "user=<login> pid=<pid>" for the calling process, for Event::who.
std::string CurrentActor();

}  // namespace pcipass

#endif  // PCIPASS_STORE_LEDGER_H_
