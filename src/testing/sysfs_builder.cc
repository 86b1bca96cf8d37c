#include "testing/sysfs_builder.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/address.h"

namespace pcipass::testing {

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sysfs_builder: %s\n", what.c_str());
  std::abort();
}

std::string Hex(uint32_t v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%0*x\n", width, v);
  return buf;
}

std::string StripSys(const std::string& rel) {
  if (rel.rfind("sys/", 0) != 0) Die("not under sys/: " + rel);
  return rel.substr(4);
}

void Put16(std::string& b, size_t off, uint16_t v) {
  b[off] = static_cast<char>(v & 0xff);
  b[off + 1] = static_cast<char>(v >> 8);
}

// "10.0.0.5/24" -> (address in network order, prefix).
bool ParseV4(const std::string& cidr, uint32_t* addr, int* prefix) {
  auto slash = cidr.find('/');
  std::string a = cidr.substr(0, slash);
  *prefix =
      slash == std::string::npos ? 32 : std::atoi(cidr.c_str() + slash + 1);
  in_addr in{};
  if (::inet_pton(AF_INET, a.c_str(), &in) != 1) return false;
  *addr = in.s_addr;
  return true;
}

bool ParseV6(const std::string& cidr, in6_addr* addr, int* prefix) {
  auto slash = cidr.find('/');
  std::string a = cidr.substr(0, slash);
  *prefix =
      slash == std::string::npos ? 128 : std::atoi(cidr.c_str() + slash + 1);
  return ::inet_pton(AF_INET6, a.c_str(), addr) == 1;
}

std::string V6Hex(const in6_addr& a) {
  std::string out;
  char buf[4];
  for (int i = 0; i < 16; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", a.s6_addr[i]);
    out += buf;
  }
  return out;
}

// proc/net/route prints the 32-bit value in host (little-endian) order.
std::string V4RouteHex(uint32_t net_order) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08X", net_order);
  return buf;
}

}  // namespace

std::string UpLevels(const std::string& rel) {
  std::string out;
  size_t n = 1;
  for (char c : rel) n += c == '/';
  for (size_t i = 0; i < n; ++i) out += "../";
  return out;
}

SysfsBuilder::SysfsBuilder(const FixtureTree& tree) : tree_(tree) {
  tree_.MakeDir("sys/bus/pci/devices");
  tree_.MakeDir("sys/bus/pci/drivers");
  tree_.MakeDir("sys/kernel/iommu_groups");
  tree_.MakeDir("sys/class/net");
  tree_.MakeDir("sys/class/block");
  tree_.WriteFile("sys/bus/pci/drivers_probe", "");
  tree_.WriteFile("sys/bus/pci/drivers_autoprobe", "1\n");
  tree_.WriteFile("sys/bus/pci/rescan", "");
  FlushProc();
}

std::string SysfsBuilder::Normalize(const std::string& address) const {
  auto a = PciAddress::Parse(address);
  if (!a.ok()) Die("bad address " + address);
  return a->ToString();
}

std::string SysfsBuilder::DevicePath(const std::string& address) const {
  auto it = devices_.find(Normalize(address));
  if (it == devices_.end()) Die("unknown device " + address);
  return it->second.path;
}

std::string SysfsBuilder::PlaceDevice(
    const std::string& addr, const std::optional<std::string>& parent_dir) {
  std::string path;
  if (parent_dir) {
    path = *parent_dir + "/" + addr;
  } else {
    auto a = PciAddress::Parse(addr);
    path = "sys/devices/pci" + a->DomainHex() + ":" + a->BusHex() + "/" + addr;
  }
  tree_.MakeDir(path);
  tree_.Symlink("sys/bus/pci/devices/" + addr, "../../../" + StripSys(path));
  return path;
}

void SysfsBuilder::EnsureDriverDir(const std::string& driver) {
  if (!drivers_.insert(driver).second) return;
  std::string d = "sys/bus/pci/drivers/" + driver + "/";
  for (const char* f : {"bind", "unbind", "new_id", "remove_id", "uevent"}) {
    tree_.WriteFile(d + f, "");
  }
}

