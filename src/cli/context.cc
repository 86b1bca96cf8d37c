#include "cli/context.h"

#include <cstdlib>

#include "core/host_root_open.h"

namespace pcipass::cli {

std::string CommandContext::StateDir() const {
  if (!options_.state_dir.empty()) return options_.state_dir;
  if (const char* env = std::getenv("PCIPASS_STATE"); env && *env) return env;
  // The default lies inside a --root tree: resolve it there, so a tree
  // whose var/ links elsewhere cannot send the journal outside the root.
  const HostRoot h = host();
  return hostfs::ResolveInRoot(h, h.Path("var/lib/pcipass")).string();
}

std::string CommandContext::ConfigPath() const {
  if (!options_.config_path.empty()) return options_.config_path;
  if (const char* env = std::getenv("PCIPASS_CONFIG"); env && *env) return env;
  return {};
}

service::ServiceEnv CommandContext::Env() const {
  service::ServiceEnv env;
  env.host = host();
  env.config_path = ConfigPath();
  env.state_dir = StateDir();
  env.pci_ids = options_.pci_ids;
  return env;
}

}  // namespace pcipass::cli
