#include "core/host_use.h"

#include <gtest/gtest.h>

#include "core/discovery.h"
#include "testing/fixture_tree.h"
#include "testing/sysfs_builder.h"

namespace pcipass {
namespace {

using testing::BlockSpec;
using testing::DeviceSpec;
using testing::FixtureTree;
using testing::NetdevSpec;
using testing::SysfsBuilder;

PciAddress A(const char* s) { return *PciAddress::Parse(s); }

std::vector<std::string> Reasons(const PciDevice& d, const std::string& kind) {
  std::vector<std::string> out;
  for (const HostUse& u : d.host_use) {
    if (u.kind == kind) out.push_back(u.reason);
  }
  return out;
}

class HostUseTest : public ::testing::Test {
 protected:
  HostUseTest() : b_(tree_) {
    DeviceSpec nic;
    nic.address = "0000:01:00.0";
    nic.driver = "e1000e";
    b_.AddDevice(nic);
    DeviceSpec nvme;
    nvme.address = "0000:02:00.0";
    nvme.class_code = 0x010802;
    nvme.driver = "nvme";
    b_.AddDevice(nvme);
  }
  const PciDevice& Run(const char* addr) {
    DiscoveryOptions o;
    o.lookup_names = false;
    auto inv = Discover(tree_.host(), o);
    EXPECT_TRUE(inv.ok());
    inv_ = std::move(inv).value();
    const PciDevice* d = inv_.Find(A(addr));
    EXPECT_NE(d, nullptr);
    return *d;
  }
  FixtureTree tree_;
  SysfsBuilder b_;
  Inventory inv_;
};

TEST_F(HostUseTest, NetdevCases) {
  struct Case {
    const char* name;
    NetdevSpec net;
    std::vector<std::string> want;
  } cases[] = {
      {"up with IPv4 (connected route)",
       {true, {"10.0.0.5/24"}, false, std::nullopt},
       {"eth0 is up and carries routes"}},
      {"up with global IPv6",
       {true, {"2001:db8::5/64"}, false, std::nullopt},
       {"eth0 is up with address 2001:db8::5/64"}},
      {"up with default route only",
       {true, {}, true, std::nullopt},
       {"eth0 is up and carries routes"}},
      {"up, link-local only", {true, {}, false, std::nullopt}, {}},
      {"down with address", {false, {"10.0.0.5/24"}, false, std::nullopt}, {}},
      {"down, nothing", {false, {}, false, std::nullopt}, {}},
  };
  for (const Case& c : cases) {
    FixtureTree tree;
    SysfsBuilder b(tree);
    DeviceSpec nic;
    nic.address = "0000:01:00.0";
    b.AddDevice(nic);
    b.AddNetdev("0000:01:00.0", "eth0", c.net);
    DiscoveryOptions o;
    o.lookup_names = false;
    auto inv = Discover(tree.host(), o);
    ASSERT_TRUE(inv.ok()) << c.name;
    const PciDevice& d = *inv->Find(A("0000:01:00.0"));
    EXPECT_EQ(Reasons(d, "netdev"), c.want) << c.name;
    ASSERT_EQ(d.netdevs.size(), 1u) << c.name;
    EXPECT_EQ(d.netdevs[0].admin_up, c.net.up) << c.name;
  }
}

TEST_F(HostUseTest, IPv6AddressesAreReportedWithoutLinkLocal) {
  NetdevSpec n;
  n.addresses = {"2001:db8::5/64"};
  b_.AddNetdev("0000:01:00.0", "eth0", n);
  const PciDevice& d = Run("0000:01:00.0");
  ASSERT_EQ(d.netdevs.size(), 1u);
  EXPECT_EQ(d.netdevs[0].addresses, std::vector<std::string>{"2001:db8::5/64"});
  EXPECT_TRUE(d.netdevs[0].has_route);
}

// virtio-net puts its interface one level deeper (<pci dev>/virtio2/net/
// eth0), found through sys/class/net; this development VM's own NIC is one.
TEST_F(HostUseTest, NestedVirtioNetdevIsFoundAndInUse) {
  DeviceSpec virtio;
  virtio.address = "0000:00:03.0";
  virtio.vendor = 0x1af4;
  virtio.device = 0x1041;
  virtio.driver = "virtio-pci";
  b_.AddDevice(virtio);
  NetdevSpec up;
  // IPv6: fixtures carry addresses in proc/net/if_inet6 (IPv4 ones come
  // from netlink, on the real root only).
  up.addresses = {"2001:db8::2/64"};
  up.default_route = true;
  b_.AddNestedNetdev("0000:00:03.0", "virtio2", "eth0", up);
  const PciDevice& d = Run("0000:00:03.0");
  ASSERT_EQ(d.netdevs.size(), 1u);
  EXPECT_EQ(d.netdevs[0].name, "eth0");
  EXPECT_EQ(d.netdevs[0].operstate, "up");
  std::vector<std::string> why = Reasons(d, "netdev");
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("eth0 is up with address 2001:db8::2/64"),
            std::string::npos)
      << why[0];
  // The other PCI devices do not get it.
  EXPECT_TRUE(Run("0000:01:00.0").netdevs.empty());
}

TEST_F(HostUseTest, SlaveOfActiveBondIsInUse) {
  NetdevSpec bond;
  bond.addresses = {"2001:db8::9/64"};
  b_.AddVirtualNetdev("bond0", bond);
  NetdevSpec slave;
  slave.master = "bond0";
  b_.AddNetdev("0000:01:00.0", "eth0", slave);
  const PciDevice& d = Run("0000:01:00.0");
  EXPECT_EQ(Reasons(d, "netdev"),
            std::vector<std::string>{
                "eth0 is enslaved to bond0, which is up with address "
                "2001:db8::9/64"});
  ASSERT_EQ(d.netdevs.size(), 1u);
  EXPECT_EQ(d.netdevs[0].master, "bond0");
}

TEST_F(HostUseTest, SlaveOfIdleBondIsFree) {
  NetdevSpec bond;
  bond.up = false;
  b_.AddVirtualNetdev("bond0", bond);
  NetdevSpec slave;
  slave.master = "bond0";
  b_.AddNetdev("0000:01:00.0", "eth0", slave);
  EXPECT_TRUE(Run("0000:01:00.0").host_use.empty());
}

TEST_F(HostUseTest, StorageCases) {
  struct Case {
    const char* name;
    BlockSpec block;
    std::vector<std::string> want;
  } cases[] = {
      {"mounted partition",
       {{"nvme0n1p1"}, {"nvme0n1p1"}, {}, {}},
       {"nvme0n1p1 is mounted on /mnt/nvme0n1p1"}},
      {"whole disk mounted",
       {{}, {"nvme0n1"}, {}, {}},
       {"nvme0n1 is mounted on /mnt/nvme0n1"}},
      {"swap partition",
       {{"nvme0n1p2"}, {}, {"nvme0n1p2"}, {}},
       {"nvme0n1p2 is used as swap"}},
      {"dm holder mounted",
       {{"nvme0n1p3"}, {"dm-0"}, {}, {{"nvme0n1p3", "dm-0"}}},
       {"nvme0n1p3 is held by dm-0, which is mounted on /mnt/dm-0"}},
      {"dm holder swap",
       {{}, {}, {"dm-1"}, {{"nvme0n1", "dm-1"}}},
       {"nvme0n1 is held by dm-1, which is used as swap"}},
      {"idle partitions", {{"nvme0n1p1", "nvme0n1p2"}, {}, {}, {}}, {}},
      {"idle holder", {{}, {}, {}, {{"nvme0n1", "dm-2"}}}, {}},
  };
  for (const Case& c : cases) {
    FixtureTree tree;
    SysfsBuilder b(tree);
    DeviceSpec nvme;
    nvme.address = "0000:02:00.0";
    nvme.class_code = 0x010802;
    b.AddDevice(nvme);
    b.AddBlockDevice("0000:02:00.0", "nvme0n1", c.block);
    DiscoveryOptions o;
    o.lookup_names = false;
    auto inv = Discover(tree.host(), o);
    ASSERT_TRUE(inv.ok()) << c.name;
    const PciDevice& d = *inv->Find(A("0000:02:00.0"));
    EXPECT_EQ(Reasons(d, "storage"), c.want) << c.name;
    EXPECT_EQ(d.block_devices, std::vector<std::string>{"nvme0n1"}) << c.name;
  }
}

TEST_F(HostUseTest, SataDiskMountedBySourceName) {
  DeviceSpec ahci;
  ahci.address = "0000:00:1f.2";
  ahci.class_code = 0x010601;
  b_.AddDevice(ahci);
  BlockSpec blk;
  blk.partitions = {"sda1"};
  b_.AddBlockDevice("0000:00:1f.2", "sda", blk);
  // btrfs-style: anonymous 0:NN device, matched by the source /dev/sda1.
  tree_.WriteFile("proc/self/mountinfo",
                  "30 1 0:45 / / rw - btrfs /dev/sda1 rw\n");
  const PciDevice& d = Run("0000:00:1f.2");
  EXPECT_EQ(Reasons(d, "storage"),
            std::vector<std::string>{"sda1 is mounted on /"});
  // The other controller is untouched.
  EXPECT_TRUE(inv_.Find(A("0000:02:00.0"))->host_use.empty());
}

TEST_F(HostUseTest, ConsoleAndBridge) {
  DeviceSpec vga;
  vga.address = "0000:03:00.0";
  vga.class_code = 0x030000;
  vga.boot_vga = true;
  b_.AddDevice(vga);
  DeviceSpec other;
  other.address = "0000:04:00.0";
  other.class_code = 0x030000;
  other.boot_vga = false;
  b_.AddDevice(other);
  b_.AddBridge("0000:00:01.0");
  EXPECT_EQ(Reasons(Run("0000:03:00.0"), "console"),
            std::vector<std::string>{
                "boot VGA device (the firmware's primary display)"});
  EXPECT_TRUE(inv_.Find(A("0000:04:00.0"))->host_use.empty());
  EXPECT_EQ(
      Reasons(*inv_.Find(A("0000:00:01.0")), "bridge"),
      std::vector<std::string>{"PCI bridge (class 0604) stays with the host"});
}

TEST_F(HostUseTest, DisabledDetectionLeavesHostUseEmpty) {
  NetdevSpec n;
  n.addresses = {"10.0.0.5/24"};
  b_.AddNetdev("0000:01:00.0", "eth0", n);
  DiscoveryOptions o;
  o.lookup_names = false;
  o.host_use = false;
  auto inv = Discover(tree_.host(), o);
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->Find(A("0000:01:00.0"))->host_use.empty());
}