void SysfsBuilder::LinkDriver(const std::string& addr,
                              const std::string& driver) {
  EnsureDriverDir(driver);
  const std::string& path = devices_.at(addr).path;
  tree_.Symlink(path + "/driver",
                UpLevels(StripSys(path)) + "bus/pci/drivers/" + driver);
  tree_.Symlink("sys/bus/pci/drivers/" + driver + "/" + addr,
                "../../../../" + StripSys(path));
}

void SysfsBuilder::EnsureGroup(int group) {
  if (!groups_.insert(group).second) return;
  std::string g = "sys/kernel/iommu_groups/" + std::to_string(group);
  tree_.MakeDir(g + "/devices");
  tree_.WriteFile(g + "/type", "DMA\n");
  tree_.WriteFile(g + "/reserved_regions",
                  "0x00000000fee00000 0x00000000feefffff msi\n");
}

void SysfsBuilder::LinkGroup(const std::string& addr, int group) {
  EnsureGroup(group);
  const std::string& path = devices_.at(addr).path;
  std::string g = "kernel/iommu_groups/" + std::to_string(group);
  tree_.Symlink(path + "/iommu_group", UpLevels(StripSys(path)) + g);
  tree_.Symlink("sys/" + g + "/devices/" + addr,
                "../../../../" + StripSys(path));
}

void SysfsBuilder::WriteConfig(const std::string& dir, const DeviceSpec& spec,
                               uint8_t header_type) {
  std::string b(256, '\0');
  Put16(b, 0x00, spec.vendor);
  Put16(b, 0x02, spec.device);
  Put16(b, 0x04, 0x0006);  // memory + bus master
  Put16(b, 0x06, 0x0010);  // capability list present
  b[0x08] = static_cast<char>(spec.revision);
  b[0x09] = static_cast<char>(spec.class_code & 0xff);
  b[0x0a] = static_cast<char>((spec.class_code >> 8) & 0xff);
  b[0x0b] = static_cast<char>((spec.class_code >> 16) & 0xff);
  b[0x0e] = static_cast<char>(header_type);
  if (header_type == 0) {
    Put16(b, 0x2c, spec.subsystem_vendor);
    Put16(b, 0x2e, spec.subsystem_device);
  }
  b[0x34] = 0x40;
  // One PCI Express capability (endpoint or root port), end of list.
  b[0x40] = 0x10;
  b[0x41] = 0x00;
  Put16(b, 0x42, header_type == 0 ? 0x0002 : 0x0042);
  tree_.WriteFile(dir + "/config", b);
}

std::string SysfsBuilder::AddDevice(const DeviceSpec& spec) {
  std::optional<std::string> parent_dir;
  if (spec.parent) parent_dir = DevicePath(*spec.parent);
  return AddDeviceIn(spec, parent_dir);
}

