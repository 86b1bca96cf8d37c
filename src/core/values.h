// Checks and message helpers for values that come from users and files:
// instance ids, and any text echoed back in an error.
//
// Instance ids (claim/release/claims/history/vm-config/hotplug and every
// ledger write) follow the rule of docs/input-rules.md: 1 to
// kMaxInstanceIdLength characters of A-Z a-z 0-9 . _ : - , starting with a
// letter or digit. A Nova instance UUID and a libvirt domain name made of those
// characters pass; newlines, spaces, escape sequences and shell metacharacters
// do not, so an id can never forge a log line, a terminal sequence or an
// XML/QEMU argument.
#ifndef PCIPASS_CORE_VALUES_H_
#define PCIPASS_CORE_VALUES_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pcipass {

inline constexpr size_t kMaxInstanceIdLength = 128;

// The longest watchdog a sysfs write or a QMP wait may be given (1 hour):
// --timeout-ms, hotplug --timeout and their API fields.
inline constexpr int kMaxWriteTimeoutMs = 3600000;

// OK, or InvalidArgument saying what is wrong with |id| (shown safely, see
// ShowValue) and what is accepted.
Status CheckInstanceId(std::string_view id);

// |text| made safe and short for a message: control and non-ASCII bytes
// as \n, \t, \xNN; cut after |max_chars| characters with "..." and the
// full length ("1234567890123456789...(300 characters)").
std::string ShowValue(std::string_view text, size_t max_chars = 20);

// |text| as the user wrote it (backslashes and UTF-8 kept) except that
// control bytes (below 0x20, 0x7f) become \n, \t, \xNN, so echoing a
// config line or an entry cannot move the cursor or recolour a terminal;
// cut like ShowValue after |max_chars| bytes.
std::string ShowText(std::string_view text, size_t max_chars = 200);

// |text| with every run of more than |max_digits| digits cut to its first
// |max_digits| digits and "...": a range error never prints a number
// hundreds of digits long.
std::string ClipLongNumbers(std::string_view text, size_t max_digits = 20);

}  // namespace pcipass

#endif  // PCIPASS_CORE_VALUES_H_
