#include "testing/sysfs_builder.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/sysfs.h"

namespace pcipass::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Link(const FixtureTree& t, const std::string& rel) {
  return fs::read_symlink(t.Abs(rel)).string();
}

class SysfsBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b_.AddBridge("0000:00:01.0", std::nullopt, 1);
    DeviceSpec nic;
    nic.address = "0000:01:00.0";
    nic.driver = "e1000e";
    nic.iommu_group = 7;
    nic.parent = "0000:00:01.0";
    b_.AddDevice(nic);
    DeviceSpec pf;
    pf.address = "0000:03:00.0";
    pf.vendor = 0x1b36;
    pf.device = 0x0010;
    pf.class_code = 0x010802;
    pf.driver = "nvme";
    pf.iommu_group = 11;
    SriovSpec sr;
    sr.totalvfs = 4;
    sr.vf_device = 0x10;
    b_.AddSriovPf(pf, sr);
    DeviceSpec vf = pf;
    vf.address = "0000:03:00.1";
    vf.driver = "vfio-pci";
    vf.iommu_group = 12;
    b_.AddVf("0000:03:00.0", 0, vf);
  }
  FixtureTree tree_;
  SysfsBuilder b_{tree_};
};

TEST_F(SysfsBuilderTest, LinksHaveTheKernelLayout) {
  struct Case {
    std::string link;
    std::string target;
  } cases[] = {
      {"sys/bus/pci/devices/0000:01:00.0",
       "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0"},
      {"sys/bus/pci/devices/0000:00:01.0",
       "../../../devices/pci0000:00/0000:00:01.0"},
      {"sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/driver",
       "../../../../bus/pci/drivers/e1000e"},
      {"sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/iommu_group",
       "../../../../kernel/iommu_groups/7"},
      {"sys/kernel/iommu_groups/7/devices/0000:01:00.0",
       "../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0"},
      {"sys/bus/pci/drivers/e1000e/0000:01:00.0",
       "../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0"},
      {"sys/devices/pci0000:03/0000:03:00.1/physfn", "../0000:03:00.0"},
      {"sys/devices/pci0000:03/0000:03:00.0/virtfn0", "../0000:03:00.1"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Link(tree_, c.link), c.target) << c.link;
    // And it resolves to something real.
    EXPECT_TRUE(fs::exists(tree_.Abs(c.link))) << c.link;
  }
  EXPECT_EQ(fs::canonical(tree_.Abs("sys/bus/pci/devices/0000:01:00.0/driver")),
            fs::canonical(tree_.Abs("sys/bus/pci/drivers/e1000e")));
  for (const char* f : {"bind", "unbind", "new_id", "remove_id"}) {
    EXPECT_TRUE(fs::is_regular_file(
        tree_.Abs(std::string("sys/bus/pci/drivers/e1000e/") + f)))
        << f;
  }
}