std::string SysfsBuilder::AddDeviceIn(
    const DeviceSpec& spec, const std::optional<std::string>& parent_dir) {
  std::string addr = Normalize(spec.address);
  if (devices_.count(addr)) Die("duplicate device " + addr);
  bool bridge = ((spec.class_code >> 16) & 0xff) == 0x06 &&
                ((spec.class_code >> 8) & 0xff) == 0x04;
  std::string path = PlaceDevice(addr, parent_dir);
  devices_[addr] = Added{path, spec.iommu_group};
  const std::string d = path + "/";
  tree_.WriteFile(d + "vendor", Hex(spec.vendor, 4));
  tree_.WriteFile(d + "device", Hex(spec.device, 4));
  tree_.WriteFile(d + "subsystem_vendor", Hex(spec.subsystem_vendor, 4));
  tree_.WriteFile(d + "subsystem_device", Hex(spec.subsystem_device, 4));
  tree_.WriteFile(d + "class", Hex(spec.class_code, 6));
  tree_.WriteFile(d + "revision", Hex(spec.revision, 2));
  tree_.WriteFile(d + "driver_override", spec.driver_override
                                             ? *spec.driver_override + "\n"
                                             : std::string("(null)\n"));
  tree_.WriteFile(d + "numa_node", std::to_string(spec.numa_node) + "\n");
  tree_.WriteFile(d + "local_cpulist", spec.local_cpulist + "\n");
  tree_.WriteFile(d + "irq", "0\n");
  tree_.WriteFile(d + "enable", spec.driver ? "1\n" : "0\n");
  std::string res;
  for (int i = 0; i < 13; ++i) {
    res += "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
  }
  tree_.WriteFile(d + "resource", res);
  char modalias[96];
  std::snprintf(modalias, sizeof(modalias),
                "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n", spec.vendor,
                spec.device, spec.subsystem_vendor, spec.subsystem_device,
                (spec.class_code >> 16) & 0xff, (spec.class_code >> 8) & 0xff,
                spec.class_code & 0xff);
  tree_.WriteFile(d + "modalias", modalias);
  char uevent[256];
  std::snprintf(uevent, sizeof(uevent),
                "%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
                "PCI_SLOT_NAME=%s\nMODALIAS=%s",
                spec.driver ? ("DRIVER=" + *spec.driver + "\n").c_str() : "",
                spec.class_code, spec.vendor, spec.device,
                spec.subsystem_vendor, spec.subsystem_device, addr.c_str(),
                modalias);
  tree_.WriteFile(d + "uevent", uevent);
  if (spec.reset_method) {
    tree_.WriteFile(d + "reset_method", *spec.reset_method + "\n");
    tree_.WriteFile(d + "reset", "");
  }
  if (spec.link_speed) {
    tree_.WriteFile(d + "current_link_speed", *spec.link_speed + "\n");
    tree_.WriteFile(d + "max_link_speed", *spec.link_speed + "\n");
    tree_.WriteFile(d + "current_link_width",
                    std::to_string(spec.link_width) + "\n");
    tree_.WriteFile(d + "max_link_width",
                    std::to_string(spec.link_width) + "\n");
  }
  if (spec.boot_vga) {
    tree_.WriteFile(d + "boot_vga", *spec.boot_vga ? "1\n" : "0\n");
  }
  if (bridge) {
    tree_.WriteFile(d + "secondary_bus_number", "0\n");
    tree_.WriteFile(d + "subordinate_bus_number", "0\n");
  }
  WriteConfig(path, spec, bridge ? 1 : 0);
  if (spec.driver) LinkDriver(addr, *spec.driver);
  if (spec.vfio_dev.value_or(spec.driver && *spec.driver == "vfio-pci")) {
    tree_.WriteFile(d + "vfio-dev/vfio0/dev", "511:0\n");
  }
  if (spec.iommu_group) LinkGroup(addr, *spec.iommu_group);
  return path;
}

std::string SysfsBuilder::AddBridge(const std::string& address,
                                    std::optional<std::string> parent,
                                    std::optional<int> iommu_group,
                                    std::optional<std::string> driver) {
  DeviceSpec s;
  s.address = address;
  s.vendor = 0x8086;
  s.device = 0x7c00;
  s.subsystem_device = 0;
  s.class_code = 0x060400;
  s.driver = std::move(driver);
  s.iommu_group = iommu_group;
  s.parent = std::move(parent);
  s.reset_method = std::nullopt;
  return AddDevice(s);
}

std::string SysfsBuilder::AddSriovPf(const DeviceSpec& spec,
                                     const SriovSpec& sriov) {
  std::string path = AddDevice(spec);
  const std::string d = path + "/";
  tree_.WriteFile(d + "sriov_totalvfs", std::to_string(sriov.totalvfs) + "\n");
  tree_.WriteFile(d + "sriov_numvfs", std::to_string(sriov.numvfs) + "\n");
  tree_.WriteFile(d + "sriov_offset", "1\n");
  tree_.WriteFile(d + "sriov_stride", "1\n");
  char vfdev[16];
  std::snprintf(vfdev, sizeof(vfdev), "%x\n", sriov.vf_device);
  tree_.WriteFile(d + "sriov_vf_device", vfdev);
  tree_.WriteFile(d + "sriov_drivers_autoprobe",
                  sriov.drivers_autoprobe ? "1\n" : "0\n");
  tree_.WriteFile(d + "sriov_vf_total_msix", "0\n");
  return path;
}

