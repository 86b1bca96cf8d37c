#include "testing/host_generator.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "testing/sysfs_builder.h"

namespace pcipass::testing {

namespace {

std::string Addr(uint32_t domain, int bus, int devfn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%x", domain, bus,
                (devfn >> 3) & 0x1f, devfn & 7);
  return buf;
}

class Generator {
 public:
  Generator(const FixtureTree& tree, const HostShape& shape)
      : b_(tree), shape_(shape) {
    for (int s = 0; s < kMaxSockets; ++s) {
      next_bus_[s] = s * 0x80 + 1;
      ports_[s] = 0;
    }
  }

  GeneratedHost Run() {
    int sockets = std::max(1, std::min(shape_.sockets, kMaxSockets));
    if (shape_.iommu) {
      for (int s = 0; s < sockets; ++s) b_.AddIommu("dmar" + std::to_string(s));
    }
    if (shape_.boot_vga) Vga();
    for (int i = 0; i < shape_.host_nics; ++i) HostNic(i, i % sockets);
    for (int i = 0; i < shape_.gpus; ++i) Gpu(i, i % sockets);
    for (int i = 0; i < shape_.sriov_pfs; ++i) SriovPf(i, i % sockets);
    for (int i = 0; i < shape_.nvme; ++i) Nvme(i, i % sockets);
    for (int i = 0; i < shape_.bridges_with_shared_groups; ++i) {
      SharedBridge(i, i % sockets);
    }
    if (shape_.vmd_domain) Vmd();
    return {functions_, next_group_};
  }

 private:
  static constexpr int kMaxSockets = 2;

  std::optional<int> Group() {
    if (!shape_.iommu) return std::nullopt;
    return next_group_++;
  }

  DeviceSpec Base(const std::string& addr, int socket) {
    DeviceSpec s;
    s.address = addr;
    s.numa_node = shape_.sockets > 1 ? socket : -1;
    s.local_cpulist = socket == 0 ? "0-15,32-47" : "16-31,48-63";
    return s;
  }

  // A root port on |socket|'s root bus and the bus number below it.
  // Ports take slots 01-1f of the root bus (00:01.0, 00:02.0, ...); a host
  // with more than 31 per socket (the 16k-function benchmark host) goes on
  // with functions 1-7 of the same slots, as multi-function root ports.
  std::pair<std::string, int> Port(int socket, int buses = 1) {
    int index = ports_[socket]++;
    int devfn = 8 * (1 + index % 31) + index / 31;
    int bus = next_bus_[socket];
    next_bus_[socket] += buses;
    if (index / 31 > 7 || next_bus_[socket] > socket * 0x80 + 0x80) {
      std::fprintf(stderr,
                   "host generator: socket %d has no room for root port %d "
                   "(%d buses); use fewer devices\n",
                   socket, index, buses);
      std::abort();
    }
    std::string port = Addr(0, socket * 0x80, devfn);
    b_.AddBridge(port, std::nullopt, Group());
    ++functions_;
    return {port, bus};
  }

  void Vga() {
    auto [port, bus] = Port(0);
    DeviceSpec s = Base(Addr(0, bus, 0), 0);
    s.vendor = 0x1a03;
    s.device = 0x2000;
    s.subsystem_vendor = 0x1a03;
    s.subsystem_device = 0x2000;
    s.class_code = 0x030000;
    s.revision = 0x41;
    s.driver = "ast";
    s.boot_vga = true;
    s.parent = port;
    s.iommu_group = Group();
    s.reset_method = "bus";
    b_.AddDevice(s);
    ++functions_;
  }

  void HostNic(int i, int socket) {
    auto [port, bus] = Port(socket);
    DeviceSpec s = Base(Addr(0, bus, 0), socket);
    s.vendor = 0x8086;
    s.device = 0x1533;  // I210
    s.subsystem_device = 0x0000;
    s.driver = "igb";
    s.parent = port;
    s.iommu_group = Group();
    s.reset_method = "flr bus";
    b_.AddDevice(s);
    ++functions_;
    NetdevSpec n;
    n.up = true;
    n.addresses = {"10.0." + std::to_string(i) + ".5/24",
                   "2001:db8:" + std::to_string(i) + "::5/64"};
    n.default_route = i == 0;
    b_.AddNetdev(s.address, "eno" + std::to_string(i + 1), n);
  }

  void Gpu(int i, int socket) {
    auto [port, bus] = Port(socket);
    auto group = Group();
    bool vfio = i % 2 == 1;
    DeviceSpec s = Base(Addr(0, bus, 0), socket);
    s.vendor = 0x10de;
    s.device = 0x20b0;  // A100
    s.subsystem_vendor = 0x10de;
    s.subsystem_device = 0x134f;
    s.class_code = 0x030200;
    s.revision = 0xa1;
    s.driver = vfio ? "vfio-pci" : "nvidia";
    if (vfio) s.driver_override = "vfio-pci";
    s.parent = port;
    s.iommu_group = group;
    s.link_speed = "16.0 GT/s PCIe";
    s.link_width = 16;
    s.reset_method = "flr bus";
    b_.AddDevice(s);
    DeviceSpec a = Base(Addr(0, bus, 1), socket);
    a.vendor = 0x10de;
    a.device = 0x1aef;
    a.class_code = 0x040300;
    a.driver = vfio ? std::optional<std::string>("vfio-pci")
                    : std::optional<std::string>("snd_hda_intel");
    a.parent = port;
    a.iommu_group = group;
    a.reset_method = "bus";
    b_.AddDevice(a);
    functions_ += 2;
  }

