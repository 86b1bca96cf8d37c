#include "binding/kernel_io.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>  // environ (_GNU_SOURCE, always on in C++)

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "core/sysfs.h"

namespace pcipass {

Status KernelIo::WaitForPath(const std::filesystem::path& path, bool present,
                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // A dangling node still counts (the link itself is looked at), and
    // the lookup stays inside the host root.
    const bool there = sysfs::Exists(path);
    if (there == present) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable(
          path.string() + (present ? " did not appear" : " did not go away") +
          " within " + std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Status SysfsKernelIo::Write(const std::filesystem::path& path,
                            std::string_view value,
                            std::chrono::milliseconds timeout) {
  return sysfs::WriteTextWithTimeout(path, value, timeout);
}

Status SysfsKernelIo::LoadModule(std::string_view name) {
  // modprobe is a host tool, not a host path: it is found through PATH and
  // is deliberately not resolved under --root.
  std::string module(name);
  std::vector<char*> argv = {const_cast<char*>("modprobe"), module.data(),
                             nullptr};
  pid_t pid = 0;
  int rc =
      posix_spawnp(&pid, "modprobe", nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    return Status::FailedPrecondition(
        "cannot run modprobe " + module + ": " + std::strerror(rc) +
        "; load the module by hand (modprobe " + module + ")");
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) {
      return Status::FromErrno(errno, "waitpid modprobe " + module);
    }
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Status::FailedPrecondition(
        "modprobe " + module + " failed (" +
        (WIFEXITED(wstatus)
             ? "exit status " + std::to_string(WEXITSTATUS(wstatus))
             : std::string("killed by a signal")) +
        ")");
  }
  return Status::Ok();
}

namespace {

long EnvLong(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  return std::strtol(v, nullptr, 10);
}

std::string EnvString(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// Appends one line to |file| with a single write(2) (O_APPEND), so the
// line is complete even if the process is SIGKILLed right after.
void AppendLine(const std::string& file, const std::string& line) {
  int fd =
      ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

// Test-only wrapper (see MakeKernelIo in the header): fault injection,
// a write log and a pause point for the lab's crash tests.
class FaultInjectingKernelIo : public SysfsKernelIo {
 public:
  FaultInjectingKernelIo()
      : fail_at_(EnvLong("PCIPASS_FAULT_WRITE")),
        kill_at_(EnvLong("PCIPASS_FAULT_KILL")),
        pause_at_(EnvLong("PCIPASS_TEST_PAUSE_AT_WRITE")),
        log_(EnvString("PCIPASS_TEST_WRITE_LOG")),
        marker_(EnvString("PCIPASS_TEST_PAUSE_MARKER")) {
    if (marker_.empty()) marker_ = "/tmp/pcipass-paused";
  }
  static bool Wanted() {
    return EnvLong("PCIPASS_FAULT_WRITE") > 0 ||
           EnvLong("PCIPASS_FAULT_KILL") > 0 ||
           EnvLong("PCIPASS_TEST_PAUSE_AT_WRITE") > 0 ||
           !EnvString("PCIPASS_TEST_WRITE_LOG").empty();
  }
  Status Write(const std::filesystem::path& path, std::string_view value,
               std::chrono::milliseconds timeout) override {
    ++count_;
    const std::string what = path.string() + " " + Printable(value);
    if (count_ == kill_at_) {
      Log("- " + what + " (PCIPASS_FAULT_KILL)");
      ::kill(::getpid(), SIGKILL);
    }
    Status s;
    if (count_ == fail_at_) {
      s = Status::FromErrno(
          EIO, "write " + path.string() + " (injected by PCIPASS_FAULT_WRITE)");
    } else {
      s = SysfsKernelIo::Write(path, value, timeout);
    }
    Log(std::to_string(s.ok() ? 0 : s.sys_errno()) + " " + what);
    if (count_ == pause_at_) {
      AppendLine(marker_, std::to_string(::getpid()) + "\n");
      while (true) ::pause();  // until the test's SIGKILL
    }
    return s;
  }

 private:
  static std::string Printable(std::string_view v) {
    std::string out;
    for (char c : v)
      out += (c == '\n') ? std::string("\\n") : std::string(1, c);
    return out.empty() ? "''" : out;
  }
  void Log(const std::string& rest) {
    if (!log_.empty()) {
      AppendLine(log_, std::to_string(count_) + " " + rest + "\n");
    }
  }

  long fail_at_;
  long kill_at_;
  long pause_at_;
  std::string log_;
  std::string marker_;
  long count_ = 0;
};

}  // namespace

std::unique_ptr<KernelIo> MakeKernelIo() {
  if (FaultInjectingKernelIo::Wanted()) {
    return std::make_unique<FaultInjectingKernelIo>();
  }
  return std::make_unique<SysfsKernelIo>();
}

}  // namespace pcipass
