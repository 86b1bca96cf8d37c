#include "testing/host_generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/discovery.h"

namespace pcipass::testing {
namespace {

PciAddress A(const char* s) { return *PciAddress::Parse(s); }

Inventory Discovered(const FixtureTree& tree) {
  DiscoveryOptions o;
  o.lookup_names = false;
  auto inv = Discover(tree.host(), o);
  EXPECT_TRUE(inv.ok()) << inv.status().ToString();
  return inv.ok() ? std::move(inv).value() : Inventory();
}

TEST(HostGenerator, SmallShapeHasEveryKindOfDevice) {
  FixtureTree tree;
  HostShape shape;
  shape.vfs_per_pf = 4;
  auto made = GenerateHost(tree, shape);
  EXPECT_EQ(made.functions, CountFunctions(shape));
  Inventory inv = Discovered(tree);
  ASSERT_EQ(static_cast<int>(inv.devices().size()), made.functions);
  EXPECT_EQ(static_cast<int>(inv.groups().size()), made.groups);
  for (const PciDevice& d : inv.devices()) {
    EXPECT_TRUE(d.warnings.empty()) << d.warnings.front();
  }
  int pfs = 0, vfs = 0, gpus = 0, shared = 0, console = 0, netdev = 0,
      storage = 0;
  for (const PciDevice& d : inv.devices()) {
    pfs += d.type == DeviceType::kPf;
    vfs += d.type == DeviceType::kVf;
    gpus += d.class_code == 0x030200u;
    for (const HostUse& u : d.host_use) {
      console += u.kind == "console";
      netdev += u.kind == "netdev";
      storage += u.kind == "storage";
    }
  }
  for (const auto& [id, g] : inv.groups()) shared += g.members.size() == 3;
  EXPECT_EQ(pfs, shape.sriov_pfs);
  EXPECT_EQ(vfs, shape.sriov_pfs * shape.vfs_per_pf);
  EXPECT_EQ(gpus, shape.gpus);
  EXPECT_EQ(shared, shape.bridges_with_shared_groups);
  EXPECT_EQ(console, 1);
  EXPECT_EQ(netdev, shape.host_nics);
  EXPECT_EQ(storage, 2);  // root fs and swap on nvme0
  // The VMD domain has 5 hex digits and no group.
  const PciDevice* vmd = inv.Find(A("10000:01:00.0"));
  ASSERT_NE(vmd, nullptr);
  EXPECT_EQ(vmd->iommu_group, std::nullopt);
  // NUMA follows the socket.
  std::set<int> nodes;
  for (const PciDevice& d : inv.devices()) {
    if (d.numa_node) nodes.insert(*d.numa_node);
  }
  EXPECT_EQ(nodes, (std::set<int>{0, 1}));
}

TEST(HostGenerator, SharedBridgeGroupsAreNotViableWhileE1000Bound) {
  FixtureTree tree;
  HostShape shape;
  shape.vfs_per_pf = 2;
  GenerateHost(tree, shape);
  Inventory inv = Discovered(tree);
  int checked = 0;
  for (const auto& [id, g] : inv.groups()) {
    if (g.members.size() != 3) continue;
    ++checked;
    EXPECT_FALSE(g.viable);
    ASSERT_EQ(g.blockers.size(), 1u);
    EXPECT_NE(g.blockers[0].find("(e1000)"), std::string::npos);
  }
  EXPECT_EQ(checked, shape.bridges_with_shared_groups);
}

TEST(HostGenerator, NoIommuShapeHasNoGroups) {
  FixtureTree tree;
  HostShape shape;
  shape.iommu = false;
  shape.vfs_per_pf = 1;
  GenerateHost(tree, shape);
  Inventory inv = Discovered(tree);
  EXPECT_TRUE(inv.groups().empty());
  for (const PciDevice& d : inv.devices()) {
    EXPECT_EQ(d.iommu_group, std::nullopt);
  }
}

TEST(HostGenerator, VfsSpillOntoTheNextBusWithAri) {
  FixtureTree tree;
  HostShape shape;
  shape.sriov_pfs = 1;
  shape.vfs_per_pf = 256;
  shape.gpus = 0;
  shape.nvme = 0;
  shape.bridges_with_shared_groups = 0;
  auto made = GenerateHost(tree, shape);
  Inventory inv = Discovered(tree);
  EXPECT_EQ(static_cast<int>(inv.devices().size()), made.functions);
  const PciDevice* pf = nullptr;
  for (const PciDevice& d : inv.devices()) {
    if (d.type == DeviceType::kPf) pf = &d;
  }
  ASSERT_NE(pf, nullptr);
  ASSERT_EQ(pf->virtfns.size(), 256u);
  EXPECT_EQ(pf->sriov_numvfs, 256);
  EXPECT_EQ(pf->virtfns[254].bus, pf->address.bus);
  EXPECT_EQ(pf->virtfns[255].bus, pf->address.bus + 1);
  // Every VF points back at the PF.
  for (const PciAddress& v : pf->virtfns) {
    const PciDevice* vf = inv.Find(v);
    ASSERT_NE(vf, nullptr) << v.ToString();
    EXPECT_EQ(vf->physfn, pf->address);
  }
}

TEST(HostGenerator, CountsReachFourThousandFunctions) {
  HostShape shape;
  shape.sriov_pfs = 16;
  EXPECT_GE(CountFunctions(shape), 4096);
}

// More than 31 root ports per socket (the 16k-function benchmark host):
// the extra ports are functions 1-7 of the root-bus slots, and every
// function is still found once, with its own address.
TEST(HostGenerator, MoreThanThirtyOneRootPortsPerSocket) {
  FixtureTree tree;
  HostShape shape;
  shape.sriov_pfs = 64;  // 32 per socket, plus the other devices' ports
  shape.vfs_per_pf = 1;
  auto made = GenerateHost(tree, shape);
  EXPECT_EQ(made.functions, CountFunctions(shape));
  Inventory inv = Discovered(tree);
  ASSERT_EQ(static_cast<int>(inv.devices().size()), made.functions);
  std::set<PciAddress> seen;
  int pfs = 0;
  for (const PciDevice& d : inv.devices()) {
    EXPECT_TRUE(seen.insert(d.address).second) << d.address.ToString();
    pfs += d.type == DeviceType::kPf;
  }
  EXPECT_EQ(pfs, 64);
  EXPECT_NE(inv.Find(A("0000:00:01.1")), nullptr);  // the 32nd port
  EXPECT_NE(inv.Find(A("0000:80:01.1")), nullptr);
}

// Big hosts are read by several threads; the inventory must be exactly
// what one thread reads (same devices in the same order, same groups).
TEST(HostGenerator, ParallelDiscoveryEqualsSerial) {
  FixtureTree tree;
  HostShape shape;
  shape.sriov_pfs = 3;  // ~800 functions: above the parallel threshold
  GenerateHost(tree, shape);
  DiscoveryOptions one;
  one.max_threads = 1;
  DiscoveryOptions four;
  four.max_threads = 4;
  Result<Inventory> a = Discover(tree.host(), one);
  Result<Inventory> b = Discover(tree.host(), four);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_GE(a->devices().size(), 512u);
  ASSERT_EQ(a->devices().size(), b->devices().size());
  auto row = [](const PciDevice& d) {
    std::string r = d.address.ToString() + " " + d.driver.value_or("-") + " g" +
                    std::to_string(d.iommu_group.value_or(-1)) + " n" +
                    std::to_string(d.numa_node.value_or(-1)) + " " +
                    (d.physfn ? d.physfn->ToString() : "-") + " vfs" +
                    std::to_string(d.virtfns.size()) + " " + d.vendor_name +
                    "/" + d.product_name + " use" +
                    std::to_string(d.host_use.size());
    return r;
  };
  for (size_t i = 0; i < a->devices().size(); ++i) {
    ASSERT_EQ(row(a->devices()[i]), row(b->devices()[i])) << i;
  }
  ASSERT_EQ(a->groups().size(), b->groups().size());
  for (const auto& [id, g] : a->groups()) {
    const IommuGroup* h = b->FindGroup(id);
    ASSERT_NE(h, nullptr) << id;
    EXPECT_EQ(g.members, h->members) << id;
    EXPECT_EQ(g.viable, h->viable) << id;
    EXPECT_EQ(g.blockers, h->blockers) << id;
  }
  EXPECT_EQ(a->warnings(), b->warnings());
}

}  // namespace
}  // namespace pcipass::testing
