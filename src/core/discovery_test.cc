#include "core/discovery.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "testing/fixture_tree.h"
#include "testing/sysfs_builder.h"

namespace pcipass {
namespace {

using testing::BlockSpec;
using testing::DeviceSpec;
using testing::FixtureTree;
using testing::NetdevSpec;
using testing::SriovSpec;
using testing::SysfsBuilder;

PciAddress A(const char* s) { return *PciAddress::Parse(s); }

DiscoveryOptions NoNames() {
  DiscoveryOptions o;
  o.lookup_names = false;
  return o;
}

// A small pci.ids so names do not depend on the machine's database.
constexpr char kPciIds[] =
    "8086  Intel Corporation\n"
    "\t10d3  82574L Gigabit Network Connection\n"
    "1b36  Red Hat, Inc.\n"
    "\t0010  QEMU NVM Express Controller\n"
    "C 01  Mass storage controller\n"
    "\t08  Non-Volatile memory controller\n"
    "C 02  Network controller\n"
    "\t00  Ethernet controller\n"
    "C 06  Bridge\n"
    "\t04  PCI bridge\n";

class DiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.WriteFile("pci.ids", kPciIds);
    opts_.pci_ids_path = tree_.Abs("pci.ids").string();
    b_.AddBridge("0000:00:01.0", std::nullopt, 1);
    DeviceSpec nic;
    nic.address = "0000:01:00.0";
    nic.driver = "e1000e";
    nic.iommu_group = 7;
    nic.parent = "0000:00:01.0";
    nic.reset_method = "pm bus";
    nic.revision = 0x03;
    b_.AddDevice(nic);
    DeviceSpec pf;
    pf.address = "0000:03:00.0";
    pf.vendor = 0x1b36;
    pf.device = 0x0010;
    pf.class_code = 0x010802;
    pf.driver = "nvme";
    pf.iommu_group = 11;
    pf.numa_node = 1;
    SriovSpec sr;
    sr.totalvfs = 4;
    sr.vf_device = 0x10;
    b_.AddSriovPf(pf, sr);
    for (int i = 0; i < 2; ++i) {
      DeviceSpec vf;
      vf.address = "0000:03:00." + std::to_string(i + 1);
      vf.vendor = 0x1b36;
      vf.device = 0x0010;
      vf.class_code = 0x010802;
      vf.iommu_group = 12 + i;
      vf.driver =
          i == 0 ? std::optional<std::string>("vfio-pci") : std::nullopt;
      b_.AddVf("0000:03:00.0", i, vf);
    }
  }

  Inventory Run() {
    auto inv = Discover(tree_.host(), opts_);
    EXPECT_TRUE(inv.ok()) << inv.status().ToString();
    return inv.ok() ? std::move(inv).value() : Inventory();
  }

  FixtureTree tree_;
  SysfsBuilder b_{tree_};
  DiscoveryOptions opts_;
};

