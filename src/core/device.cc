#include "core/device.h"

namespace pcipass {

std::string_view DeviceTypeName(DeviceType type) {
  switch (type) {
    case DeviceType::kPci:
      return "type-PCI";
    case DeviceType::kPf:
      return "type-PF";
    case DeviceType::kVf:
      return "type-VF";
  }
  return "type-PCI";
}

std::optional<DeviceType> ParseDeviceType(std::string_view name) {
  if (name == "type-PCI") return DeviceType::kPci;
  if (name == "type-PF") return DeviceType::kPf;
  if (name == "type-VF") return DeviceType::kVf;
  return std::nullopt;
}

bool PciDevice::IsBridge() const {
  if (header_type && *header_type != 0) return true;
  return class_code && ((*class_code >> 16) & 0xff) == 0x06;
}

}  // namespace pcipass
