#include "binding/sriov.h"

#include <cerrno>
#include <filesystem>

#include "binding/fake_kernel.h"
#include "binding/handoff.h"
#include "core/sysfs.h"
#include "gtest/gtest.h"
#include "testing/fixture_tree.h"
#include "testing/sysfs_builder.h"

namespace pcipass {
namespace {

namespace fs = std::filesystem;
using testing::DeviceSpec;
using testing::FakeKernel;

PciAddress Addr(const std::string& s) { return *PciAddress::Parse(s); }

class SriovTest : public ::testing::Test {
 protected:
  SriovTest() : b_(tree_) {
    b_.AddBridge("0000:00:03.0", std::nullopt, 3);
    DeviceSpec nvme;
    nvme.address = "0000:03:00.0";
    nvme.vendor = 0x1b36;
    nvme.device = 0x0010;
    nvme.class_code = 0x010802;
    nvme.driver = "nvme";
    nvme.iommu_group = 9;
    nvme.parent = "0000:00:03.0";
    testing::SriovSpec s;
    s.totalvfs = 4;
    s.vf_device = 0x0010;
    b_.AddSriovPf(nvme, s);
    opts_.state_dir = tree_.Abs("state").string();
  }
  std::string Attr(const std::string& f) {
    return sysfs::ReadOptional(tree_.host().PciDeviceDir(pf_) / f)
        .value_or("?");
  }

  testing::FixtureTree tree_;
  testing::SysfsBuilder b_;
  SriovOptions opts_;
  PciAddress pf_ = Addr("0000:03:00.0");
};

TEST_F(SriovTest, CreateChangeThroughZeroAndRemove) {
  FakeKernel k(tree_.host());
  opts_.numvfs = 2;
  opts_.autoprobe = false;
  auto r = SetNumVfs(tree_.host(), k, pf_, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Attr("sriov_numvfs"), "2");
  EXPECT_EQ(Attr("sriov_drivers_autoprobe"), "0");
  ASSERT_EQ(r->vfs.size(), 2u);
  EXPECT_EQ(r->vfs[0].address, Addr("0000:03:00.1"));
  EXPECT_EQ(r->vfs[1].address, Addr("0000:03:00.2"));
  EXPECT_TRUE(r->vfs[0].iommu_group.has_value());
  EXPECT_NE(r->vfs[0].iommu_group, r->vfs[1].iommu_group);
  EXPECT_EQ(r->vfs[0].driver, std::nullopt) << "autoprobe off";
  // autoprobe first, then the count.
  ASSERT_EQ(k.log().size(), 2u);
  EXPECT_NE(k.log()[0].find("sriov_drivers_autoprobe=0"), std::string::npos);
  EXPECT_NE(k.log()[1].find("sriov_numvfs=2"), std::string::npos);

  opts_.numvfs = 3;
  opts_.autoprobe.reset();
  auto r3 = SetNumVfs(tree_.host(), k, pf_, opts_);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  ASSERT_EQ(r3->writes.size(), 2u) << "2 -> 3 goes through 0";
  EXPECT_EQ(r3->writes[0].value, "0");
  EXPECT_EQ(r3->writes[1].value, "3");
  EXPECT_EQ(Attr("sriov_numvfs"), "3");
  EXPECT_EQ(r3->vfs.size(), 3u);

  auto same = SetNumVfs(tree_.host(), k, pf_, opts_);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->changed);
  EXPECT_TRUE(same->writes.empty());

