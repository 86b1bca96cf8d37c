#include "binding/kernel_io.h"

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

class FaultInjectingKernelIo : public SysfsKernelIo {
 public:
  FaultInjectingKernelIo(long fail_at, long kill_at)
      : fail_at_(fail_at), kill_at_(kill_at) {}
  Status Write(const std::filesystem::path& path, std::string_view value,
               std::chrono::milliseconds timeout) override {
    ++count_;
    if (count_ == kill_at_) ::kill(::getpid(), SIGKILL);
    if (count_ == fail_at_) {
      return Status::FromErrno(
          EIO, "write " + path.string() + " (injected by PCIPASS_FAULT_WRITE)");
    }
    return SysfsKernelIo::Write(path, value, timeout);
  }

 private:
  long fail_at_;
  long kill_at_;
  long count_ = 0;
};

long EnvLong(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  return std::strtol(v, nullptr, 10);
}

}  // namespace

std::unique_ptr<KernelIo> MakeKernelIo() {
  long fail_at = EnvLong("PCIPASS_FAULT_WRITE");
  long kill_at = EnvLong("PCIPASS_FAULT_KILL");
  if (fail_at > 0 || kill_at > 0) {
    return std::make_unique<FaultInjectingKernelIo>(fail_at, kill_at);
  }
  return std::make_unique<SysfsKernelIo>();
}

}  // namespace pcipass