TEST_F(HostUseTest, MalformedProcFilesAreIgnored) {
  NetdevSpec n;
  n.addresses = {"10.0.0.5/24"};
  b_.AddNetdev("0000:01:00.0", "eth0", n);
  tree_.WriteFile("proc/net/route", "Iface\nnonsense\n\n\teth0 zz\n");
  tree_.WriteFile("proc/net/ipv6_route", "short line\n");
  tree_.WriteFile("proc/net/if_inet6", "zz 1 2\n");
  tree_.WriteFile("proc/self/mountinfo", "x\n");
  tree_.WriteFile("proc/swaps", "");
  const PciDevice& d = Run("0000:01:00.0");
  EXPECT_TRUE(d.host_use.empty());
}

TEST(ScanBlockDevices, PartitionsPciAndHolders) {
  FixtureTree tree;
  SysfsBuilder b(tree);
  DeviceSpec nvme;
  nvme.address = "0000:02:00.0";
  b.AddDevice(nvme);
  BlockSpec blk;
  blk.partitions = {"nvme0n1p1"};
  blk.holders = {{"nvme0n1p1", "dm-0"}};
  b.AddBlockDevice("0000:02:00.0", "nvme0n1", blk);
  auto blocks = ScanBlockDevices(tree.host());
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_FALSE(blocks.at("nvme0n1").partition);
  EXPECT_TRUE(blocks.at("nvme0n1p1").partition);
  EXPECT_EQ(blocks.at("nvme0n1p1").pci, A("0000:02:00.0"));
  EXPECT_EQ(blocks.at("nvme0n1p1").holders, std::vector<std::string>{"dm-0"});
  EXPECT_EQ(blocks.at("dm-0").pci, std::nullopt);
  EXPECT_EQ(blocks.at("dm-0").dm_name, "vg-dm-0");
  EXPECT_EQ(blocks.at("nvme0n1").dev, "259:0");
}

}  // namespace
}  // namespace pcipass
