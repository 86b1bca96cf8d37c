// Assessment: can this device be given to a VM, and if not, why not?
//
// For one device of an Inventory: is it allowed by the rules (which
// device_spec, which tags), and is it assignable (nothing in the hardware,
// the kernel or the host's own use of it stands in the way)? Every obstacle
// is a Reason with a stable code, a message naming the device and what was
// seen, and the exact fix. Reasons of severity "error" make the device not
// assignable; "warning" reasons are risks an operator should know (no reset
// method, a group that must be detached as a whole).
#ifndef PCIPASS_SELECT_ASSESS_H_
#define PCIPASS_SELECT_ASSESS_H_

#include <optional>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/inventory.h"
#include "select/allowlist.h"
#include "select/devspec.h"

namespace pcipass {

struct Reason {
  std::string code;      // stable snake_case, e.g. "host_uses_device"
  std::string severity;  // "error" or "warning"
  std::string message;
  std::string fix;
};

struct Assessment {
  bool allowed = false;
  std::optional<size_t> spec_index;
  std::string spec_where;  // "nova.conf:12 entry 2"
  TagMap tags;
  // allowed and no reason of severity "error".
  bool assignable = false;
  std::vector<Reason> reasons;
};

struct AssessOptions {
  bool have_config = false;  // false: nothing is allowed ("no --config")
  VpdSerialFn vpd;           // for remote_managed specs
};

// Assesses |dev| (a device of |inv|) against |specs|. Never fails: missing
// facts become reasons or are skipped.
Assessment Assess(const Inventory& inv, const PciDevice& dev,
                  const std::vector<DeviceSpec>& specs,
                  const AssessOptions& options);

}  // namespace pcipass

#endif  // PCIPASS_SELECT_ASSESS_H_
