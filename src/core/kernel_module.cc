#include "core/kernel_module.h"

#include <algorithm>
#include <sstream>

#include "core/sysfs.h"

namespace pcipass {

namespace fs = std::filesystem;

bool ModuleListHas(const std::string& list, const std::string& mod) {
  std::istringstream in(list);
  std::string line;
  while (std::getline(in, line)) {
    std::string path = line.substr(0, line.find(':'));
    size_t slash = path.rfind('/');
    std::string base = path.substr(slash == std::string::npos ? 0 : slash + 1);
    size_t ko = base.find(".ko");
    if (ko == std::string::npos) continue;
    base.resize(ko);
    std::replace(base.begin(), base.end(), '-', '_');
    if (base == mod) return true;
  }
  return false;
}

ModuleStatus ProbeKernelModule(const HostRoot& host,
                               std::string_view kernel_release,
                               const std::string& mod, bool loaded,
                               const std::string& loaded_evidence) {
  const std::string release(kernel_release);
  ModuleStatus m;
  if (loaded) {
    m.state = ModuleState::kLoaded;
    m.detail = mod + " is loaded (" + loaded_evidence + ")";
    return m;
  }
  if (release.empty()) {
    m.detail = mod + " is not loaded, and the kernel release is unknown (" +
               host.Proc("sys/kernel/osrelease").string() +
               " unreadable), so its module files cannot be looked up";
    return m;
  }
  fs::path dir = host.Path("lib/modules/" + release);
  if (auto builtin = sysfs::ReadOptional(dir / "modules.builtin",
                                         sysfs::kMaxHostTableBytes);
      builtin && ModuleListHas(*builtin, mod)) {
    m.state = ModuleState::kBuiltin;
    m.detail = mod + " is built into kernel " + release + " (" +
               (dir / "modules.builtin").string() + ")";
    return m;
  }
  if (auto dep =
          sysfs::ReadOptional(dir / "modules.dep", sysfs::kMaxHostTableBytes);
      dep && ModuleListHas(*dep, mod)) {
    m.state = ModuleState::kAvailable;
    m.detail = mod + " is not loaded but is installed for kernel " + release +
               " (" + (dir / "modules.dep").string() + ")";
    return m;
  }
  m.detail =
      mod + " is not loaded and not available for kernel " + release + " (" +
      (sysfs::Exists(dir)
           ? "not in " + (dir / "modules.dep").string() + " or modules.builtin"
           : dir.string() + " does not exist") +
      ")";
  return m;
}

}  // namespace pcipass
