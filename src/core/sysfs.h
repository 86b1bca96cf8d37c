// Typed, checked access to kernel attribute files (sysfs, procfs).
//
// Reads return the file's text without the trailing newline. Writes use one
// unbuffered write(2) of the whole value, because the kernel reports errors
// from write, not open, and a short write is an error. Every error carries
// the path and the errno name, e.g.
// "write /sys/bus/pci/devices/0000:01:00.0/driver_override: Device or
// resource busy (EBUSY)".
//
// Every path under a --root tree is opened confined to that root
// (HostRoot::OpenHostPath): symlinks, absolute ones included, resolve
// inside the root, never outside it. Reads and writes take regular files
// only (sysfs and procfs attributes are; a FIFO or device node is refused,
// never waited on) and reads are bounded: kMaxAttributeBytes by default,
// since a sysfs attribute is at most a page.
#ifndef PCIPASS_CORE_SYSFS_H_
#define PCIPASS_CORE_SYSFS_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pcipass::sysfs {

// Read limits. A sysfs attribute is at most one page (4 KiB; binary ones
// like `config` up to 4 KiB too); 64 KiB leaves room and still stops a
// fixture's /dev/zero look-alike. Host tables (procfs mountinfo,
// interrupts on a many-CPU host, lib/modules/*/modules.dep) get 16 MiB.
inline constexpr size_t kMaxAttributeBytes = size_t{64} * 1024;
inline constexpr size_t kMaxHostTableBytes = size_t{16} * 1024 * 1024;

// Whole file without one trailing "\n". NotFound if absent;
// FailedPrecondition for a non-regular file; IOError when it holds more
// than |max_bytes|.
Result<std::string> ReadText(const std::filesystem::path& path,
                             size_t max_bytes = kMaxAttributeBytes);
// Like ReadText but returns nullopt for any error (caller degrades).
std::optional<std::string> ReadOptional(const std::filesystem::path& path,
                                        size_t max_bytes = kMaxAttributeBytes);
// Target of symlink |path| as stored (relative or absolute).
Result<std::filesystem::path> ReadLink(const std::filesystem::path& path);
// Basename of the symlink target, e.g. "e1000e" for a driver link.
std::optional<std::string> LinkBasename(const std::filesystem::path& path);
// Sorted entry names of a directory. NotFound if absent.
Result<std::vector<std::string>> ListDir(const std::filesystem::path& path);
bool Exists(const std::filesystem::path& path);

// Writes |value| with one write(2). Errors name |path| and errno.
Status WriteText(const std::filesystem::path& path, std::string_view value);
// Same, but gives up after |timeout| (the write keeps running in a detached
// thread, because vfio-pci unbind can block uninterruptibly): Unavailable
// "timed out after N ms" then.
Status WriteTextWithTimeout(const std::filesystem::path& path,
                            std::string_view value,
                            std::chrono::milliseconds timeout);

// "0x8086" -> 0x8086; also accepts no prefix ("10" for sriov_vf_device).
std::optional<uint32_t> ParseHex(std::string_view text);
// "-1", "12" -> int.
std::optional<long> ParseInt(std::string_view text);

}  // namespace pcipass::sysfs

#endif  // PCIPASS_CORE_SYSFS_H_
