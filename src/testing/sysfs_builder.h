// SysfsBuilder: writes kernel-layout PCI devices into a FixtureTree.
//
// The layout is the one the lab recorded on a real 6.1 kernel
// (/work/shared/lab/README.md, "sysfs observations"): the device directory
// lives under sys/devices/pci<domain>:<bus>/<upstream bridges...>/<ADDR>;
// sys/bus/pci/devices/<ADDR> is a relative symlink to it; "driver" is a
// relative link to sys/bus/pci/drivers/<NAME> (a real directory with bind,
// unbind, new_id, remove_id files and back-links); "iommu_group" links to
// sys/kernel/iommu_groups/<N> whose devices/ holds a link to every member;
// VFs sit beside their PF with physfn/virtfnN links. Attribute files hold
// exactly what the kernel prints ("0x8086\n", "(null)\n", "-1\n",
// sriov_vf_device without 0x), plus a binary 256-byte "config" with a real
// header, "resource" and "irq", so lspci can read the same tree.
//
// Netdevs, block devices and mounts also write the procfs files host-use
// detection reads (proc/net/route, proc/net/if_inet6, proc/net/ipv6_route,
// proc/self/mountinfo, proc/swaps); the builder keeps their content and
// rewrites each file on every change.
//
// Setup mistakes (bad address, unknown parent or PF) abort: fixtures are
// test setup, not code under test.
#ifndef PCIPASS_TESTING_SYSFS_BUILDER_H_
#define PCIPASS_TESTING_SYSFS_BUILDER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "testing/fixture_tree.h"

namespace pcipass::testing {

struct DeviceSpec {
  std::string address;  // "0000:01:00.0" (domain may have 5 digits)
  uint16_t vendor = 0x8086;
  uint16_t device = 0x10d3;
  uint16_t subsystem_vendor = 0x8086;
  uint16_t subsystem_device = 0x0000;
  uint32_t class_code = 0x020000;
  uint8_t revision = 0x00;
  std::optional<std::string> driver;           // nullopt: unbound
  std::optional<std::string> driver_override;  // nullopt: "(null)"
  std::optional<int> iommu_group;              // nullopt: no group link
  int numa_node = -1;                          // written verbatim
  std::string local_cpulist = "0-3";
  std::optional<std::string> reset_method = "flr bus";      // nullopt: no file
  std::optional<std::string> link_speed = "8.0 GT/s PCIe";  // nullopt: none
  int link_width = 4;
  std::optional<bool> boot_vga;  // written only when set
  // Upstream bridge (must have been added); nullopt: on the root bus.
  std::optional<std::string> parent;
  // Create vfio-dev/vfio0 (what vfio-pci and variants do); default: when
  // driver == "vfio-pci".
  std::optional<bool> vfio_dev;
};

struct SriovSpec {
  int totalvfs = 8;
  int numvfs = 0;  // AddVf raises it as VFs are added
  uint16_t vf_device = 0x10ed;
  bool drivers_autoprobe = true;
};

struct NetdevSpec {
  bool up = true;                      // operstate "up" and IFF_UP
  std::vector<std::string> addresses;  // "10.0.0.5/24", "2001:db8::5/64"
  bool default_route = false;          // a 0.0.0.0/0 route via it
  std::optional<std::string> master;   // bond/bridge name (link "master")
};

struct BlockSpec {
  // NVMe namespaces are placed under nvme/<controller>/ (controller is the
  // name up to the "n": "nvme0n1" -> "nvme0"); others under
  // ata1/host0/target0:0:0/0:0:0:0/block/.
  std::vector<std::string> partitions;  // "nvme0n1p1", ...
  // Mounted (proc/self/mountinfo) / swap (proc/swaps): names among the
  // disk and its partitions.
  std::vector<std::string> mounted;
  std::vector<std::string> swap;
  // Device-mapper holders: {"nvme0n1p2", "dm-0"} creates dm-0 (a virtual
  // block device) holding nvme0n1p2; a name in |mounted|/|swap| may be a
  // holder.
  std::map<std::string, std::string> holders;
};

class SysfsBuilder {
 public:
  explicit SysfsBuilder(const FixtureTree& tree);

  const FixtureTree& tree() const { return tree_; }