std::string SysfsBuilder::AddVf(const std::string& pf_in, int index,
                                DeviceSpec spec) {
  std::string pf = Normalize(pf_in);
  std::string pf_path = DevicePath(pf);
  // The VF sits in the PF's parent directory.
  std::string parent_dir = pf_path.substr(0, pf_path.rfind('/'));
  std::string addr = Normalize(spec.address);
  if (devices_.count(addr)) Die("duplicate device " + addr);
  std::string path = parent_dir + "/" + addr;
  spec.parent.reset();
  spec.reset_method = spec.reset_method.value_or("flr");
  AddDeviceIn(spec, parent_dir);
  tree_.Symlink(path + "/physfn", "../" + pf);
  tree_.Symlink(pf_path + "/virtfn" + std::to_string(index), "../" + addr);
  auto numvfs = tree_.Abs(pf_path + "/sriov_numvfs");
  int cur = 0;
  if (FILE* f = std::fopen(numvfs.c_str(), "r")) {
    if (std::fscanf(f, "%d", &cur) != 1) cur = 0;
    std::fclose(f);
  }
  if (index + 1 > cur) {
    tree_.WriteFile(pf_path + "/sriov_numvfs",
                    std::to_string(index + 1) + "\n");
  }
  return path;
}

void SysfsBuilder::AddNetdev(const std::string& address,
                             const std::string& ifname, const NetdevSpec& net) {
  AddNetdevIn(DevicePath(address), ifname, net);
}

void SysfsBuilder::AddNestedNetdev(const std::string& address,
                                   const std::string& subdir,
                                   const std::string& ifname,
                                   const NetdevSpec& net) {
  const std::string dir = DevicePath(address) + "/" + subdir;
  tree_.MakeDir(dir);
  AddNetdevIn(dir, ifname, net);
}