TEST_F(DiscoveryTest, ReadsEveryFieldOfAPlainDevice) {
  Inventory inv = Run();
  const PciDevice* d = inv.Find(A("0000:01:00.0"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->vendor_id, 0x8086);
  EXPECT_EQ(d->product_id, 0x10d3);
  EXPECT_EQ(d->subsystem_vendor_id, 0x8086);
  EXPECT_EQ(d->subsystem_product_id, 0x0000);
  EXPECT_EQ(d->class_code, 0x020000u);
  EXPECT_EQ(d->revision, 0x03);
  EXPECT_EQ(d->vendor_name, "Intel Corporation");
  EXPECT_EQ(d->product_name, "82574L Gigabit Network Connection");
  EXPECT_EQ(d->class_name, "Ethernet controller");
  EXPECT_EQ(d->driver, "e1000e");
  EXPECT_EQ(d->driver_override, std::nullopt);  // "(null)"
  EXPECT_EQ(d->iommu_group, 7);
  EXPECT_EQ(d->numa_node, std::nullopt);  // -1
  EXPECT_EQ(d->local_cpulist, "0-3");
  EXPECT_EQ(d->current_link_speed, "8.0 GT/s PCIe");
  EXPECT_EQ(d->current_link_width, 4);
  EXPECT_EQ(d->reset_methods, (std::vector<std::string>{"pm", "bus"}));
  EXPECT_TRUE(d->reset_method_known);
  EXPECT_EQ(d->header_type, 0);
  EXPECT_EQ(d->boot_vga, std::nullopt);
  EXPECT_EQ(d->type, DeviceType::kPci);
  EXPECT_TRUE(d->warnings.empty()) << d->warnings.front();
  EXPECT_EQ(inv.devices().size(), 5u);
}

TEST_F(DiscoveryTest, SriovPfAndVfs) {
  Inventory inv = Run();
  const PciDevice* pf = inv.Find(A("0000:03:00.0"));
  ASSERT_NE(pf, nullptr);
  EXPECT_EQ(pf->type, DeviceType::kPf);
  EXPECT_EQ(pf->sriov_totalvfs, 4);
  EXPECT_EQ(pf->sriov_numvfs, 2);
  EXPECT_EQ(pf->sriov_vf_device, 0x10);  // "10" without 0x
  EXPECT_EQ(pf->sriov_drivers_autoprobe, true);
  EXPECT_EQ(pf->virtfns,
            (std::vector<PciAddress>{A("0000:03:00.1"), A("0000:03:00.2")}));
  EXPECT_EQ(pf->numa_node, 1);
  EXPECT_EQ(pf->class_name, "Non-Volatile memory controller");
  const PciDevice* vf = inv.Find(A("0000:03:00.2"));
  ASSERT_NE(vf, nullptr);
  EXPECT_EQ(vf->type, DeviceType::kVf);
  EXPECT_EQ(vf->physfn, A("0000:03:00.0"));
  EXPECT_EQ(vf->parent_addr(), A("0000:03:00.0"));
  EXPECT_EQ(vf->driver, std::nullopt);
}

TEST_F(DiscoveryTest, BridgeIsBridgeAndFiveDigitDomainWorks) {
  DeviceSpec vmd;
  vmd.address = "10000:01:00.0";
  vmd.class_code = 0x010802;
  b_.AddDevice(vmd);
  Inventory inv = Run();
  const PciDevice* br = inv.Find(A("0000:00:01.0"));
  ASSERT_NE(br, nullptr);
  EXPECT_TRUE(br->IsBridge());
  EXPECT_EQ(br->header_type, 1);
  EXPECT_EQ(br->class_name, "PCI bridge");
  ASSERT_NE(inv.Find(A("10000:01:00.0")), nullptr);
  EXPECT_EQ(inv.devices().back().address.ToString(), "10000:01:00.0");
}

TEST_F(DiscoveryTest, MalformedFilesDegradeWithWarnings) {
  struct Case {
    const char* file;
    std::optional<std::string> content;
    const char* warning;  // substring; "" = no warning expected
  } cases[] = {
      {"vendor", "zzzz\n", "vendor: malformed value 'zzzz'"},
      {"vendor", "0x123456\n", "vendor: malformed value '0x123456'"},
      {"vendor", std::nullopt, "vendor: missing"},
      {"device", "\n", "device: malformed value ''"},
      {"class", std::nullopt, "class: missing"},
      {"numa_node", "abc\n", "numa_node: malformed value 'abc'"},
      {"boot_vga", "2\n", "boot_vga: malformed value '2'"},
      {"current_link_width", "x4\n", "current_link_width: malformed"},
      {"revision", "0x100\n", "revision: malformed value '0x100'"},
      {"config", "", "config: short read (0 bytes)"},
  };
  for (const Case& c : cases) {
    FixtureTree tree;
    SysfsBuilder b(tree);
    DeviceSpec s;
    s.address = "0000:01:00.0";
    b.AddDevice(s);
    b.SetAttr("0000:01:00.0", c.file, c.content);
    auto inv = Discover(tree.host(), NoNames());
    ASSERT_TRUE(inv.ok()) << c.file;
    const PciDevice* d = inv->Find(A("0000:01:00.0"));
    ASSERT_NE(d, nullptr) << c.file;
    ASSERT_EQ(d->warnings.size(), 1u) << c.file;
    EXPECT_NE(d->warnings[0].find(c.warning), std::string::npos)
        << c.file << ": " << d->warnings[0];
    EXPECT_EQ(d->warnings[0].rfind("0000:01:00.0: ", 0), 0u) << c.file;
  }
}

// Integers that do not fit their field were silently truncated to int
// (numa_node 99999999999 showed as 1215752191): now a warning naming the
// file, the value and the range, and the field is unknown.
TEST_F(DiscoveryTest, OutOfRangeIntegersWarnInsteadOfTruncating) {
  struct Case {
    const char* file;
    const char* content;
    const char* warning;
  } cases[] = {
      {"numa_node", "99999999999\n",
       "numa_node: value 99999999999 is outside -1..1023"},
      {"numa_node", "-2\n", "numa_node: value -2 is outside -1..1023"},
      {"numa_node", "4096\n", "numa_node: value 4096 is outside -1..1023"},
      {"current_link_width", "4294967312\n",
       "current_link_width: value 4294967312 is outside 0..255"},
      {"max_link_width", "-1\n", "max_link_width: value -1 is outside 0..255"},
  };
  for (const Case& c : cases) {
    FixtureTree tree;
    SysfsBuilder b(tree);
    DeviceSpec s;
    s.address = "0000:01:00.0";
    b.AddDevice(s);
    b.SetAttr("0000:01:00.0", c.file, std::string(c.content));
    auto inv = Discover(tree.host(), NoNames());
    ASSERT_TRUE(inv.ok()) << c.file;
    const PciDevice* d = inv->Find(A("0000:01:00.0"));
    ASSERT_NE(d, nullptr);
    ASSERT_EQ(d->warnings.size(), 1u) << c.file << " " << c.content;
    EXPECT_NE(d->warnings[0].find(c.warning), std::string::npos)
        << d->warnings[0];
    EXPECT_EQ(d->numa_node, std::nullopt) << c.content;
    if (std::string(c.file) == "current_link_width") {
      EXPECT_EQ(d->current_link_width, std::nullopt);
    }
  }
  // A 300-digit value is malformed (no integer type holds it), and the
  // warning shows at most 40 characters of it.
  FixtureTree tree;
  SysfsBuilder b(tree);
  DeviceSpec s;
  s.address = "0000:01:00.0";
  b.AddDevice(s);
  b.SetAttr("0000:01:00.0", "numa_node", std::string(300, '9') + "\n");
  auto inv = Discover(tree.host(), NoNames());
  ASSERT_TRUE(inv.ok());
  const PciDevice* d = inv->Find(A("0000:01:00.0"));
  ASSERT_EQ(d->warnings.size(), 1u);
  EXPECT_LT(d->warnings[0].size(), 120u) << d->warnings[0];
  EXPECT_EQ(d->numa_node, std::nullopt);
}

TEST_F(DiscoveryTest, SriovCountsOutsideSixteenBitsWarn) {
  b_.SetAttr("0000:03:00.0", "sriov_totalvfs", std::string("99999999999\n"));
  Inventory inv = Run();
  const PciDevice* pf = inv.Find(A("0000:03:00.0"));
  ASSERT_NE(pf, nullptr);
  EXPECT_EQ(pf->sriov_totalvfs, std::nullopt);
  ASSERT_FALSE(pf->warnings.empty());
  EXPECT_NE(pf->warnings[0].find("sriov_totalvfs: value 99999999999 is "
                                 "outside 0..65535"),
            std::string::npos)
      << pf->warnings[0];
}

// physfn links that loop (to themselves, or two VFs naming each other as
// PF) must neither hang nor crash discovery.
TEST_F(DiscoveryTest, PhysfnLoopsDoNotHang) {
  const std::string vf1 = "sys/bus/pci/devices/0000:03:00.1/";
  const std::string vf2 = "sys/bus/pci/devices/0000:03:00.2/";
  std::filesystem::remove(tree_.Abs(vf1 + "physfn"));
  tree_.Symlink(vf1 + "physfn", "physfn");  // ELOOP when followed
  std::filesystem::remove(tree_.Abs(vf2 + "physfn"));
  tree_.Symlink(vf2 + "physfn", "../0000:03:00.2");  // itself
  Inventory inv = Run();
  const PciDevice* d1 = inv.Find(A("0000:03:00.1"));
  ASSERT_NE(d1, nullptr);
  EXPECT_EQ(d1->physfn, std::nullopt);
  bool warned = false;
  for (const std::string& w : d1->warnings) {
    warned = warned || w.find("physfn") != std::string::npos;
  }
  EXPECT_TRUE(warned);
  const PciDevice* d2 = inv.Find(A("0000:03:00.2"));
  ASSERT_NE(d2, nullptr);
  if (d2->physfn) {
    EXPECT_NE(*d2->physfn, A("0000:03:00.2"));
  }
}

TEST_F(DiscoveryTest, MalformedValuesLeaveFieldsUnknown) {
  b_.SetAttr("0000:01:00.0", "vendor", "bogus\n");
  b_.SetAttr("0000:01:00.0", "numa_node", "x\n");
  b_.SetAttr("0000:01:00.0", "reset_method", std::nullopt);
  Inventory inv = Run();
  const PciDevice* d = inv.Find(A("0000:01:00.0"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->vendor_id, std::nullopt);
  EXPECT_EQ(d->vendor_name, "");
  EXPECT_EQ(d->numa_node, std::nullopt);
  EXPECT_FALSE(d->reset_method_known);
  EXPECT_TRUE(d->reset_methods.empty());
  EXPECT_EQ(d->product_id, 0x10d3);  // the rest still read
}

TEST_F(DiscoveryTest, UeventIdsWithFallbackToSingleFiles) {
  struct Case {
    const char* uevent;
    uint16_t vendor, product, sub_vendor;
    uint32_t class_code;
  } cases[] = {
      // uevent is read first (one file instead of five).
      {"PCI_CLASS=10802\nPCI_ID=1B36:0010\nPCI_SUBSYS_ID=1AF4:1100\n", 0x1b36,
       0x0010, 0x1af4, 0x010802},
      // Malformed or missing keys: the single files decide.
      {"PCI_CLASS=zz\nPCI_ID=8086\nPCI_SUBSYS_ID=:\n", 0x8086, 0x10d3, 0x8086,
       0x020000},
      {"", 0x8086, 0x10d3, 0x8086, 0x020000},
  };
  for (const Case& c : cases) {
    tree_.WriteFile(b_.DevicePath("0000:01:00.0") + "/uevent", c.uevent);
    Inventory inv = Run();
    const PciDevice* d = inv.Find(A("0000:01:00.0"));
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->vendor_id, c.vendor) << c.uevent;
    EXPECT_EQ(d->product_id, c.product) << c.uevent;
    EXPECT_EQ(d->subsystem_vendor_id, c.sub_vendor) << c.uevent;
    EXPECT_EQ(d->class_code, c.class_code) << c.uevent;
    EXPECT_TRUE(d->warnings.empty()) << c.uevent;
  }
}

TEST_F(DiscoveryTest, DriverOverrideAndGroupLink) {
  b_.SetAttr("0000:01:00.0", "driver_override", "vfio-pci\n");
  tree_.Symlink(b_.DevicePath("0000:03:00.1") + "/iommu_group",
                "../../../kernel/iommu_groups/notanumber");
  Inventory inv = Run();
  EXPECT_EQ(inv.Find(A("0000:01:00.0"))->driver_override, "vfio-pci");
  const PciDevice* vf = inv.Find(A("0000:03:00.1"));
  EXPECT_EQ(vf->iommu_group, std::nullopt);
  ASSERT_EQ(vf->warnings.size(), 1u);
  EXPECT_NE(vf->warnings[0].find("iommu_group"), std::string::npos);
}

TEST_F(DiscoveryTest, GroupsAreReadWithViability) {
  Inventory inv = Run();
  ASSERT_NE(inv.FindGroup(7), nullptr);
  EXPECT_EQ(inv.FindGroup(7)->members,
            std::vector<PciAddress>{A("0000:01:00.0")});
  EXPECT_FALSE(inv.FindGroup(7)->viable);
  EXPECT_EQ(inv.FindGroup(7)->blockers,
            std::vector<std::string>{"0000:01:00.0 (e1000e)"});
  EXPECT_EQ(inv.FindGroup(7)->type, "DMA");
  EXPECT_TRUE(inv.FindGroup(1)->viable);    // pcieport
  EXPECT_TRUE(inv.FindGroup(12)->viable);   // vfio-pci
  EXPECT_TRUE(inv.FindGroup(13)->viable);   // unbound
  EXPECT_FALSE(inv.FindGroup(11)->viable);  // nvme
  EXPECT_EQ(inv.groups().size(), 5u);
  EXPECT_EQ(inv.GroupOf(*inv.Find(A("0000:01:00.0")))->id, 7);
}

TEST_F(DiscoveryTest, MissingPciIdsIsNotAnError) {
  opts_.pci_ids_path = tree_.Abs("no/such/pci.ids").string();
  Inventory inv = Run();
  const PciDevice* d = inv.Find(A("0000:01:00.0"));
  EXPECT_EQ(d->vendor_name, "");
  EXPECT_EQ(d->product_name, "");
  EXPECT_EQ(d->class_name, "Ethernet controller");  // built-in table
  ASSERT_EQ(inv.warnings().size(), 1u);
  EXPECT_NE(inv.warnings()[0].find("not available"), std::string::npos);
}

TEST_F(DiscoveryTest, NoLookupSkipsTheDatabase) {
  opts_.lookup_names = false;
  opts_.pci_ids_path = tree_.Abs("no/such/pci.ids").string();
  Inventory inv = Run();
  EXPECT_TRUE(inv.warnings().empty());
  EXPECT_EQ(inv.Find(A("0000:03:00.0"))->class_name,
            "Non-Volatile memory controller");
}

TEST(DiscoveryErrors, MissingDevicesDirIsNotFound) {
  FixtureTree tree;
  auto inv = Discover(tree.host());
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.status().code(), StatusCode::kNotFound);
  EXPECT_NE(inv.status().message().find("sys/bus/pci/devices"),
            std::string::npos)
      << inv.status().message();
}

