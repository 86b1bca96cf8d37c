#include "core/host_root.h"

#include <cstdlib>

namespace pcipass {

namespace fs = std::filesystem;

namespace {
fs::path Join(const fs::path& base, std::string_view rel) {
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  if (rel.empty()) return base;
  return base / fs::path(rel);
}
}  // namespace

HostRoot::HostRoot(fs::path root) : root_(std::move(root)) {
  if (root_.empty()) root_ = "/";
}

HostRoot HostRoot::FromFlagOrEnv(const std::string& flag) {
  if (!flag.empty()) return HostRoot(flag);
  if (const char* env = std::getenv("PCIPASS_ROOT"); env && *env) {
    return HostRoot(env);
  }
  return HostRoot("/");
}

fs::path HostRoot::Sys(std::string_view rel) const {
  return Join(root_ / "sys", rel);
}
fs::path HostRoot::Proc(std::string_view rel) const {
  return Join(root_ / "proc", rel);
}
fs::path HostRoot::Dev(std::string_view rel) const {
  return Join(root_ / "dev", rel);
}
fs::path HostRoot::Path(std::string_view rel) const { return Join(root_, rel); }

fs::path HostRoot::PciDevicesDir() const { return Sys("bus/pci/devices"); }
fs::path HostRoot::PciDeviceDir(const PciAddress& addr) const {
  return PciDevicesDir() / addr.ToString();
}
fs::path HostRoot::PciDriversDir() const { return Sys("bus/pci/drivers"); }
fs::path HostRoot::PciDriverDir(std::string_view driver) const {
  return PciDriversDir() / std::string(driver);
}
fs::path HostRoot::PciBusFile(std::string_view name) const {
  return Sys("bus/pci") / std::string(name);
}
fs::path HostRoot::IommuGroupsDir() const { return Sys("kernel/iommu_groups"); }
fs::path HostRoot::IommuGroupDir(int group) const {
  return IommuGroupsDir() / std::to_string(group);
}
fs::path HostRoot::ClassDir(std::string_view cls) const {
  return Sys("class") / std::string(cls);
}
fs::path HostRoot::ModuleDir(std::string_view module) const {
  return Sys("module") / std::string(module);
}
fs::path HostRoot::VfioGroupNode(int group) const {
  return Dev("vfio") / std::to_string(group);
}
fs::path HostRoot::VfioContainerNode() const { return Dev("vfio/vfio"); }

}  // namespace pcipass