  // Adds one function with all its attribute files and links. Returns the
  // path of its real directory relative to the root
  // ("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0").
  std::string AddDevice(const DeviceSpec& spec);
  // A PCIe root port / bridge (class 0x060400, header type 1, pcieport).
  std::string AddBridge(const std::string& address,
                        std::optional<std::string> parent = std::nullopt,
                        std::optional<int> iommu_group = std::nullopt,
                        std::optional<std::string> driver = "pcieport");
  // A PF: AddDevice plus sriov_* files.
  std::string AddSriovPf(const DeviceSpec& spec, const SriovSpec& sriov);
  // VF |index| of |pf| at spec.address (placed beside the PF): physfn and
  // virtfn<index> links; the PF's sriov_numvfs becomes >= index + 1.
  // spec.parent is ignored (taken from the PF).
  std::string AddVf(const std::string& pf, int index, DeviceSpec spec);

  void AddNetdev(const std::string& address, const std::string& ifname,
                 const NetdevSpec& net = {});
  // A netdev one level below the device, as virtio-net makes it:
  // <device>/<subdir>/net/<ifname> (e.g. subdir "virtio2").
  void AddNestedNetdev(const std::string& address, const std::string& subdir,
                       const std::string& ifname, const NetdevSpec& net = {});
  // A netdev not below any PCI device (bond0, br0, lo).
  void AddVirtualNetdev(const std::string& ifname, const NetdevSpec& net = {});
  void AddBlockDevice(const std::string& address, const std::string& disk,
                      const BlockSpec& block = {});
  // An IOMMU unit: sys/class/iommu/<name>, and the ACPI table (DMAR for
  // "dmar*", IVRS for "ivhd*").
  void AddIommu(const std::string& name = "dmar0");
  // Sets <group>/name (e.g. "vfio-noiommu"), type, reserved_regions.
  void SetGroupName(int group, const std::string& name);
  void SetGroupType(int group, const std::string& type);
  void AddReservedRegion(int group, const std::string& line);
  // Sets a driver (nullopt: unbound) on an existing device, fixing links.
  void SetDriver(const std::string& address,
                 const std::optional<std::string>& driver);
  // Overwrites one attribute file of an existing device (malformed-input
  // tests), or removes it when |content| is nullopt. Changing an id file
  // (vendor, device, subsystem_*, class) also removes "uevent", and
  // "revision" removes "config", because discovery reads those first.
  void SetAttr(const std::string& address, const std::string& file,
               const std::optional<std::string>& content);

  // Real directory (relative to root) of an added device.
  std::string DevicePath(const std::string& address) const;

 private:
  struct Added {
    std::string path;  // rel to root
    std::optional<int> group;
  };
  std::string PlaceDevice(const std::string& address,
                          const std::optional<std::string>& parent_dir);
  std::string AddDeviceIn(const DeviceSpec& spec,
                          const std::optional<std::string>& parent_dir);
  void AddNetdevIn(const std::string& dev_dir, const std::string& ifname,
                   const NetdevSpec& net);
  void EnsureDriverDir(const std::string& driver);
  void LinkDriver(const std::string& address, const std::string& driver);
  void LinkGroup(const std::string& address, int group);
  void EnsureGroup(int group);
  void WriteConfig(const std::string& dir, const DeviceSpec& spec,
                   uint8_t header_type);
  void FlushProc();
  std::string Normalize(const std::string& address) const;

  const FixtureTree& tree_;
  std::map<std::string, Added> devices_;
  std::set<int> groups_;
  std::set<std::string> drivers_;
  std::map<std::string, std::string> netdev_paths_;  // ifname -> rel dir
  int next_ifindex_ = 2;
  int next_minor_ = 0;
  std::vector<std::string> route_lines_;
  std::vector<std::string> inet6_lines_;
  std::vector<std::string> route6_lines_;
  std::vector<std::string> mount_lines_;
  std::vector<std::string> swap_lines_;
};

// Number of '/'-separated components in |rel|; "../" repeated that many
// times climbs from inside <root>/<rel> back to <root>.
std::string UpLevels(const std::string& rel);

}  // namespace pcipass::testing

#endif  // PCIPASS_TESTING_SYSFS_BUILDER_H_