TEST(DiscoveryErrors, EmptyBusAndStrayEntries) {
  FixtureTree tree;
  SysfsBuilder b(tree);
  tree.MakeDir("sys/bus/pci/devices/garbage");
  auto inv = Discover(tree.host(), NoNames());
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->devices().empty());
  ASSERT_EQ(inv->warnings().size(), 1u);
  EXPECT_NE(inv->warnings()[0].find("garbage: not a PCI address"),
            std::string::npos);
}

TEST(DiscoveryNetdev, NetdevsNvmeAndBlockDevicesAreListed) {
  FixtureTree tree;
  SysfsBuilder b(tree);
  DeviceSpec nic;
  nic.address = "0000:01:00.0";
  nic.driver = "e1000e";
  b.AddDevice(nic);
  NetdevSpec down;
  down.up = false;
  b.AddNetdev("0000:01:00.0", "eth0", down);
  DeviceSpec nvme;
  nvme.address = "0000:02:00.0";
  nvme.class_code = 0x010802;
  nvme.driver = "nvme";
  b.AddDevice(nvme);
  BlockSpec parts;
  parts.partitions = {"nvme0n1p1"};
  b.AddBlockDevice("0000:02:00.0", "nvme0n1", parts);
  DeviceSpec sata;
  sata.address = "0000:00:1f.2";
  sata.class_code = 0x010601;
  b.AddDevice(sata);
  b.AddBlockDevice("0000:00:1f.2", "sda", {});
  auto inv = Discover(tree.host(), NoNames());
  ASSERT_TRUE(inv.ok());
  const PciDevice* n = inv->Find(A("0000:01:00.0"));
  ASSERT_EQ(n->netdevs.size(), 1u);
  EXPECT_EQ(n->netdevs[0].name, "eth0");
  EXPECT_EQ(n->netdevs[0].operstate, "down");
  EXPECT_FALSE(n->netdevs[0].admin_up);
  const PciDevice* m = inv->Find(A("0000:02:00.0"));
  EXPECT_EQ(m->nvme_controllers, std::vector<std::string>{"nvme0"});
  EXPECT_EQ(m->block_devices, std::vector<std::string>{"nvme0n1"});
  EXPECT_EQ(inv->Find(A("0000:00:1f.2"))->block_devices,
            std::vector<std::string>{"sda"});
}

