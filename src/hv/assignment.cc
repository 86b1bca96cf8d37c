#include "hv/assignment.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

namespace pcipass::hv {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Built by appending: g++ 12 at -O3 reports a false -Wrestrict overlap in
// the inlined `"'" + std::string(s)` (a known g++ 12 false positive), and the
// Release build must compile without warnings.
std::string Quoted(std::string_view s) {
  std::string quoted;
  quoted.reserve(s.size() + 2);
  quoted += '\'';
  quoted += s;
  quoted += '\'';
  return quoted;
}

}  // namespace

Result<std::string> ParseMac(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        "MAC address " + Quoted(text) + " " + std::string(why) +
        "; expected six hex pairs separated by ':' such as "
        "'52:54:00:12:34:56' (a unicast, non-zero address)");
  };
  if (text.size() != 17) return bad("has the wrong length");
  std::string out;
  out.reserve(17);
  int first_octet = 0;
  bool all_zero = true;
  for (size_t i = 0; i < 6; ++i) {
    size_t at = i * 3;
    int hi = HexValue(text[at]);
    int lo = HexValue(text[at + 1]);
    if (hi < 0 || lo < 0) return bad("has a character that is not hex");
    if (i < 5 && text[at + 2] != ':') return bad("is not ':' separated");
    int octet = hi * 16 + lo;
    if (i == 0) first_octet = octet;
    if (octet != 0) all_zero = false;
    out.push_back(static_cast<char>(std::tolower(text[at])));
    out.push_back(static_cast<char>(std::tolower(text[at + 1])));
    if (i < 5) out.push_back(':');
  }
  if (all_zero) return bad("is all zeros");
  if (first_octet & 1) {
    return bad("is a multicast address (lowest bit of the first octet set)");
  }
  return out;
}

Result<int> ParseVlan(std::string_view text) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 1 ||
      value > 4094) {
    return Status::InvalidArgument(
        "VLAN id " + Quoted(text) +
        " is not accepted; expected a decimal integer from 1 to 4094 "
        "(0 and 4095 are reserved by 802.1Q)");
  }
  return value;
}

Result<PciAddress> ParseGuestAddress(std::string_view text) {
  std::string full(text);
  if (std::count(text.begin(), text.end(), ':') == 1) full = "0000:" + full;
  Result<PciAddress> parsed = PciAddress::Parse(full);
  if (!parsed.ok()) {
    return Status::InvalidArgument(
        "guest PCI address " + Quoted(text) +
        " is not a PCI address; expected 'bb:ss.f' or '0000:bb:ss.f' in hex, "
        "e.g. '00:05.0' (" +
        parsed.status().message() + ")");
  }
  const PciAddress& a = *parsed;
  if (a.domain != 0) {
    return Status::InvalidArgument(
        "guest PCI address " + Quoted(text) +
        " has a non-zero domain; guest devices live in domain 0000");
  }
  if (a.bus == 0 && a.slot == 0) {
    return Status::InvalidArgument(
        "guest PCI address " + Quoted(text) +
        " is the guest's host bridge (00:00.0); pin the device to a free "
        "slot such as 00:05.0");
  }
  if (a.function != 0) {
    return Status::InvalidArgument(
        "guest PCI address " + Quoted(text) + " has function " +
        a.FunctionHex() +
        "; pin each device to function 0 of its own slot (multi-function "
        "guest slots are not generated)");
  }
  return a;
}

bool IsValidDeviceId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  if (!std::isalpha(static_cast<unsigned char>(id[0]))) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
           c == '_' || c == '.';
  });
}

Status ValidateAssignments(std::span<const HostdevAssignment> devices) {
  std::set<std::string> ids;
  std::set<PciAddress> hosts;
  std::map<PciAddress, std::string> guests;  // guest address -> host addr
  for (const HostdevAssignment& d : devices) {
    const std::string host = d.host.ToString();
    auto bad = [&](const std::string& what) {
      std::string msg = "device " + host + ": ";
      msg += what;
      return Status::InvalidArgument(std::move(msg));
    };
    if (!IsValidDeviceId(d.id)) {
      return bad("device id " + Quoted(d.id) +
                 " is not accepted; ids start with a letter and contain "
                 "only letters, digits, '-', '_' or '.' (at most 64)");
    }
    if (!ids.insert(d.id).second) {
      return bad("device id " + Quoted(d.id) +
                 " is used twice; every device needs its own id");
    }
    if (!hosts.insert(d.host).second) {
      return bad("listed twice; a host function can be given to a VM once");
    }
    if (d.guest) {
      // Re-check through the parser so hand-built assignments get the same
      // rules as the command line.
      Result<PciAddress> g = ParseGuestAddress(d.guest->ToString());
      if (!g.ok()) return bad(g.status().message());
      auto [it, inserted] = guests.emplace(*d.guest, host);
      if (!inserted) {
        return bad("guest address " + d.guest->ToString() +
                   " is already pinned for " + it->second +
                   "; give each device its own guest slot");
      }
    }
    if (d.as_interface && d.dev_type != DeviceType::kVf) {
      return bad(std::string("is ") + std::string(DeviceTypeName(d.dev_type)) +
                 "; only SR-IOV VFs (type-VF) can be used as a hostdev "
                 "network interface; drop --interface, --mac and --vlan for "
                 "this device");
    }
    if (!d.as_interface && (d.mac || d.vlan)) {
      return bad(
          "a MAC or VLAN is set but the device is not used as a network "
          "interface; a MAC/VLAN applies only to a VF given with "
          "--interface (or whose spec has a physical_network tag)");
    }
    if (d.mac) {
      Result<std::string> mac = ParseMac(*d.mac);
      if (!mac.ok()) return bad(mac.status().message());
    }
    if (d.vlan && (*d.vlan < 1 || *d.vlan > 4094)) {
      Result<int> vlan = ParseVlan(std::to_string(*d.vlan));
      return bad(vlan.status().message());
    }
  }
  return Status::Ok();
}

std::string LibvirtAlias(const HostdevAssignment& device) {
  return "ua-" + device.id;
}

}  // namespace pcipass::hv