  opts_.numvfs = 0;
  auto zero = SetNumVfs(tree_.host(), k, pf_, opts_);
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(Attr("sriov_numvfs"), "0");
  EXPECT_TRUE(zero->vfs.empty());
  EXPECT_FALSE(fs::exists(tree_.host().PciDeviceDir(Addr("0000:03:00.1"))));
  EXPECT_FALSE(fs::exists(fs::path(opts_.state_dir) / "journal.json"));
}

TEST_F(SriovTest, Refusals) {
  FakeKernel k(tree_.host());
  opts_.numvfs = 2;
  ASSERT_TRUE(SetNumVfs(tree_.host(), k, pf_, opts_).ok());
  // A VF on vfio-pci blocks a count change.
  HandOffOptions ho;
  ho.state_dir = opts_.state_dir;
  ASSERT_TRUE(Detach(tree_.host(), k, {Addr("0000:03:00.2")}, ho).ok());
  struct Case {
    std::string name;
    int numvfs;
    std::function<std::optional<std::string>(const PciAddress&)> claimed;
    StatusCode code;
    std::string has;
  };
  std::vector<Case> cases = {
      {"VF on vfio-pci", 0, nullptr, StatusCode::kFailedPrecondition,
       "0000:03:00.2 (on vfio-pci)"},
      {"above totalvfs", 5, nullptr, StatusCode::kInvalidArgument,
       "at most 4 VFs"},
      {"negative", -1, nullptr, StatusCode::kInvalidArgument, "0 or more"},
  };
  for (const Case& c : cases) {
    SriovOptions o = opts_;
    o.numvfs = c.numvfs;
    o.claimed_by = c.claimed;
    const int before = k.writes();
    auto r = SetNumVfs(tree_.host(), k, pf_, o);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.has), std::string::npos)
        << c.name << ": " << r.status().message();
    EXPECT_EQ(k.writes(), before) << c.name;
  }
  ASSERT_TRUE(Reattach(tree_.host(), k, {Addr("0000:03:00.2")}, ho).ok());
  // Claimed (the claims layer's predicate).
  SriovOptions o = opts_;
  o.numvfs = 0;
  o.claimed_by = [](const PciAddress& a) -> std::optional<std::string> {
    if (a.function == 1) return "instance vm-7";
    return std::nullopt;
  };
  auto r = SetNumVfs(tree_.host(), k, pf_, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("0000:03:00.1 (claimed by instance "
                                      "vm-7)"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("pcipass release --instance"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find(
                "0000:03:00.1", r.status().message().find("0000:03:00.1") + 1),
            std::string::npos)
      << "each VF named once: " << r.status().message();
}

TEST_F(SriovTest, KernelErrorsAreExplained) {
  {
    FakeKernel k(tree_.host());
    b_.SetDriver("0000:03:00.0", std::nullopt);
    opts_.numvfs = 1;
    auto r = SetNumVfs(tree_.host(), k, pf_, opts_);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("has no driver"), std::string::npos)
        << r.status().message();
  }
  {
    // ERANGE from the kernel (e.g. totalvfs lowered underneath us).
    b_.SetDriver("0000:03:00.0", "nvme");
    FakeKernel k(tree_.host());
    k.FailPathSuffix("sriov_numvfs", ERANGE);
    opts_.numvfs = 2;
    auto r = SetNumVfs(tree_.host(), k, pf_, opts_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("at most 4"), std::string::npos)
        << r.status().message();
  }
}

TEST_F(SriovTest, PfOnVfioPciEnablesSriovParameter) {
  b_.SetDriver("0000:03:00.0", "vfio-pci");
  FakeKernel k(tree_.host());
  ASSERT_TRUE(k.LoadModule("vfio-pci").ok());
  opts_.numvfs = 1;
  auto r = SetNumVfs(tree_.host(), k, pf_, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(sysfs::ReadOptional(tree_.host().ModuleDir("vfio_pci") /
                                "parameters" / "enable_sriov"),
            "Y");
  ASSERT_EQ(r->vfs.size(), 1u);
  EXPECT_EQ(r->vfs[0].driver, "vfio-pci") << "captured by vfio-pci";
  // Those VFs are on vfio-pci because the PF is: removing them is allowed
  // (nobody holds their groups).
  opts_.numvfs = 0;
  auto zero = SetNumVfs(tree_.host(), k, pf_, opts_);
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(Attr("sriov_numvfs"), "0");
}

TEST_F(SriovTest, DryRunWritesNothing) {
  FakeKernel k(tree_.host());
  opts_.numvfs = 2;
  opts_.autoprobe = false;
  opts_.dry_run = true;
  auto r = SetNumVfs(tree_.host(), k, pf_, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(k.writes(), 0);
  EXPECT_EQ(r->writes.size(), 2u);
  EXPECT_EQ(Attr("sriov_numvfs"), "0");
}

}  // namespace
}  // namespace pcipass

namespace pcipass {
namespace {

// The bench's case: four VFs (autoprobe off) detached and reattached in
// one call each.
TEST_F(SriovTest, DetachAndReattachFourVfs) {
  FakeKernel k(tree_.host());
  opts_.numvfs = 4;
  opts_.autoprobe = false;
  auto r = SetNumVfs(tree_.host(), k, pf_, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<PciAddress> vfs;
  for (const VfInfo& vf : r->vfs) vfs.push_back(vf.address);
  ASSERT_EQ(vfs.size(), 4u);
  HandOffOptions ho;
  ho.state_dir = opts_.state_dir;
  auto d = Detach(tree_.host(), k, vfs, ho);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->changed, vfs);
  auto back = Reattach(tree_.host(), k, vfs, ho);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->changed, vfs);
}

}  // namespace
}  // namespace pcipass

namespace pcipass {
namespace {

TEST_F(SriovTest, DetachFourBuilderVfs) {
  std::vector<PciAddress> vfs;
  for (int i = 0; i < 4; ++i) {
    DeviceSpec vf;
    vf.address = "0000:03:00." + std::to_string(i + 1);
    vf.vendor = 0x1b36;
    vf.device = 0x0010;
    vf.class_code = 0x010802;
    vf.iommu_group = 12 + i;
    b_.AddVf("0000:03:00.0", i, vf);
    vfs.push_back(Addr(vf.address));
  }
  b_.SetAttr("0000:03:00.0", "sriov_drivers_autoprobe", "0\n");
  FakeKernel k(tree_.host());
  HandOffOptions ho;
  ho.state_dir = opts_.state_dir;
  auto d = Detach(tree_.host(), k, vfs, ho);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto back = Reattach(tree_.host(), k, vfs, ho);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
}

}  // namespace
}  // namespace pcipass