// A hostile tree: attribute files, a device directory and an IOMMU group
// directory that are symlinks to absolute paths elsewhere. Discovery reads
// them inside the root (where they do not exist) and never the targets.
TEST(DiscoveryConfinement, AbsoluteLinksOutOfTheRootAreNotFollowed) {
  FixtureTree outside;
  SysfsBuilder elsewhere(outside);
  DeviceSpec evil;
  evil.address = "0000:09:00.0";
  evil.driver = "evil";
  evil.iommu_group = 3;
  evil.numa_node = 5;
  elsewhere.AddDevice(evil);
  outside.WriteFile("override", "evil-override\n");
  outside.WriteFile("numa", "5\n");

  FixtureTree tree;
  SysfsBuilder b(tree);
  DeviceSpec nic;
  nic.address = "0000:01:00.0";
  nic.iommu_group = 3;
  b.AddDevice(nic);
  const std::string dev = b.DevicePath("0000:01:00.0");
  tree.Remove(dev + "/driver_override");
  tree.Symlink(dev + "/driver_override", outside.Abs("override").string());
  tree.Remove(dev + "/numa_node");
  tree.Symlink(dev + "/numa_node", outside.Abs("numa").string());
  // A whole device directory and the group directory, elsewhere.
  tree.Symlink("sys/bus/pci/devices/0000:09:00.0",
               outside.Abs(elsewhere.DevicePath("0000:09:00.0")).string());
  tree.Remove("sys/kernel/iommu_groups/3");
  tree.Symlink("sys/kernel/iommu_groups/3",
               outside.Abs("sys/kernel/iommu_groups/3").string());

  auto inv = Discover(tree.host(), NoNames());
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  const PciDevice* d = inv->Find(A("0000:01:00.0"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->driver_override, std::nullopt);
  EXPECT_EQ(d->numa_node, std::nullopt);
  const PciDevice* far = inv->Find(A("0000:09:00.0"));
  ASSERT_NE(far, nullptr);  // listed (the name is in the tree), not read
  EXPECT_EQ(far->driver, std::nullopt);
  EXPECT_EQ(far->vendor_id, std::nullopt);
  ASSERT_TRUE(inv->FindGroup(3) != nullptr);
  for (const PciAddress& m : inv->FindGroup(3)->members) {
    EXPECT_NE(m, A("0000:09:00.0"));  // the outside group's member list
  }
}

// The same tree with in-root absolute links (RESOLVE_IN_ROOT semantics):
// they resolve below the root and are read.
TEST(DiscoveryConfinement, AbsoluteLinksResolveInsideTheRoot) {
  FixtureTree tree;
  SysfsBuilder b(tree);
  DeviceSpec nic;
  nic.address = "0000:01:00.0";
  nic.iommu_group = 3;
  b.AddDevice(nic);
  const std::string dev = b.DevicePath("0000:01:00.0");
  tree.WriteFile("elsewhere/numa", "1\n");
  tree.Remove(dev + "/numa_node");
  tree.Symlink(dev + "/numa_node", "/elsewhere/numa");
  tree.Remove("sys/bus/pci/devices/0000:01:00.0");
  tree.Symlink("sys/bus/pci/devices/0000:01:00.0", "/" + dev);
  auto inv = Discover(tree.host(), NoNames());
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  const PciDevice* d = inv->Find(A("0000:01:00.0"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->numa_node, 1);
  EXPECT_TRUE(d->vendor_id.has_value());
}

// A sysfs attribute is at most a page; a huge one is not read into memory.
TEST(DiscoveryConfinement, OversizedAttributeIsAWarning) {
  FixtureTree tree;
  SysfsBuilder b(tree);
  DeviceSpec nic;
  nic.address = "0000:01:00.0";
  b.AddDevice(nic);
  const std::string dev = b.DevicePath("0000:01:00.0");
  tree.WriteFile(dev + "/local_cpulist", std::string(100000, '1'));
  auto inv = Discover(tree.host(), NoNames());
  ASSERT_TRUE(inv.ok());
  const PciDevice* d = inv->Find(A("0000:01:00.0"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->local_cpulist, "");
  bool warned = false;
  for (const std::string& w : d->warnings) {
    warned |=
        w.find("local_cpulist: larger than 65536 bytes") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace pcipass
