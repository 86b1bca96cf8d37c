// Allowlist: which configured device_spec selects a device.
//
// The first spec that matches, in config order, wins, and only its tags go
// with the device (Nova's Whitelist.device_assignable; nothing is merged
// across specs). For `pcipass explain`, every spec's verdict is kept: the
// first key that failed, or the match.
#ifndef PCIPASS_SELECT_ALLOWLIST_H_
#define PCIPASS_SELECT_ALLOWLIST_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/device.h"
#include "select/devspec.h"

namespace pcipass {

// Returns a device's VPD card serial number, or nullopt.
using VpdSerialFn =
    std::function<std::optional<std::string>(const PciAddress&)>;

struct AllowDecision {
  bool allowed = false;
  std::optional<size_t> spec_index;  // into the spec list
  TagMap tags;                       // the matching spec's tags
  // One verdict per spec, in order; filled only when asked for.
  std::vector<SpecMatch> per_spec;
};

// The first spec in |specs| that matches |dev|. With |explain_all|, every
// spec is evaluated and its verdict stored in per_spec.
AllowDecision DecideAllowed(const std::vector<DeviceSpec>& specs,
                            const PciDevice& dev, const VpdSerialFn& vpd = {},
                            bool explain_all = false);

// Reads the VPD card serial number ("SN" keyword of the read-only section)
// from <host>/sys/bus/pci/devices/<addr>/vpd, or nullopt.
VpdSerialFn SysfsVpdSerial(const HostRoot& host);
// The "SN" keyword of a PCI VPD image, or nullopt if absent or malformed.
std::optional<std::string> ParseVpdSerial(std::string_view vpd);

}  // namespace pcipass

#endif  // PCIPASS_SELECT_ALLOWLIST_H_