TEST_F(SysfsBuilderTest, AttributesHoldWhatTheKernelPrints) {
  struct Case {
    std::string file;
    std::string content;
  } cases[] = {
      {"0000:01:00.0/vendor", "0x8086\n"},
      {"0000:01:00.0/device", "0x10d3\n"},
      {"0000:01:00.0/class", "0x020000\n"},
      {"0000:01:00.0/driver_override", "(null)\n"},
      {"0000:01:00.0/numa_node", "-1\n"},
      {"0000:01:00.0/reset_method", "flr bus\n"},
      {"0000:03:00.0/sriov_vf_device", "10\n"},
      {"0000:03:00.0/sriov_totalvfs", "4\n"},
      {"0000:03:00.0/sriov_numvfs", "1\n"},
      {"0000:03:00.1/reset_method", "flr bus\n"},
      {"0000:00:01.0/class", "0x060400\n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Slurp(tree_.Abs("sys/bus/pci/devices/" + c.file)), c.content)
        << c.file;
  }
  std::string cfg = Slurp(tree_.Abs("sys/bus/pci/devices/0000:01:00.0/config"));
  ASSERT_EQ(cfg.size(), 256u);
  EXPECT_EQ(static_cast<uint8_t>(cfg[0]), 0x86);
  EXPECT_EQ(static_cast<uint8_t>(cfg[1]), 0x80);
  EXPECT_EQ(static_cast<uint8_t>(cfg[0x0b]), 0x02);
  EXPECT_EQ(cfg[0x0e], 0);
  std::string br = Slurp(tree_.Abs("sys/bus/pci/devices/0000:00:01.0/config"));
  EXPECT_EQ(br[0x0e], 1);  // bridge header
  EXPECT_TRUE(
      fs::exists(tree_.Abs("sys/bus/pci/devices/0000:03:00.1/vfio-dev/vfio0")));
  EXPECT_FALSE(
      fs::exists(tree_.Abs("sys/bus/pci/devices/0000:01:00.0/vfio-dev")));
}

TEST_F(SysfsBuilderTest, SetDriverMovesLinks) {
  b_.SetDriver("0000:01:00.0", "vfio-pci");
  EXPECT_EQ(Link(tree_, "sys/bus/pci/devices/0000:01:00.0/driver"),
            "../../../../bus/pci/drivers/vfio-pci");
  EXPECT_FALSE(fs::exists(fs::symlink_status(
      tree_.Abs("sys/bus/pci/drivers/e1000e/0000:01:00.0"))));
  EXPECT_TRUE(
      fs::exists(tree_.Abs("sys/bus/pci/drivers/vfio-pci/0000:01:00.0")));
  b_.SetDriver("0000:01:00.0", std::nullopt);
  EXPECT_FALSE(fs::exists(fs::symlink_status(
      tree_.Abs("sys/bus/pci/devices/0000:01:00.0/driver"))));
}

TEST_F(SysfsBuilderTest, NetdevWritesSysfsAndProcfs) {
  NetdevSpec n;
  n.addresses = {"10.1.2.3/24", "2001:db8::7/64"};
  n.default_route = true;
  b_.AddNetdev("0000:01:00.0", "eth0", n);
  EXPECT_EQ(Link(tree_, "sys/class/net/eth0"),
            "../../devices/pci0000:00/0000:00:01.0/0000:01:00.0/net/eth0");
  EXPECT_EQ(Slurp(tree_.Abs("sys/class/net/eth0/operstate")), "up\n");
  std::string route = Slurp(tree_.Abs("proc/net/route"));
  // 10.1.2.0/24 printed little-endian, as the kernel does.
  EXPECT_NE(route.find("eth0\t0002010A\t00000000\t0001"), std::string::npos)
      << route;
  EXPECT_NE(route.find("eth0\t00000000\t0100000A\t0003"), std::string::npos);
  std::string inet6 = Slurp(tree_.Abs("proc/net/if_inet6"));
  EXPECT_NE(inet6.find("20010db8000000000000000000000007 02 40 00 80 eth0"),
            std::string::npos)
      << inet6;
  EXPECT_NE(inet6.find(" 40 20 80 eth0"), std::string::npos);  // link-local
}

TEST_F(SysfsBuilderTest, BlockDevicesAndMounts) {
  BlockSpec blk;
  blk.partitions = {"nvme0n1p1"};
  blk.mounted = {"nvme0n1p1"};
  blk.swap = {"nvme0n1"};
  b_.AddBlockDevice("0000:03:00.0", "nvme0n1", blk);
  EXPECT_EQ(Link(tree_, "sys/class/block/nvme0n1p1"),
            "../../devices/pci0000:03/0000:03:00.0/nvme/nvme0/nvme0n1/"
            "nvme0n1p1");
  EXPECT_EQ(Slurp(tree_.Abs("sys/class/block/nvme0n1p1/dev")), "259:1\n");
  EXPECT_NE(
      Slurp(tree_.Abs("proc/self/mountinfo")).find(" 259:1 / /mnt/nvme0n1p1 "),
      std::string::npos);
  EXPECT_NE(Slurp(tree_.Abs("proc/swaps")).find("/dev/nvme0n1 "),
            std::string::npos);
}

TEST_F(SysfsBuilderTest, LspciReadsTheTree) {
  if (std::system("command -v lspci >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "lspci not installed";
  }
  std::string cmd = "lspci -D -n -A linux-sysfs -O sysfs.path=" +
                    tree_.Abs("sys/bus/pci").string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p)) out += buf;
  EXPECT_EQ(::pclose(p), 0) << out;
  EXPECT_NE(out.find("0000:01:00.0 0200: 8086:10d3"), std::string::npos) << out;
  EXPECT_NE(out.find("0000:03:00.1 0108: 1b36:0010"), std::string::npos) << out;
  EXPECT_NE(out.find("0000:00:01.0 0604: 8086:7c00"), std::string::npos) << out;
}

TEST(UpLevels, CountsComponents) {
  EXPECT_EQ(UpLevels("devices/pci0000:00/0000:00:01.0"), "../../../");
  EXPECT_EQ(UpLevels("a"), "../");
}

}  // namespace
}  // namespace pcipass::testing