void SysfsBuilder::AddNetdevIn(const std::string& dev_dir,
                               const std::string& ifname,
                               const NetdevSpec& net) {
  std::string path = dev_dir + "/net/" + ifname;
  tree_.MakeDir(path);
  netdev_paths_[ifname] = path;
  tree_.Symlink("sys/class/net/" + ifname, "../../" + StripSys(path));
  tree_.WriteFile(path + "/operstate", net.up ? "up\n" : "down\n");
  tree_.WriteFile(path + "/flags", net.up ? "0x1003\n" : "0x1002\n");
  tree_.WriteFile(path + "/ifindex", std::to_string(next_ifindex_) + "\n");
  if (net.master) {
    auto it = netdev_paths_.find(*net.master);
    std::string mpath = it != netdev_paths_.end()
                            ? it->second
                            : "sys/devices/virtual/net/" + *net.master;
    tree_.Symlink(path + "/master", UpLevels(StripSys(path)) + StripSys(mpath));
  }
  char idx[8];
  std::snprintf(idx, sizeof(idx), "%02x", next_ifindex_);
  if (net.up) {
    // Every up interface gets a link-local address and fe80::/64 route,
    // as the kernel does; detection must not count them.
    inet6_lines_.push_back("fe800000000000000000000000000001 " +
                           std::string(idx) + " 40 20 80 " + ifname);
    route6_lines_.push_back(
        "fe800000000000000000000000000000 40 "
        "00000000000000000000000000000000 00 "
        "00000000000000000000000000000000 00000100 00000001 00000000 "
        "00000001 " +
        ifname);
  }
  for (const std::string& cidr : net.addresses) {
    if (cidr.find(':') != std::string::npos) {
      in6_addr a{};
      int prefix = 0;
      if (!ParseV6(cidr, &a, &prefix)) Die("bad IPv6 " + cidr);
      char p[8];
      std::snprintf(p, sizeof(p), "%02x", prefix);
      inet6_lines_.push_back(V6Hex(a) + " " + idx + " " + p + " 00 80 " +
                             ifname);
      in6_addr netpart = a;
      for (int bit = prefix; bit < 128; ++bit) {
        netpart.s6_addr[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
      }
      if (net.up) {
        route6_lines_.push_back(V6Hex(netpart) + " " + p +
                                " 00000000000000000000000000000000 00 "
                                "00000000000000000000000000000000 00000100 "
                                "00000001 00000000 00000001 " +
                                ifname);
      }
    } else {
      uint32_t a = 0;
      int prefix = 0;
      if (!ParseV4(cidr, &a, &prefix)) Die("bad IPv4 " + cidr);
      uint32_t mask = prefix == 0 ? 0 : htonl(~uint32_t{0} << (32 - prefix));
      // The address itself is not in procfs (only netlink has it); the
      // connected route the kernel adds is.
      if (net.up) {
        route_lines_.push_back(ifname + "\t" + V4RouteHex(a & mask) +
                               "\t00000000\t0001\t0\t0\t0\t" +
                               V4RouteHex(mask) + "\t0\t0\t0");
      }
    }
  }
  if (net.default_route && net.up) {
    route_lines_.push_back(ifname +
                           "\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0"
                           "\t0\t0");
  }
  ++next_ifindex_;
  FlushProc();
}

void SysfsBuilder::AddVirtualNetdev(const std::string& ifname,
                                    const NetdevSpec& net) {
  AddNetdevIn("sys/devices/virtual", ifname, net);
}

void SysfsBuilder::AddBlockDevice(const std::string& address,
                                  const std::string& disk,
                                  const BlockSpec& block) {
  std::string dev = DevicePath(address);
  std::string base;
  int major = 8;
  if (disk.rfind("nvme", 0) == 0) {
    std::string ctrl = disk.substr(0, disk.find('n', 4));
    base = dev + "/nvme/" + ctrl;
    if (!std::filesystem::exists(tree_.Abs(base + "/dev"))) {
      tree_.WriteFile(base + "/dev", "248:0\n");
      tree_.MakeDir("sys/class/nvme");
      tree_.Symlink("sys/class/nvme/" + ctrl, "../../" + StripSys(base));
    }
    major = 259;
  } else {
    base = dev + "/ata1/host0/target0:0:0/0:0:0:0/block";
  }
  std::map<std::string, std::string> paths;  // name -> rel dir
  std::string disk_path = base + "/" + disk;
  paths[disk] = disk_path;
  for (const std::string& p : block.partitions) {
    std::string path = disk_path + "/";
    path += p;
    paths[p] = std::move(path);
  }
  for (const auto& [name, path] : paths) {
    int minor = next_minor_++;
    tree_.WriteFile(path + "/dev",
                    std::to_string(major) + ":" + std::to_string(minor) + "\n");
    tree_.WriteFile(path + "/uevent", "DEVNAME=" + name + "\n");
    tree_.Symlink("sys/class/block/" + name, "../../" + StripSys(path));
    if (name != disk) tree_.WriteFile(path + "/partition", "1\n");
  }
  for (const auto& [member, holder] : block.holders) {
    std::string hpath = "sys/devices/virtual/block/" + holder;
    int minor = next_minor_++;
    tree_.WriteFile(hpath + "/dev", "253:" + std::to_string(minor) + "\n");
    tree_.WriteFile(hpath + "/dm/name", "vg-" + holder + "\n");
    tree_.Symlink("sys/class/block/" + holder, "../../" + StripSys(hpath));
    paths[holder] = hpath;
    auto it = paths.find(member);
    if (it == paths.end()) Die("holder of unknown " + member);
    tree_.Symlink(
        it->second + "/holders/" + holder,
        UpLevels(StripSys(it->second) + "/holders") + StripSys(hpath));
    std::string slave = hpath + "/slaves/";
    slave += member;
    tree_.Symlink(slave,
                  UpLevels(StripSys(hpath) + "/slaves") + StripSys(it->second));
  }
  auto dev_of = [&](const std::string& name) {
    auto text = tree_.Abs(paths.at(name) + "/dev");
    std::string v;
    if (FILE* f = std::fopen(text.c_str(), "r")) {
      char buf[32] = {0};
      if (std::fgets(buf, sizeof(buf), f)) v = buf;
      std::fclose(f);
    }
    while (!v.empty() && v.back() == '\n') v.pop_back();
    return v;
  };
  for (const std::string& m : block.mounted) {
    if (!paths.count(m)) Die("mounted unknown " + m);
    int id = 100 + static_cast<int>(mount_lines_.size());
    std::string line = std::to_string(id) + " 1 " + dev_of(m) + " / /mnt/" + m +
                       " rw,relatime shared:1 - ext4 /dev/";
    line += m;
    line += " rw";
    mount_lines_.push_back(std::move(line));
  }
  for (const std::string& s : block.swap) {
    if (!paths.count(s)) Die("swap on unknown " + s);
    swap_lines_.push_back("/dev/" + s +
                          "                               "
                          "partition\t1048572\t\t0\t\t-2");
  }
  FlushProc();
}

void SysfsBuilder::AddIommu(const std::string& name) {
  tree_.MakeDir("sys/class/iommu");
  std::string d = "sys/devices/virtual/iommu/" + name;
  if (name.rfind("dmar", 0) == 0) {
    tree_.WriteFile(d + "/intel-iommu/version", "1:0\n");
    tree_.WriteFile("sys/firmware/acpi/tables/DMAR", "DMAR");
  } else {
    tree_.WriteFile(d + "/amd-iommu/cap", "0x0\n");
    tree_.WriteFile("sys/firmware/acpi/tables/IVRS", "IVRS");
  }
  tree_.Symlink("sys/class/iommu/" + name,
                "../../devices/virtual/iommu/" + name);
}

void SysfsBuilder::SetGroupName(int group, const std::string& name) {
  EnsureGroup(group);
  tree_.WriteFile("sys/kernel/iommu_groups/" + std::to_string(group) + "/name",
                  name + "\n");
}

void SysfsBuilder::SetGroupType(int group, const std::string& type) {
  EnsureGroup(group);
  tree_.WriteFile("sys/kernel/iommu_groups/" + std::to_string(group) + "/type",
                  type + "\n");
}

void SysfsBuilder::AddReservedRegion(int group, const std::string& line) {
  EnsureGroup(group);
  std::string rel =
      "sys/kernel/iommu_groups/" + std::to_string(group) + "/reserved_regions";
  std::string cur;
  if (FILE* f = std::fopen(tree_.Abs(rel).c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof(buf), f)) cur += buf;
    std::fclose(f);
  }
  tree_.WriteFile(rel, cur + line + "\n");
}

