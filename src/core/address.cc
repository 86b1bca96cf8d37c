#include "core/address.h"

#include <fmt/format.h>

#include <cstdio>

namespace pcipass {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses all of |s| as hex with 1..max_digits digits into |out|.
bool ParseHexField(std::string_view s, size_t max_digits, uint32_t* out) {
  if (s.empty() || s.size() > max_digits) return false;
  uint32_t v = 0;
  for (char c : s) {
    int d = HexDigit(c);
    if (d < 0) return false;
    v = v * 16 + static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument(
      "invalid PCI address '" + std::string(text) + "': " + std::string(why) +
      "; expected DOMAIN:BUS:SLOT.FUNCTION in hex, e.g. 0000:03:00.1");
}

}  // namespace

Result<PciAddress> PciAddress::Parse(std::string_view text) {
  size_t c1 = text.find(':');
  if (c1 == std::string_view::npos) return Bad(text, "missing ':'");
  size_t c2 = text.find(':', c1 + 1);
  if (c2 == std::string_view::npos) {
    return Bad(text, "the domain is required");
  }
  size_t dot = text.find('.', c2 + 1);
  if (dot == std::string_view::npos) return Bad(text, "missing '.FUNCTION'");
  uint32_t domain = 0, bus = 0, slot = 0, fn = 0;
  if (!ParseHexField(text.substr(0, c1), 8, &domain)) {
    return Bad(text, "domain is not 1-8 hex digits");
  }
  if (!ParseHexField(text.substr(c1 + 1, c2 - c1 - 1), 2, &bus)) {
    return Bad(text, "bus is not 1-2 hex digits");
  }
  if (!ParseHexField(text.substr(c2 + 1, dot - c2 - 1), 2, &slot)) {
    return Bad(text, "slot is not 1-2 hex digits");
  }
  if (slot > 0x1f) return Bad(text, "slot is greater than 1f");
  if (!ParseHexField(text.substr(dot + 1), 1, &fn)) {
    return Bad(text, "function is not one hex digit");
  }
  if (fn > 7) return Bad(text, "function is greater than 7");
  PciAddress a;
  a.domain = domain;
  a.bus = static_cast<uint8_t>(bus);
  a.slot = static_cast<uint8_t>(slot);
  a.function = static_cast<uint8_t>(fn);
  return a;
}

std::string PciAddress::ToString() const {
  // fmt, not snprintf: addresses are formatted for every function in every
  // listing (4,096+ on SR-IOV hosts), and snprintf was 5% of `list --json`.
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", domain, bus, slot, function);
}

std::string PciAddress::DomainHex() const {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04x", domain);
  return buf;
}
std::string PciAddress::BusHex() const {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02x", bus);
  return buf;
}
std::string PciAddress::SlotHex() const {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02x", slot);
  return buf;
}
std::string PciAddress::FunctionHex() const {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%x", function);
  return buf;
}

}  // namespace pcipass
