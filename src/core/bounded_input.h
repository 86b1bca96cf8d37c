// Bounded input: the size and nesting limits pcipass applies to what it
// reads from files and peers it does not control (docs/limits.md).
//
// A config of /dev/zero must not grow memory without end, a FIFO must not
// hang a command, and JSON nested 100,000 deep must not overflow the stack
// (nlohmann::json handles values recursively). Every limit here is far
// above what a real input needs and is named in the error it causes.
#ifndef PCIPASS_CORE_BOUNDED_INPUT_H_
#define PCIPASS_CORE_BOUNDED_INPUT_H_

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pcipass {

// INI config files (--config): real ones are a few KiB.
inline constexpr size_t kMaxConfigBytes = size_t{1024} * 1024;
// pcipass's own state files (journal, hand-off records).
inline constexpr size_t kMaxStateFileBytes = size_t{16} * 1024 * 1024;
// JSON nesting of a device_spec / alias value (real ones: 1-2 levels).
inline constexpr int kMaxSpecJsonDepth = 32;
// JSON nesting of a QMP message (QEMU's replies to the commands pcipass
// sends nest a few levels) and the longest QMP line accepted.
inline constexpr int kMaxQmpJsonDepth = 64;
inline constexpr size_t kMaxQmpLineBytes = size_t{1024} * 1024;
// JSON nesting of a row pcipass stored itself (ledger, journal).
inline constexpr int kMaxStoredJsonDepth = 64;

// Reads a file the operator named (a config, a state file). Symlinks are
// followed (the operator chose the path); the open is non-blocking so a
// FIFO cannot hang; anything but a regular file is refused; more than
// |max_bytes| is refused. Errors do not repeat the path (callers add it as
// context): NotFound/PermissionDenied/... "open: <strerror>";
// FailedPrecondition "not a regular file (a FIFO); pass a regular file";
// InvalidArgument "larger than the N-byte limit (...)".
Result<std::string> ReadUserFile(const std::filesystem::path& path,
                                 size_t max_bytes);

// OK when the JSON |text| nests arrays and objects at most |max_depth|
// deep, else InvalidArgument "JSON nested deeper than N levels". A linear
// scan that skips strings (and their escapes); it does not validate, the
// parser that runs after it does.
Status CheckJsonDepth(std::string_view text, int max_depth);

}  // namespace pcipass

#endif  // PCIPASS_CORE_BOUNDED_INPUT_H_
