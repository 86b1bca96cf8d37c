// HostRoot: the one place that maps host paths under a root directory.
//
// pcipass reads and writes the kernel's sysfs, procfs and devtmpfs. Every
// such path is built here, under a root directory (`--root DIR`, env
// PCIPASS_ROOT, default "/"), so the same code runs against a real host, a
// sysfs fixture tree in a unit test, and the QEMU lab guest. No other file
// names "/sys", "/proc" or "/dev".
//
// Confinement: a tree under a root other than "/" is data, possibly hostile
// (a fixture tarball whose `sriov_numvfs` links to /etc/passwd). Every host
// file is opened through OpenUnder/OpenHostPath, which resolve each path
// component, symlink targets included, inside the root: an absolute target
// means <root>/<target>, ".." stops at the root, magic links (/proc/PID/fd)
// are refused. The kernel does this (openat2 RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS, Linux >= 5.6); on older kernels a component-wise
// O_NOFOLLOW walk applies the same rules (at most 40 links). Root "/" is the
// real host and uses plain open(2).
#ifndef PCIPASS_CORE_HOST_ROOT_H_
#define PCIPASS_CORE_HOST_ROOT_H_

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "core/address.h"

namespace pcipass {

class HostRoot {
 public:
  // |root| is the directory that plays the part of "/".
  explicit HostRoot(std::filesystem::path root = "/");

  // Root from |flag| if non-empty, else env PCIPASS_ROOT, else "/". (The
  // CLI refuses an explicitly empty --root or PCIPASS_ROOT before this.)
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

  // --- Confinement (see the file comment) ---
  // An O_PATH fd of the root for repeated OpenUnder calls; the caller
  // closes it. -1 with errno set when the root cannot be opened.
  int OpenRootFd() const;
  // Opens |rel| (relative to the root; a leading "/" is ignored) below
  // |rootfd| with open(2) |flags|, every component resolved inside the
  // root. With O_NOFOLLOW a final symlink is not followed (O_PATH |
  // O_NOFOLLOW opens the link itself). Returns an fd or -1 with errno.
  static int OpenUnder(int rootfd, std::string_view rel, int flags);
  // Opens |path| (as built by the functions above) confined to the root of
  // the HostRoot it lies under: the longest root, other than "/", of any
  // HostRoot constructed in this process. Paths under no such root (the
  // real host, a config file elsewhere) are opened with plain open(2).
  static int OpenHostPath(const std::filesystem::path& path, int flags);
  // The root |path| is confined to ("" for none, i.e. real host or not a
  // host path) and |path| relative to it.
  static std::pair<std::string, std::string> SplitHostPath(
      const std::filesystem::path& path);
  // |path| with every existing component resolved inside the root (no
  // symlinks left, so later plain opens stay inside); components that do
  // not exist yet are appended as given. Root "/" returns |path| unchanged.
  std::filesystem::path ResolveInRoot(const std::filesystem::path& path) const;

 private:
  std::filesystem::path root_;
};

namespace internal {
// Test seams: the openat2-less fallback walk, and a switch that makes
// OpenUnder use it even where openat2 exists.
int WalkInRoot(int rootfd, std::string_view rel, int flags);
extern std::atomic<bool> g_force_walk;
}  // namespace internal

}  // namespace pcipass

#endif  // PCIPASS_CORE_HOST_ROOT_H_