void SysfsBuilder::SetDriver(const std::string& address,
                             const std::optional<std::string>& driver) {
  std::string addr = Normalize(address);
  const std::string path = DevicePath(addr);
  tree_.Remove(path + "/driver");
  for (const std::string& d : drivers_) {
    std::string link = "sys/bus/pci/drivers/" + d + "/";
    link += addr;
    tree_.Remove(link);
  }
  tree_.Remove(path + "/vfio-dev");
  if (driver) {
    LinkDriver(addr, *driver);
    if (*driver == "vfio-pci") {
      tree_.WriteFile(path + "/vfio-dev/vfio0/dev", "511:0\n");
    }
  }
}

void SysfsBuilder::SetAttr(const std::string& address, const std::string& file,
                           const std::optional<std::string>& content) {
  const std::string path = DevicePath(address) + "/" + file;
  // Discovery prefers uevent for these; drop it so the file is what gets
  // read.
  for (const char* id :
       {"vendor", "device", "subsystem_vendor", "subsystem_device", "class"}) {
    if (file == id) tree_.Remove(DevicePath(address) + "/uevent");
  }
  if (file == "revision") {
    // And the config header for the revision.
    tree_.Remove(DevicePath(address) + "/config");
  }
  if (content) {
    tree_.WriteFile(path, *content);
  } else {
    tree_.Remove(path);
  }
}

void SysfsBuilder::FlushProc() {
  std::string route =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU"
      "\tWindow\tIRTT\n";
  for (const auto& l : route_lines_) route += l + "\n";
  tree_.WriteFile("proc/net/route", route);
  std::string inet6;
  for (const auto& l : inet6_lines_) inet6 += l + "\n";
  tree_.WriteFile("proc/net/if_inet6", inet6);
  std::string route6;
  for (const auto& l : route6_lines_) route6 += l + "\n";
  tree_.WriteFile("proc/net/ipv6_route", route6);
  std::string mounts =
      "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
      "23 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n";
  for (const auto& l : mount_lines_) mounts += l + "\n";
  tree_.WriteFile("proc/self/mountinfo", mounts);
  std::string swaps = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
  for (const auto& l : swap_lines_) swaps += l + "\n";
  tree_.WriteFile("proc/swaps", swaps);
}

}  // namespace pcipass::testing
