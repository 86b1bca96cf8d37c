// KernelIo: the seam between hand-off logic and the kernel's side effects.
//
// Everything pcipass *reads* from sysfs goes through core/sysfs.h directly;
// what it *does* to the kernel (attribute writes, module loads, waiting for
// devtmpfs nodes) goes through this small interface. Production uses
// SysfsKernelIo, which writes the real files; unit tests use a fake that
// edits a fixture tree the way the kernel would (moving `driver` links on
// unbind/drivers_probe) and can be told to fail a given step. The fake only
// buys speed: the real kernel in the QEMU lab is the proof.
#ifndef PCIPASS_BINDING_KERNEL_IO_H_
#define PCIPASS_BINDING_KERNEL_IO_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/host_root.h"
#include "core/status.h"

namespace pcipass {

class KernelIo {
 public:
  virtual ~KernelIo() = default;

  // Writes |value| to the attribute file |path| with a watchdog of
  // |timeout| (unbind and sriov_numvfs can block). Outcomes: OK; the
  // errno-derived Status naming |path| (EBUSY -> Unavailable, ENODEV ->
  // IOError, ...); Unavailable "timed out" when the watchdog fired.
  virtual Status Write(const std::filesystem::path& path,
                       std::string_view value,
                       std::chrono::milliseconds timeout) = 0;

  // Loads kernel module |name| (runs `modprobe NAME`). Outcomes: OK when
  // modprobe exited 0; FailedPrecondition naming the module and the exit
  // status or the exec error otherwise.
  virtual Status LoadModule(std::string_view name) = 0;

  // Waits up to |timeout| for |path| to exist (devtmpfs creates
  // /dev/vfio/<N> shortly after vfio-pci binds) or, with |present| false,
  // to vanish. Outcomes: OK; Unavailable "did not appear/go within N ms".
  virtual Status WaitForPath(const std::filesystem::path& path, bool present,
                             std::chrono::milliseconds timeout);
};

// The real kernel: sysfs::WriteTextWithTimeout, fork+exec of modprobe.
class SysfsKernelIo : public KernelIo {
 public:
  Status Write(const std::filesystem::path& path, std::string_view value,
               std::chrono::milliseconds timeout) override;
  Status LoadModule(std::string_view name) override;
};

// The production KernelIo: SysfsKernelIo, wrapped for fault injection
// when the environment asks for it. Fault injection exists for the lab
// tests, which must show rollback and crash recovery on a real kernel:
//  PCIPASS_FAULT_WRITE=N  the Nth write (1-based) fails with EIO instead of
//                         being made;
//  PCIPASS_FAULT_KILL=N   the process SIGKILLs itself just before the Nth
//                         write.
//  PCIPASS_TEST_WRITE_LOG=FILE
//                         TEST-ONLY: every write is appended to FILE as
//                         "<N> <rc> <path> <value>" (rc 0 or the errno,
//                         "-" when killed/faulted before it), so a test can
//                         count a command's writes;
//  PCIPASS_TEST_PAUSE_AT_WRITE=N
//                         TEST-ONLY: right after the Nth write returns
//                         (made or failed), the process creates the file
//                         PCIPASS_TEST_PAUSE_MARKER (default
//                         /tmp/pcipass-paused) containing its pid and then
//                         blocks in pause() forever, so the crash test can
//                         SIGKILL it between write N and write N+1.
// Writes are counted per process. Without those variables nothing changes.
// These hooks exist only for the lab's crash tests (tests/lab/guest/
// crash-midwrite.sh); operators never set them.
std::unique_ptr<KernelIo> MakeKernelIo();

}  // namespace pcipass

#endif  // PCIPASS_BINDING_KERNEL_IO_H_
