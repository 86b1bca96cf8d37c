// Kernel modules: is a module loaded, built into the running kernel, only
// installed for it, or absent?
//
// sysfs shows a loaded module in different places (a driver directory such
// as sys/bus/pci/drivers/vfio-pci is authoritative, and also covers built-in
// drivers; sys/module/NAME exists for loadable modules and for built-in ones
// with parameters), so the caller decides "loaded" and says how it knows.
// Otherwise the module lists of the running kernel under the host root
// decide: lib/modules/<release>/modules.builtin, then modules.dep. Module
// names match with '-' or '_' ("vfio_pci" is ".../vfio-pci.ko"), and
// compressed module files (.ko.xz, .ko.zst, .ko.gz) count.
#ifndef PCIPASS_CORE_KERNEL_MODULE_H_
#define PCIPASS_CORE_KERNEL_MODULE_H_

#include <string>
#include <string_view>

#include "core/host_root.h"

namespace pcipass {

enum class ModuleState { kLoaded, kBuiltin, kAvailable, kAbsent };

struct ModuleStatus {
  ModuleState state = ModuleState::kAbsent;
  std::string detail;  // one sentence naming the file that decided
};

// True when a line of |list| (modules.dep or modules.builtin text) names
// module |mod| (underscore spelling).
bool ModuleListHas(const std::string& list, const std::string& mod);

// State of module |mod| for kernel |kernel_release| ("" = unknown: then
// only kLoaded or kAbsent). |loaded| and |loaded_evidence| come from the
// caller's sysfs test. Never fails; unreadable lists count as absent.
ModuleStatus ProbeKernelModule(const HostRoot& host,
                               std::string_view kernel_release,
                               const std::string& mod, bool loaded,
                               const std::string& loaded_evidence);

}  // namespace pcipass

#endif  // PCIPASS_CORE_KERNEL_MODULE_H_
