// Assessment: every reason a device cannot be given to a VM, with its fix.
#include "select/assess.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

using ::testing::HasSubstr;

PciAddress Addr(const char* s) { return PciAddress::Parse(s).value(); }

PciDevice Dev(const char* addr, std::optional<int> group,
              const char* driver = "e1000e") {
  PciDevice d;
  d.address = Addr(addr);
  d.vendor_id = 0x8086;
  d.product_id = 0x10d3;
  d.class_code = 0x020000;
  d.iommu_group = group;
  if (driver) d.driver = driver;
  d.reset_methods = {"flr"};
  d.reset_method_known = true;
  return d;
}

IommuGroup Group(int id, const std::vector<const char*>& members, bool viable,
                 std::vector<std::string> blockers = {}) {
  IommuGroup g;
  g.id = id;
  for (const char* m : members) g.members.push_back(Addr(m));
  g.viable = viable;
  g.blockers = std::move(blockers);
  return g;
}

std::vector<DeviceSpec> AllowAll() {
  testing::FixtureTree tree;
  std::vector<Status> errors;
  return ParseDeviceSpecValue("{}", "t.conf:1", tree.host(), {}, &errors);
}

const Reason* Find(const Assessment& a, const std::string& code) {
  for (const Reason& r : a.reasons) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

std::string Codes(const Assessment& a) {
  std::string out;
  for (const Reason& r : a.reasons) out += r.code + " ";
  return out;
}

TEST(AssessTest, CleanDeviceIsAssignable) {
  Inventory inv({Dev("0000:01:00.0", 1, "vfio-pci")},
                {{1, Group(1, {"0000:01:00.0"}, true)}}, {});
  Assessment a = Assess(inv, inv.devices()[0], AllowAll(), {true, {}});
  EXPECT_TRUE(a.allowed);
  EXPECT_TRUE(a.assignable) << Codes(a);
  EXPECT_TRUE(a.reasons.empty()) << Codes(a);
  EXPECT_EQ(a.spec_index, 0u);
  EXPECT_EQ(a.spec_where, "t.conf:1");
}

TEST(AssessTest, EveryReason) {
  struct Case {
    const char* name;
    std::function<void(PciDevice&, IommuGroup&, std::vector<PciDevice>&)> setup;
    bool have_config;
    const char* code;
    const char* severity;
    const char* fix;
  } cases[] = {
      {"no config", [](auto&, auto&, auto&) {}, false, "no_config", "error",
       "--config"},
      {"bridge",
       [](PciDevice& d, auto&, auto&) {
         d.class_code = 0x060400;
         d.driver = "pcieport";
       },
       true, "bridge", "error", "endpoint"},
      {"no group", [](PciDevice& d, auto&, auto&) { d.iommu_group.reset(); },
       true, "no_iommu_group", "error", "intel_iommu=on"},
      {"noiommu", [](auto&, IommuGroup& g, auto&) { g.noiommu = true; }, true,
       "noiommu_group", "error", "enable_unsafe_noiommu_mode"},
      {"rmrr", [](auto&, IommuGroup& g, auto&) { g.has_direct_region = true; },
       true, "rmrr", "error", "another slot"},
      {"host use",
       [](PciDevice& d, auto&, auto&) {
         d.host_use.push_back(
             {"netdev", "eth0 is up with address 10.0.0.5/24"});
       },
       true, "host_uses_device", "error", "--force"},
      {"member host use",
       [](auto&, IommuGroup& g, std::vector<PciDevice>& others) {
         PciDevice m = Dev("0000:01:00.1", 1);
         m.host_use.push_back({"storage", "nvme0n1p1 is mounted on /"});
         others.push_back(m);
         g.members.push_back(m.address);
       },
       true, "group_member_host_use", "error", "nvme0n1p1 is mounted on /"},
      {"not viable",
       [](auto&, IommuGroup& g, std::vector<PciDevice>& others) {
         others.push_back(Dev("0000:01:00.1", 1));
         g.members.push_back(Addr("0000:01:00.1"));
         g.viable = false;
         g.blockers = {"0000:01:00.1 (e1000e)"};
       },
       true, "group_not_viable", "warning",
       "pcipass detach --group 0000:01:00.0"},
      {"shared",
       [](auto&, IommuGroup& g, std::vector<PciDevice>& others) {
         others.push_back(Dev("0000:01:00.1", 1, "vfio-pci"));
         g.members.push_back(Addr("0000:01:00.1"));
       },
       true, "group_shared", "warning", "pcipass detach --group"},
      {"pf with vfs",
       [](PciDevice& d, auto&, auto&) {
         d.type = DeviceType::kPf;
         d.sriov_totalvfs = 8;
         d.sriov_numvfs = 4;
       },
       true, "pf_has_vfs", "error", "--numvfs 0"},
      {"no reset", [](PciDevice& d, auto&, auto&) { d.reset_methods.clear(); },
       true, "no_reset_method", "warning", "FLR"},
      {"not allowed", [](PciDevice& d, auto&, auto&) { d.vendor_id = 0x15b3; },
       true, "not_allowed", "error", "pcipass explain 0000:01:00.0"},
  };
  for (const Case& c : cases) {
    PciDevice d = Dev("0000:01:00.0", 1);
    IommuGroup g = Group(1, {"0000:01:00.0"}, true);
    std::vector<PciDevice> others;
    c.setup(d, g, others);
    std::vector<PciDevice> devices = {d};
    for (const PciDevice& o : others) devices.push_back(o);
    std::sort(g.members.begin(), g.members.end());
    Inventory inv(devices, {{1, g}}, {});
    testing::FixtureTree tree;
    std::vector<Status> errors;
    auto specs = ParseDeviceSpecValue(R"({"vendor_id":"8086"})", "t.conf:1",
                                      tree.host(), {}, &errors);
    Assessment a =
        Assess(inv, *inv.Find(d.address), specs, {c.have_config, {}});
    const Reason* r = Find(a, c.code);
    ASSERT_NE(r, nullptr) << c.name << ": got " << Codes(a);
    EXPECT_EQ(r->severity, c.severity) << c.name;
    EXPECT_THAT(r->fix, HasSubstr(c.fix)) << c.name;
    EXPECT_FALSE(r->message.empty()) << c.name;
    EXPECT_EQ(a.assignable, std::string(c.severity) == "warning" &&
                                c.have_config && a.allowed)
        << c.name << ": " << Codes(a);
  }
}

TEST(AssessTest, VfOfVfioPfWarns) {
  PciDevice pf = Dev("0000:03:00.0", 3, "vfio-pci");
  pf.type = DeviceType::kPf;
  PciDevice vf = Dev("0000:03:00.1", 4, "iavf");
  vf.type = DeviceType::kVf;
  vf.physfn = pf.address;
  Inventory inv(
      {pf, vf},
      {{3, Group(3, {"0000:03:00.0"}, true)},
       {4, Group(4, {"0000:03:00.1"}, false, {"0000:03:00.1 (iavf)"})}},
      {});
  Assessment a = Assess(inv, *inv.Find(vf.address), AllowAll(), {true, {}});
  const Reason* r = Find(a, "vf_of_vfio_pf");
  ASSERT_NE(r, nullptr) << Codes(a);
  EXPECT_THAT(r->fix, HasSubstr("pcipass reattach 0000:03:00.0"));
  EXPECT_TRUE(a.assignable);
}

TEST(AssessTest, BridgeMembersDoNotMakeAGroupShared) {
  PciDevice bridge = Dev("0000:00:1c.0", 1, "pcieport");
  bridge.class_code = 0x060400;
  PciDevice d = Dev("0000:01:00.0", 1, "vfio-pci");
  Inventory inv({bridge, d},
                {{1, Group(1, {"0000:00:1c.0", "0000:01:00.0"}, true)}}, {});
  Assessment a = Assess(inv, *inv.Find(d.address), AllowAll(), {true, {}});
  EXPECT_TRUE(a.reasons.empty()) << Codes(a);
}

// A group-mate that no device_spec selects makes the device unassignable
// (the whole group goes to one VM), as claims' fit refuses it; a group-mate
// that is allowed too is only the group_shared warning.
TEST(AssessTest, GroupMemberNotAllowed) {
  testing::FixtureTree tree;
  std::vector<Status> errors;
  std::vector<DeviceSpec> only_gpu = ParseDeviceSpecValue(
      R"({"address": "0000:03:00.0"})", "t.conf:2", tree.host(), {}, &errors);
  ASSERT_TRUE(errors.empty());
  PciDevice audio = Dev("0000:03:00.1", 5, "snd_hda_intel");
  audio.product_id = 0x1aef;
  Inventory inv(
      {Dev("0000:03:00.0", 5, "nvidia"), audio},
      {{5, Group(5, {"0000:03:00.0", "0000:03:00.1"}, false,
                 {"0000:03:00.0 (nvidia)", "0000:03:00.1 (snd_hda_intel)"})}},
      {});
  Assessment a = Assess(inv, inv.devices()[0], only_gpu, {true, {}});
  EXPECT_TRUE(a.allowed);
  EXPECT_FALSE(a.assignable) << Codes(a);
  const Reason* r = Find(a, "group_member_not_allowed");
  ASSERT_NE(r, nullptr) << Codes(a);
  EXPECT_EQ(r->severity, "error");
  EXPECT_THAT(r->message, HasSubstr("0000:03:00.1 (snd_hda_intel)"));
  EXPECT_THAT(r->fix, HasSubstr(R"({"address": "0000:03:00.1"})"));

  Assessment both = Assess(inv, inv.devices()[0], AllowAll(), {true, {}});
  EXPECT_EQ(Find(both, "group_member_not_allowed"), nullptr) << Codes(both);
  EXPECT_TRUE(both.assignable) << Codes(both);
  // Without a config the no_config error already says it all.
  Assessment none = Assess(inv, inv.devices()[0], {}, {false, {}});
  EXPECT_EQ(Find(none, "group_member_not_allowed"), nullptr);
}

}  // namespace
}  // namespace pcipass
