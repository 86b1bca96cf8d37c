#include "core/iommu.h"

#include <gtest/gtest.h>

#include "core/discovery.h"
#include "testing/fixture_tree.h"
#include "testing/sysfs_builder.h"

namespace pcipass {
namespace {

using testing::DeviceSpec;
using testing::FixtureTree;
using testing::SysfsBuilder;

PciAddress A(const char* s) { return *PciAddress::Parse(s); }

DiscoveryOptions NoNames() {
  DiscoveryOptions o;
  o.lookup_names = false;
  return o;
}

TEST(DriverKeepsGroupViable, Table) {
  struct Case {
    std::optional<std::string> driver;
    bool vfio_dev;
    bool want;
  } cases[] = {
      {std::nullopt, false, true},
      {"vfio-pci", false, true},
      {"vfio-pci", true, true},
      {"pci-stub", false, true},
      {"pcieport", false, true},
      {"mlx5_vfio_pci", true, true},
      {"mlx5_vfio_pci", false, false},
      {"e1000e", false, false},
      {"shpchp", false, false},
      {"nvme", false, false},
      {"", false, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DriverKeepsGroupViable(c.driver, c.vfio_dev), c.want)
        << c.driver.value_or("(unbound)") << " vfio_dev=" << c.vfio_dev;
  }
}

// The lab's bridge group: PCIe-to-PCI bridge 04:00.0 (no driver) with
// 05:01.0 and 05:02.0 behind it, all in group 10.
class BridgeGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b_.AddBridge("0000:00:1e.0", std::nullopt, 9);
    b_.AddBridge("0000:04:00.0", "0000:00:1e.0", 10, std::nullopt);
    for (const char* a : {"0000:05:01.0", "0000:05:02.0"}) {
      DeviceSpec s;
      s.address = a;
      s.device = 0x100e;
      s.driver = "e1000";
      s.parent = "0000:04:00.0";
      s.iommu_group = 10;
      b_.AddDevice(s);
    }
  }
  Inventory Run() {
    auto inv = Discover(tree_.host(), NoNames());
    EXPECT_TRUE(inv.ok());
    return *inv;
  }
  FixtureTree tree_;
  SysfsBuilder b_{tree_};
};

TEST_F(BridgeGroupTest, ViabilityFollowsEveryMember) {
  struct Case {
    std::optional<std::string> d1, d2;
    bool viable;
    std::vector<std::string> blockers;
  } cases[] = {
      {"e1000",
       "e1000",
       false,
       {"0000:05:01.0 (e1000)", "0000:05:02.0 (e1000)"}},
      {"vfio-pci", "e1000", false, {"0000:05:02.0 (e1000)"}},
      {"vfio-pci", "vfio-pci", true, {}},
      {"vfio-pci", std::nullopt, true, {}},
      {"pci-stub", std::nullopt, true, {}},
  };
  for (const Case& c : cases) {
    b_.SetDriver("0000:05:01.0", c.d1);
    b_.SetDriver("0000:05:02.0", c.d2);
    Inventory inv = Run();
    const IommuGroup* g = inv.FindGroup(10);
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g->members.size(), 3u);
    EXPECT_EQ(g->viable, c.viable)
        << c.d1.value_or("-") << "/" << c.d2.value_or("-");
    EXPECT_EQ(g->blockers, c.blockers) << c.d1.value_or("-");
  }
}

TEST_F(BridgeGroupTest, BridgeOnOtherDriverBlocks) {
  b_.SetDriver("0000:04:00.0", "shpchp");
  b_.SetDriver("0000:05:01.0", std::nullopt);
  b_.SetDriver("0000:05:02.0", std::nullopt);
  Inventory inv = Run();
  EXPECT_FALSE(inv.FindGroup(10)->viable);
  EXPECT_EQ(inv.FindGroup(10)->blockers,
            std::vector<std::string>{"0000:04:00.0 (shpchp)"});
}