  void SriovPf(int i, int socket) {
    int vfs = std::max(0, std::min(shape_.vfs_per_pf, 256));
    auto [port, bus] = Port(socket, 2);
    std::string pf = Addr(0, bus, 0);
    DeviceSpec s = Base(pf, socket);
    s.vendor = 0x8086;
    s.device = 0x1572;  // X710
    s.subsystem_device = 0x0001;
    s.class_code = 0x020000;
    s.revision = 0x02;
    s.driver = "i40e";
    s.parent = port;
    s.iommu_group = Group();
    s.reset_method = "flr bus";
    SriovSpec sr;
    sr.totalvfs = std::max(vfs, 64);
    sr.numvfs = 0;
    sr.vf_device = 0x154c;
    b_.AddSriovPf(s, sr);
    ++functions_;
    NetdevSpec down;
    down.up = false;
    b_.AddNetdev(pf, "ens" + std::to_string(i + 1) + "f0", down);
    for (int v = 0; v < vfs; ++v) {
      int devfn = 1 + v;  // ARI: VF offset 1, stride 1
      DeviceSpec vf = Base(Addr(0, bus + devfn / 256, devfn % 256), socket);
      vf.vendor = 0x8086;
      vf.device = 0x154c;
      vf.subsystem_device = 0x0000;
      vf.class_code = 0x020000;
      vf.revision = 0x02;
      bool vfio = (v * 100) / std::max(vfs, 1) < shape_.vfio_vf_percent;
      vf.driver = vfio ? "vfio-pci" : "iavf";
      if (vfio) vf.driver_override = "vfio-pci";
      vf.iommu_group = Group();
      vf.link_speed = std::nullopt;
      vf.reset_method = "flr";
      b_.AddVf(pf, v, vf);
      ++functions_;
    }
  }

  void Nvme(int i, int socket) {
    auto [port, bus] = Port(socket);
    DeviceSpec s = Base(Addr(0, bus, 0), socket);
    s.vendor = 0x144d;
    s.device = 0xa808;  // Samsung 970 EVO
    s.subsystem_vendor = 0x144d;
    s.subsystem_device = 0xa801;
    s.class_code = 0x010802;
    s.driver = "nvme";
    s.parent = port;
    s.iommu_group = Group();
    s.reset_method = "flr bus";
    b_.AddDevice(s);
    ++functions_;
    std::string disk = "nvme" + std::to_string(i) + "n1";
    BlockSpec blk;
    blk.partitions = {disk + "p1", disk + "p2"};
    if (i == 0) {
      blk.mounted = {disk + "p1"};
      blk.swap = {disk + "p2"};
    }
    b_.AddBlockDevice(s.address, disk, blk);
  }

  void SharedBridge(int i, int socket) {
    auto [port, bus] = Port(socket, 2);
    (void)i;
    auto group = Group();
    // PCIe-to-PCI bridge below the root port: no driver (as in the lab).
    std::string bridge = Addr(0, bus, 0);
    b_.AddBridge(bridge, port, group, std::nullopt);
    ++functions_;
    for (int d = 0; d < 2; ++d) {
      DeviceSpec s = Base(Addr(0, bus + 1, (d + 1) << 3), socket);
      s.vendor = 0x8086;
      s.device = 0x100e;  // 82540EM
      s.class_code = 0x020000;
      s.driver = d == 0 ? std::optional<std::string>("e1000") : std::nullopt;
      s.parent = bridge;
      s.iommu_group = group;
      s.link_speed = std::nullopt;
      s.reset_method = "bus";
      b_.AddDevice(s);
      ++functions_;
    }
  }

  void Vmd() {
    DeviceSpec s = Base("10000:01:00.0", 0);
    s.vendor = 0x8086;
    s.device = 0xf1a8;  // Intel SSD
    s.class_code = 0x010802;
    s.driver = "nvme";
    // VMD domains have no IOMMU group of their own device (behind VMD).
    s.iommu_group = std::nullopt;
    b_.AddDevice(s);
    ++functions_;
  }

  SysfsBuilder b_;
  const HostShape& shape_;
  int next_bus_[kMaxSockets];
  int ports_[kMaxSockets];  // root ports made per socket
  int next_group_ = 0;
  int functions_ = 0;
};

}  // namespace

int CountFunctions(const HostShape& shape) {
  int vfs = std::max(0, std::min(shape.vfs_per_pf, 256));
  int n = 0;
  if (shape.boot_vga) n += 2;
  n += shape.host_nics * 2;
  n += shape.gpus * 3;
  n += shape.sriov_pfs * (2 + vfs);
  n += shape.nvme * 2;
  n += shape.bridges_with_shared_groups * 4;
  if (shape.vmd_domain) n += 1;
  return n;
}

GeneratedHost GenerateHost(const FixtureTree& tree, const HostShape& shape) {
  Generator g(tree, shape);
  return g.Run();
}

}  // namespace pcipass::testing
