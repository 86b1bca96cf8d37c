// Bounded waits for locks held by other processes (the state lock, the
// ledger's write lock): nobody waits forever without a word.
//
// A waiter polls for at most LockWaitPolicy::timeout_ms. After
// notice_after_ms it says once (through |notice|, default stderr) what it
// is waiting for and who holds it; when the time is up the caller returns
// an Unavailable error naming the lock file and the holder. The policy is
// process-wide: the CLI sets it from --lock-timeout / [claims] lock_timeout
// before any lock is taken.
#ifndef PCIPASS_CORE_LOCK_WAIT_H_
#define PCIPASS_CORE_LOCK_WAIT_H_

#include <functional>
#include <optional>
#include <string>

namespace pcipass {

// Accepted lock timeouts in seconds (0: do not wait at all).
inline constexpr int kMinLockTimeoutSeconds = 0;
inline constexpr int kMaxLockTimeoutSeconds = 3600;
inline constexpr int kDefaultLockTimeoutSeconds = 10;

struct LockWaitPolicy {
  int timeout_ms = kDefaultLockTimeoutSeconds * 1000;
  int notice_after_ms = 1000;
  // True when --lock-timeout set timeout_ms: the config key does not
  // override it.
  bool timeout_from_flag = false;
  // Receives the "waiting for ..." line (no trailing newline). Unset: the
  // line goes to stderr prefixed with "pcipass: ".
  std::function<void(const std::string&)> notice;
};

// The process-wide policy (a copy) and its setter.
LockWaitPolicy CurrentLockWaitPolicy();
void SetLockWaitPolicy(LockWaitPolicy policy);
// Sets only the timeout of the current policy.
void SetLockTimeoutSeconds(int seconds);

// Parses a lock timeout in whole seconds ("10"); an error message names
// |what| (the flag or key) and the accepted range.
std::optional<int> ParseLockTimeoutSeconds(const std::string& text,
                                           const std::string& what,
                                           std::string* error);

// Says |line| through the policy's notice (or stderr).
void NoticeLockWait(const LockWaitPolicy& policy, const std::string& line);

// Who holds a POSIX (fcntl) lock conflicting with a write lock on bytes
// [start, start+len) of |path|: "pid N (command)" or "pid N"; "" when no
// process holds one or it cannot be known (flock locks are invisible to
// fcntl). |proc_dir| is the host's /proc, for the command name.
std::string FcntlLockHolder(const std::string& path, long start, long len,
                            const std::string& proc_dir);

// Who holds a flock (or any lock) on |path|, from |proc_dir|/locks: "pid N
// (command)", or "" when nobody does or it cannot be known.
std::string FlockHolder(const std::string& path, const std::string& proc_dir);

// "pid N (command)" for a live process, "pid N" when its command is not
// readable, "" when |pid| is not a live process.
std::string DescribeProcess(long pid, const std::string& proc_dir);

}  // namespace pcipass

#endif  // PCIPASS_CORE_LOCK_WAIT_H_
