// Hand-off state on disk: the lock, the journal, per-device records and the
// audit log, all under the state directory (--state, default
// /var/lib/pcipass).
//
//  <state>/lock          flock(LOCK_EX) serialises pcipass processes that
//                        change bindings; held for the whole operation.
//  <state>/journal.json  the operation in progress: every device with its
//                        original driver, previous override and the last
//                        step done. Rewritten (write temp, fsync, rename,
//                        fsync dir) before each step, removed when the
//                        operation ends. A journal found at start means a
//                        previous run died; it is recovered first.
//  <state>/devices/<ADDR>.json
//                        what the device looked like before pcipass first
//                        detached it (original driver, previous override);
//                        read by reattach, removed after it.
//  <state>/log           append-only audit lines (force reasons, recoveries).
#ifndef PCIPASS_BINDING_STATE_H_
#define PCIPASS_BINDING_STATE_H_

#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/status.h"

namespace pcipass {

// An exclusive flock on <state>/lock, released by the destructor.
class StateLock {
 public:
  // Creates |state_dir| (mode 0700) if needed and blocks until the lock is
  // free, at most the lock-wait policy's timeout (core/lock_wait.h).
  // Outcomes: the lock; Unavailable naming the lock file and its holder
  // after the timeout; PermissionDenied/IOError naming the path.
  static Result<StateLock> Acquire(const std::string& state_dir);
  StateLock(StateLock&& other) noexcept;
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The state of one device before pcipass touched it.
struct HandOffRecord {
  PciAddress address;
  std::optional<std::string> original_driver;    // nullopt: was unbound
  std::optional<std::string> previous_override;  // nullopt: was "(null)"
};

// Steps of one device within a journaled operation, in order.
enum class JournalStep {
  kPending = 0,      // nothing written yet
  kOverrideSet = 1,  // driver_override written
  kUnbound = 2,      // unbound from its driver
  kBound = 3,        // bound to the target driver, verified
};
std::string_view JournalStepName(JournalStep step);

struct JournalDevice {
  HandOffRecord record;
  JournalStep step = JournalStep::kPending;
};

struct Journal {
  std::string op;  // "detach", "reattach", "sriov"
  int pid = 0;
  std::string started;  // ISO-8601 UTC
  std::optional<std::string> force_reason;
  std::vector<JournalDevice> devices;
  // op == "sriov": the PF and the count being set.
  std::optional<PciAddress> sriov_pf;
  int sriov_numvfs = 0;
};

// Writes <state>/journal.json atomically and durably. IOError naming the
// file on failure.
Status WriteJournal(const std::string& state_dir, const Journal& journal);
// nullopt if there is no journal; DataLoss naming the file if it cannot be
// parsed (it is then left in place for the operator).
Result<std::optional<Journal>> ReadJournal(const std::string& state_dir);
// Removes the journal (OK if absent).
Status ClearJournal(const std::string& state_dir);

// Records are written once, at the first detach: a later detach of a device
// already on vfio-pci must not overwrite the true original driver.
Status SaveRecord(const std::string& state_dir, const HandOffRecord& record);
// nullopt if no record; DataLoss if the record is corrupt.
Result<std::optional<HandOffRecord>> LoadRecord(const std::string& state_dir,
                                                const PciAddress& address);
Status RemoveRecord(const std::string& state_dir, const PciAddress& address);

// Appends "<UTC time> pid=<pid> <line>\n" to <state>/log (fsync'd).
Status AppendLog(const std::string& state_dir, const std::string& line);

// Current UTC time, ISO-8601 with seconds.
std::string UtcNow();

}  // namespace pcipass

#endif  // PCIPASS_BINDING_STATE_H_