TEST_F(BridgeGroupTest, EvaluateGroupPlansDriverChanges) {
  Inventory inv = Run();
  const IommuGroup& g = *inv.FindGroup(10);
  IommuGroup one = EvaluateGroup(g, inv, {{A("0000:05:01.0"), "vfio-pci"}});
  EXPECT_FALSE(one.viable);
  EXPECT_EQ(one.blockers, std::vector<std::string>{"0000:05:02.0 (e1000)"});
  IommuGroup both = EvaluateGroup(
      g, inv,
      {{A("0000:05:01.0"), "vfio-pci"}, {A("0000:05:02.0"), std::nullopt}});
  EXPECT_TRUE(both.viable);
  EXPECT_TRUE(both.blockers.empty());
  IommuGroup variant = EvaluateGroup(
      g, inv,
      {{A("0000:05:01.0"), "mlx5_vfio_pci"}, {A("0000:05:02.0"), "vfio-pci"}});
  EXPECT_TRUE(variant.viable);
  // Unchanged input group is not modified.
  EXPECT_FALSE(g.viable);
}

TEST_F(BridgeGroupTest, UnknownMemberBlocks) {
  Inventory inv = Run();
  IommuGroup g = *inv.FindGroup(10);
  g.members.push_back(A("0000:09:00.0"));
  IommuGroup r = EvaluateGroup(
      g, inv,
      {{A("0000:05:01.0"), "vfio-pci"}, {A("0000:05:02.0"), "vfio-pci"}});
  EXPECT_FALSE(r.viable);
  EXPECT_EQ(r.blockers,
            std::vector<std::string>{"0000:09:00.0 (unknown device)"});
}

TEST(ReadIommuGroup, TypeRegionsNoiommuAndNonPciMembers) {
  FixtureTree tree;
  SysfsBuilder b(tree);
  DeviceSpec s;
  s.address = "0000:01:00.0";
  s.iommu_group = 3;
  b.AddDevice(s);
  b.SetGroupType(3, "identity");
  b.AddReservedRegion(3, "0x000000007b800000 0x000000007fffffff direct");
  tree.MakeDir("sys/kernel/iommu_groups/3/devices/PNP0C0A:00");
  auto g = ReadIommuGroup(tree.host(), 3);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->type, "identity");
  EXPECT_TRUE(g->has_direct_region);
  EXPECT_FALSE(g->noiommu);
  EXPECT_EQ(g->members, std::vector<PciAddress>{A("0000:01:00.0")});
  EXPECT_EQ(g->non_pci_members, std::vector<std::string>{"PNP0C0A:00"});

  b.SetGroupName(4, "vfio-noiommu");
  b.AddReservedRegion(4,
                      "0x0000000000000000 0x0000000000000fff "
                      "direct-relaxable");
  auto n = ReadIommuGroup(tree.host(), 4);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->noiommu);
  EXPECT_FALSE(n->has_direct_region);  // relaxable is not "direct"

  auto missing = ReadIommuGroup(tree.host(), 99);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("IOMMU group 99"),
            std::string::npos)
      << missing.status().message();
}

TEST(ReadIommuGroup, NonPciMemberMakesGroupNonViable) {
  FixtureTree tree;
  SysfsBuilder b(tree);
  DeviceSpec s;
  s.address = "0000:01:00.0";
  s.iommu_group = 3;
  s.driver = "vfio-pci";
  b.AddDevice(s);
  tree.MakeDir("sys/kernel/iommu_groups/3/devices/PNP0C0A:00");
  auto inv = Discover(tree.host(), NoNames());
  ASSERT_TRUE(inv.ok());
  EXPECT_FALSE(inv->FindGroup(3)->viable);
  EXPECT_EQ(inv->FindGroup(3)->blockers,
            std::vector<std::string>{"PNP0C0A:00 (non-PCI member)"});
}

}  // namespace
}  // namespace pcipass
