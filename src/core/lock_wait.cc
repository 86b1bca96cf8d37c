#include "core/lock_wait.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

namespace pcipass {

namespace {

std::mutex& PolicyMutex() {
  static std::mutex m;
  return m;
}

LockWaitPolicy& Policy() {
  static LockWaitPolicy p;
  return p;
}

}  // namespace

LockWaitPolicy CurrentLockWaitPolicy() {
  std::lock_guard<std::mutex> g(PolicyMutex());
  return Policy();
}

void SetLockWaitPolicy(LockWaitPolicy policy) {
  std::lock_guard<std::mutex> g(PolicyMutex());
  Policy() = std::move(policy);
}

void SetLockTimeoutSeconds(int seconds) {
  std::lock_guard<std::mutex> g(PolicyMutex());
  Policy().timeout_ms = seconds * 1000;
}

std::optional<int> ParseLockTimeoutSeconds(const std::string& text,
                                           const std::string& what,
                                           std::string* error) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end ||
      value < kMinLockTimeoutSeconds || value > kMaxLockTimeoutSeconds) {
    std::string shown = text.size() > 20 ? text.substr(0, 20) + "..." : text;
    if (error) {
      *error = what + " takes whole seconds " +
               std::to_string(kMinLockTimeoutSeconds) + ".." +
               std::to_string(kMaxLockTimeoutSeconds) +
               " (0: do not wait), "
               "got '" +
               shown + "'";
    }
    return std::nullopt;
  }
  return value;
}

void NoticeLockWait(const LockWaitPolicy& policy, const std::string& line) {
  if (policy.notice) {
    policy.notice(line);
  } else {
    std::cerr << "pcipass: " << line << std::endl;
  }
}

std::string DescribeProcess(long pid, const std::string& proc_dir) {
  if (pid <= 0) return "";
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return "";
  std::string out = "pid " + std::to_string(pid);
  std::ifstream comm(proc_dir + "/" + std::to_string(pid) + "/comm");
  std::string name;
  if (comm && std::getline(comm, name) && !name.empty()) {
    out += " (" + name + ")";
  }
  return out;
}

std::string FcntlLockHolder(const std::string& path, long start, long len,
                            const std::string& proc_dir) {
  // F_GETLK runs in a child: opening and closing the file here would drop
  // every POSIX lock this process holds on it (SQLite's own read locks), and
  // the caller's own locks never conflict with its own query.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "";
  pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return "";
  }
  if (child == 0) {
    // Only async-signal-safe calls below.
    long pid = 0;
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
      struct flock fl {};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;
      fl.l_start = start;
      fl.l_len = len;
      if (::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
        pid = fl.l_pid;
      }
    }
    ssize_t w = ::write(fds[1], &pid, sizeof pid);
    _exit(w == static_cast<ssize_t>(sizeof pid) ? 0 : 1);
  }
  ::close(fds[1]);
  long pid = 0;
  ssize_t r;
  do {
    r = ::read(fds[0], &pid, sizeof pid);
  } while (r < 0 && errno == EINTR);
  ::close(fds[0]);
  while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (r != static_cast<ssize_t>(sizeof pid) || pid <= 0) return "";
  std::string holder = DescribeProcess(pid, proc_dir);
  return holder.empty() ? "pid " + std::to_string(pid) : holder;
}

std::string FlockHolder(const std::string& path, const std::string& proc_dir) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  std::ifstream locks(proc_dir + "/locks");
  std::string line;
  // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
  while (std::getline(locks, line)) {
    std::istringstream in(line);
    std::string index, kind, mode, access, pid, dev_ino;
    if (!(in >> index >> kind)) continue;
    if (kind == "->") continue;  // a waiter, not a holder
    if (!(in >> mode >> access >> pid >> dev_ino)) continue;
    size_t colon = dev_ino.rfind(':');
    if (colon == std::string::npos) continue;
    unsigned long long ino = 0;
    std::string ino_text = dev_ino.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(ino_text.data(),
                                     ino_text.data() + ino_text.size(), ino);
    if (ec != std::errc() ||
        ino != static_cast<unsigned long long>(st.st_ino)) {
      continue;
    }
    unsigned major_no = 0, minor_no = 0;
    if (std::sscanf(dev_ino.c_str(), "%x:%x", &major_no, &minor_no) == 2 &&
        (major_no != major(st.st_dev) || minor_no != minor(st.st_dev))) {
      continue;
    }
    long holder = std::atol(pid.c_str());
    if (holder == static_cast<long>(::getpid())) continue;
    std::string who = DescribeProcess(holder, proc_dir);
    if (!who.empty()) return who;
  }
  return "";
}

}  // namespace pcipass
