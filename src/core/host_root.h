// HostRoot: the one place that maps host paths under a root directory.
//
// pcipass reads and writes the kernel's sysfs, procfs and devtmpfs. Every
// such path is built here, under a root directory (`--root DIR`, env
// PCIPASS_ROOT, default "/"), so the same code runs against a real host, a
// sysfs fixture tree in a unit test, and the QEMU lab guest. No other file
// names "/sys", "/proc" or "/dev".
#ifndef PCIPASS_CORE_HOST_ROOT_H_
#define PCIPASS_CORE_HOST_ROOT_H_

#include <filesystem>
#include <string>
#include <string_view>

#include "core/address.h"

namespace pcipass {

class HostRoot {
 public:
  // |root| is the directory that plays the part of "/".
  explicit HostRoot(std::filesystem::path root = "/");

  // Root from |flag| if non-empty, else env PCIPASS_ROOT, else "/".
  static HostRoot FromFlagOrEnv(const std::string& flag);

  const std::filesystem::path& root() const { return root_; }
  bool is_real_root() const { return root_ == "/"; }

  // <root>/sys/<rel>, <root>/proc/<rel>, <root>/dev/<rel>.
  std::filesystem::path Sys(std::string_view rel = {}) const;
  std::filesystem::path Proc(std::string_view rel = {}) const;
  std::filesystem::path Dev(std::string_view rel = {}) const;
  // <root>/<rel> for other host files (lib/modules, boot, etc).
  std::filesystem::path Path(std::string_view rel) const;

  // Well-known sysfs locations.
  std::filesystem::path PciDevicesDir() const;  // sys/bus/pci/devices
  std::filesystem::path PciDeviceDir(const PciAddress& addr) const;
  std::filesystem::path PciDriversDir() const;  // sys/bus/pci/drivers
  std::filesystem::path PciDriverDir(std::string_view driver) const;
  std::filesystem::path PciBusFile(
      std::string_view name) const;              // drivers_probe..
  std::filesystem::path IommuGroupsDir() const;  // sys/kernel/iommu_groups
  std::filesystem::path IommuGroupDir(int group) const;
  std::filesystem::path ClassDir(
      std::string_view cls) const;  // sys/class/<cls>
  std::filesystem::path ModuleDir(
      std::string_view module) const;                    // sys/module/
  std::filesystem::path VfioGroupNode(int group) const;  // dev/vfio/<N>
  std::filesystem::path VfioContainerNode() const;       // dev/vfio/vfio

 private:
  std::filesystem::path root_;
};

}  // namespace pcipass

#endif  // PCIPASS_CORE_HOST_ROOT_H_
