#include "binding/desired_state.h"

#include "binding/fake_kernel.h"
#include "core/sysfs.h"
#include "gtest/gtest.h"
#include "testing/fixture_tree.h"
#include "testing/sysfs_builder.h"

namespace pcipass {
namespace {

using testing::DeviceSpec;
using testing::FakeKernel;

PciAddress Addr(const std::string& s) { return *PciAddress::Parse(s); }

Result<HostDesiredState> Parse(const std::string& text) {
  auto ini = IniFile::Parse(text, "pcipass.conf");
  if (!ini.ok()) return ini.status();
  return ParseHostSection(*ini);
}

TEST(DesiredStateTest, ParsesSelectorsAndCounts) {
  auto s = Parse(
      "[pci]\ndevice_spec = {}\n[host]\n"
      "vfio = 0000:06:00.0\n"
      "vfio = 03:00.[1-4]\n"
      "vfio = {\"vendor_id\": \"8086\", \"product_id\": \"*\"}\n"
      "sriov_numvfs = 0000:03:00.0=2\n"
      "sriov_autoprobe = 0000:03:00.0=off\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->vfio.size(), 3u);
  ASSERT_EQ(s->sriov.size(), 1u);
  EXPECT_EQ(s->sriov[0].numvfs, 2);
  EXPECT_EQ(s->sriov[0].autoprobe, false);
  PciDevice d;
  d.address = Addr("0000:03:00.2");
  d.vendor_id = 0x1b36;
  EXPECT_FALSE(s->vfio[0].Matches(d));
  EXPECT_TRUE(s->vfio[1].Matches(d)) << "no domain means 0000";
  EXPECT_FALSE(s->vfio[2].Matches(d));
  d.vendor_id = 0x8086;
  d.product_id = 0x1234;
  EXPECT_TRUE(s->vfio[2].Matches(d)) << "product *";
  EXPECT_TRUE(Parse("[pci]\n")->empty());
}

// Every bad line is reported (config check lists them all); the valid
// lines still parse. apply's single Result says how many there are.
TEST(DesiredStateTest, EveryErrorIsCollected) {
  auto ini = IniFile::Parse(
      "[host]\n"
      "vfio = eth0\n"
      "vfio = 0000:06:00.0\n"
      "sriov_numvfs = 0000:03:00.0=lots\n"
      "colour = blue\n",
      "pcipass.conf");
  ASSERT_TRUE(ini.ok());
  std::vector<Status> errors;
  HostDesiredState st = ParseHostSection(*ini, &errors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].message().find("pcipass.conf:2"), std::string::npos);
  EXPECT_NE(errors[1].message().find("pcipass.conf:4"), std::string::npos);
  EXPECT_NE(errors[2].message().find("pcipass.conf:5"), std::string::npos);
  ASSERT_EQ(st.vfio.size(), 1u) << "the valid line is kept";
  auto r = ParseHostSection(*ini);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("3 errors in [host]"), std::string::npos)
      << r.status().message();
}

TEST(DesiredStateTest, BadInputNamesLineKeyValueAndAccepted) {
  struct Case {
    std::string line;
    std::string has;
  };
  std::vector<Case> cases = {
      {"bogus = 1", "unknown key \"bogus\""},
      {"vfio = eth0", "expected an address or glob"},
      {"vfio = {\"vendor_id\": \"80866\"}", "not 1-4 hex digits"},
      {"vfio = {\"vendor\": \"8086\"}", "unknown key \"vendor\""},
      {"vfio = {}", "expected a JSON object"},
      {"vfio = {\"vendor_id\": 8086}", "must be a string"},
      {"vfio = {bad json", "not valid JSON"},
      {"sriov_numvfs = 0000:03:00.0", "PF_ADDRESS=COUNT"},
      {"sriov_numvfs = 0000:03:00.0=-1", "PF_ADDRESS=COUNT"},
      {"sriov_numvfs = 03:00=2", "PF_ADDRESS=COUNT"},
      {"sriov_autoprobe = 0000:03:00.0=maybe", "on|off"},
      {"sriov_autoprobe = 0000:03:00.0=off", "needs a sriov_numvfs"},
  };
  for (const Case& c : cases) {
    auto s = Parse("[host]\n" + c.line + "\n");
    ASSERT_FALSE(s.ok()) << c.line;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.line;
    EXPECT_NE(s.status().message().find(c.has), std::string::npos)
        << c.line << ": " << s.status().message();
    EXPECT_NE(s.status().message().find("pcipass.conf:2"), std::string::npos)
        << c.line << ": " << s.status().message();
  }
  auto twice = Parse(
      "[host]\nsriov_numvfs = 0000:03:00.0=1\n"
      "sriov_numvfs = 0000:03:00.0=2\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("listed twice"), std::string::npos);
}

TEST(DesiredStateTest, ApplyIsIdempotent) {
  testing::FixtureTree tree;
  testing::SysfsBuilder b(tree);
  b.AddBridge("0000:00:01.0", std::nullopt, 1);
  b.AddBridge("0000:00:03.0", std::nullopt, 3);
  DeviceSpec nic;
  nic.address = "0000:01:00.0";
  nic.driver = "e1000e";
  nic.iommu_group = 7;
  nic.parent = "0000:00:01.0";
  b.AddDevice(nic);
  DeviceSpec nvme;
  nvme.address = "0000:03:00.0";
  nvme.vendor = 0x1b36;
  nvme.device = 0x0010;
  nvme.class_code = 0x010802;
  nvme.driver = "nvme";
  nvme.iommu_group = 9;
  nvme.parent = "0000:00:03.0";
  testing::SriovSpec sr;
  sr.totalvfs = 4;
  sr.vf_device = 0x0010;
  b.AddSriovPf(nvme, sr);
  FakeKernel k(tree.host());
  auto state = Parse(
      "[host]\nvfio = {\"vendor_id\": \"8086\", \"product_id\": \"10d3\"}\n"
      "vfio = 0000:03:00.1\n"
      "sriov_numvfs = 0000:03:00.0=2\nsriov_autoprobe = 0000:03:00.0=off\n");
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ApplyOptions o;
  o.state_dir = tree.Abs("state").string();

  o.dry_run = true;
  auto plan = Apply(tree.host(), k, *state, o);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(k.writes(), 0);
  EXPECT_FALSE(plan->nothing_to_do);
  ASSERT_EQ(plan->sriov.size(), 1u);
  EXPECT_EQ(plan->detach.changed,
            std::vector<PciAddress>{Addr("0000:01:00.0")});
  ASSERT_FALSE(plan->notes.empty());
  EXPECT_NE(plan->notes[0].find("the dry run creates no VFs"),
            std::string::npos)
      << plan->notes[0];

  o.dry_run = false;
  auto first = Apply(tree.host(), k, *state, o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->nothing_to_do);
  EXPECT_EQ(
      first->detach.changed,
      (std::vector<PciAddress>{Addr("0000:01:00.0"), Addr("0000:03:00.1")}));
  auto drv = [&](const char* a) {
    return sysfs::LinkBasename(tree.host().PciDeviceDir(Addr(a)) / "driver");
  };
  EXPECT_EQ(drv("0000:01:00.0"), "vfio-pci");
  EXPECT_EQ(drv("0000:03:00.1"), "vfio-pci");
  EXPECT_EQ(drv("0000:03:00.2"), std::nullopt);

  const int writes = k.writes();
  auto second = Apply(tree.host(), k, *state, o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->nothing_to_do);
  EXPECT_EQ(k.writes(), writes) << "second run writes nothing";
}

}  // namespace
}  // namespace pcipass
