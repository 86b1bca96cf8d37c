// PciAddress: the bus/device/function address of one PCI function.
//
// The canonical text form is the kernel's: "dddd:bb:ss.f" in lower-case hex,
// where the domain has at least 4 digits but may have more (Intel VMD
// domains start at 10000). Bus is 8 bits, slot 5 bits, function 3 bits.
#ifndef PCIPASS_CORE_ADDRESS_H_
#define PCIPASS_CORE_ADDRESS_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pcipass {

struct PciAddress {
  uint32_t domain = 0;
  uint8_t bus = 0;
  uint8_t slot = 0;      // 0..0x1f
  uint8_t function = 0;  // 0..7

  // Parses "dddd:bb:ss.f" (also upper case; domain 1..8 hex digits). Missing
  // parts, extra characters or out-of-range values give InvalidArgument with
  // a message naming the input and the accepted form. Never aborts.
  static Result<PciAddress> Parse(std::string_view text);

  // "0000:0a:00.5" (domain zero-padded to at least 4 digits).
  std::string ToString() const;

  // Field strings as sysfs/Nova normalise them: domain 4+ digits, bus 2,
  // slot 2, function 1, lower-case hex.
  std::string DomainHex() const;
  std::string BusHex() const;
  std::string SlotHex() const;
  std::string FunctionHex() const;

  // modernize-use-nullptr: clang-tidy 14 false positive on a defaulted <=>.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  auto operator<=>(const PciAddress&) const = default;
};

}  // namespace pcipass

template <>
struct std::hash<pcipass::PciAddress> {
  size_t operator()(const pcipass::PciAddress& a) const noexcept {
    return std::hash<uint64_t>()((uint64_t{a.domain} << 16) |
                                 (uint64_t{a.bus} << 8) |
                                 (uint64_t{a.slot} << 3) | a.function);
  }
};

#endif  // PCIPASS_CORE_ADDRESS_H_
