#include "select/allowlist.h"

#include "core/sysfs.h"

namespace pcipass {

AllowDecision DecideAllowed(const std::vector<DeviceSpec>& specs,
                            const PciDevice& dev, const VpdSerialFn& vpd,
                            bool explain_all) {
  AllowDecision d;
  for (size_t i = 0; i < specs.size(); ++i) {
    SpecMatch m = specs[i].Match(dev, vpd);
    if (m.matched && !d.allowed) {
      d.allowed = true;
      d.spec_index = i;
      d.tags = specs[i].tags();
    }
    if (explain_all) {
      d.per_spec.push_back(std::move(m));
    } else if (d.allowed) {
      break;
    }
  }
  return d;
}

std::optional<std::string> ParseVpdSerial(std::string_view vpd) {
  // Large resources: tag byte (bit 7 set), 16-bit little-endian length.
  // 0x82 = identifier string, 0x90 = VPD-R (keywords), 0x91 = VPD-W,
  // 0x78 (small) = end. Keywords: 2 chars, 1 length byte, data.
  size_t pos = 0;
  while (pos < vpd.size()) {
    uint8_t tag = static_cast<uint8_t>(vpd[pos]);
    if (tag == 0x78 || tag == 0x79) break;  // end tag
    if (!(tag & 0x80) || pos + 3 > vpd.size()) return std::nullopt;
    size_t len = static_cast<uint8_t>(vpd[pos + 1]) |
                 (static_cast<size_t>(static_cast<uint8_t>(vpd[pos + 2])) << 8);
    size_t data = pos + 3;
    if (data + len > vpd.size()) return std::nullopt;
    if (tag == 0x90) {
      size_t k = data;
      while (k + 3 <= data + len) {
        std::string_view key = vpd.substr(k, 2);
        size_t klen = static_cast<uint8_t>(vpd[k + 2]);
        if (k + 3 + klen > data + len) return std::nullopt;
        if (key == "SN") {
          std::string sn(vpd.substr(k + 3, klen));
          while (!sn.empty() && (sn.back() == ' ' || sn.back() == '\0')) {
            sn.pop_back();
          }
          return sn;
        }
        k += 3 + klen;
      }
    }
    pos = data + len;
  }
  return std::nullopt;
}

VpdSerialFn SysfsVpdSerial(const HostRoot& host) {
  return [host](const PciAddress& addr) -> std::optional<std::string> {
    auto raw = sysfs::ReadOptional(host.PciDeviceDir(addr) / "vpd");
    if (!raw) return std::nullopt;
    return ParseVpdSerial(*raw);
  };
}

}  // namespace pcipass
