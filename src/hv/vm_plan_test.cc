#include "hv/vm_plan.h"

#include <gtest/gtest.h>

#include <vector>

namespace pcipass::hv {
namespace {

PciAddress Addr(const char* text) { return *PciAddress::Parse(text); }

ClaimedDevice Claimed(
    const char* addr, DeviceType type = DeviceType::kPci,
    std::map<std::string, std::optional<std::string>> tags = {}) {
  ClaimedDevice c;
  c.address = Addr(addr);
  c.dev_type = type;
  c.pci_alias = "a1";
  c.tags = std::move(tags);
  c.state = "allocated";
  return c;
}

TEST(PlanAssignmentsTest, IdsManagedAndInterfaceFromTags) {
  std::vector<ClaimedDevice> v = {
      Claimed("0000:0a:00.2", DeviceType::kVf, {{"physical_network", "net1"}}),
      Claimed("0000:81:00.1", DeviceType::kPci, {{"managed", "No"}}),
      Claimed("0000:0a:00.1", DeviceType::kVf, {{"managed", "true"}}),
      Claimed("0000:0b:00.0", DeviceType::kPf, {{"physical_network", "n"}}),
  };
  Result<std::vector<HostdevAssignment>> r = PlanAssignments("vm", v, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  // Sorted by host address, ids follow that order.
  EXPECT_EQ((*r)[0].host.ToString(), "0000:0a:00.1");
  EXPECT_EQ((*r)[0].id, "hostdev0");
  EXPECT_FALSE((*r)[0].as_interface) << "VF without physical_network";
  EXPECT_EQ((*r)[1].host.ToString(), "0000:0a:00.2");
  EXPECT_TRUE((*r)[1].as_interface) << "VF with physical_network";
  EXPECT_FALSE((*r)[2].as_interface) << "a PF never becomes an interface";
  EXPECT_EQ((*r)[3].host.ToString(), "0000:81:00.1");
  EXPECT_FALSE((*r)[3].managed) << "managed tag 'No'";
  EXPECT_TRUE((*r)[0].managed) << "managed tag 'true'";
  EXPECT_FALSE((*r)[2].managed)
      << "no tag: pcipass claim detached it, libvirt must not give it back";
  EXPECT_EQ((*r)[3].pci_alias, "a1");
}

TEST(PlanAssignmentsTest, ManagedTagValues) {
  struct Case {
    std::optional<std::string> value;
    bool says_yes;
  } cases[] = {{std::nullopt, false}, {"yes", true}, {"true", true},
               {"On", true},          {"1", true},   {"no", false},
               {"FALSE", false},      {"0", false},  {"off", false}};
  for (const Case& c : cases) {
    EXPECT_EQ(ManagedTagSaysYes(c.value), c.says_yes) << c.value.value_or("-");
  }
}

TEST(PlanAssignmentsTest, ManagedOverride) {
  std::vector<ClaimedDevice> v = {
      Claimed("0000:81:00.0", DeviceType::kPci, {{"managed", "no"}}),
      Claimed("0000:82:00.0")};
  for (bool want : {true, false}) {
    Result<std::vector<HostdevAssignment>> r =
        PlanAssignments("vm", v, {.managed = want});
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ((*r)[0].managed, want);
    EXPECT_EQ((*r)[1].managed, want);
  }
}

TEST(PlanAssignmentsTest, FlagsApply) {
  std::vector<ClaimedDevice> v = {Claimed("0000:81:00.0"),
                                  Claimed("0000:0a:00.1", DeviceType::kVf),
                                  Claimed("0000:0a:00.2", DeviceType::kVf)};
  VmConfigFlags f;
  f.pins = {"0000:81:00.0=00:05.0", "0000:0a:00.1=0000:00:06.0"};
  f.macs = {"0000:0a:00.1=52:54:00:AA:00:01"};
  f.vlans = {"0000:0a:00.1=100"};
  f.interfaces = {"0000:0a:00.2"};
  Result<std::vector<HostdevAssignment>> r = PlanAssignments("vm", v, f);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].host.ToString(), "0000:0a:00.1");
  EXPECT_TRUE((*r)[0].as_interface);
  EXPECT_EQ((*r)[0].mac, "52:54:00:aa:00:01");
  EXPECT_EQ((*r)[0].vlan, 100);
  EXPECT_EQ((*r)[0].guest->ToString(), "0000:00:06.0");
  EXPECT_TRUE((*r)[1].as_interface);
  EXPECT_FALSE((*r)[1].mac.has_value());
  EXPECT_EQ((*r)[2].guest->ToString(), "0000:00:05.0");
  EXPECT_FALSE((*r)[2].as_interface);
}

TEST(PlanAssignmentsTest, Errors) {
  std::vector<ClaimedDevice> v = {Claimed("0000:81:00.0"),
                                  Claimed("0000:0a:00.1", DeviceType::kVf)};
  struct Case {
    const char* name;
    VmConfigFlags flags;
    const char* want;
  };
  std::vector<Case> cases = {
      {"pin no =", {.pins = {"0000:81:00.0"}}, "is not HOST=VALUE"},
      {"pin empty value", {.pins = {"0000:81:00.0="}}, "is not HOST=VALUE"},
      {"pin bad host", {.pins = {"81:00=00:05.0"}}, "not a host PCI address"},
      {"pin not held",
       {.pins = {"0000:82:00.0=00:05.0"}},
       "instance vm does not hold 0000:82:00.0; its devices are "
       "0000:0a:00.1, 0000:81:00.0"},
      {"pin bad guest",
       {.pins = {"0000:81:00.0=00:00.0"}},
       "--pin '0000:81:00.0=00:00.0': guest PCI address '00:00.0' is the "
       "guest's host bridge"},
      {"pin twice",
       {.pins = {"0000:81:00.0=00:05.0", "0000:81:00.0=00:06.0"}},
       "--pin given twice for 0000:81:00.0"},
      {"same guest slot",
       {.pins = {"0000:81:00.0=00:05.0", "0000:0a:00.1=00:05.0"}},
       "already pinned"},
      {"bad mac",
       {.macs = {"0000:0a:00.1=52:54:00:12:34"}},
       "--mac '0000:0a:00.1=52:54:00:12:34': MAC address"},
      {"bad vlan", {.vlans = {"0000:0a:00.1=5000"}}, "1 to 4094"},
      {"mac on PCI",
       {.macs = {"0000:81:00.0=52:54:00:12:34:56"}},
       "device 0000:81:00.0: is type-PCI; only SR-IOV VFs"},
      {"interface on PCI", {.interfaces = {"0000:81:00.0"}}, "type-PCI"},
      {"interface bad host", {.interfaces = {"x"}}, "not a host PCI address"},
  };
  for (const Case& c : cases) {
    Result<std::vector<HostdevAssignment>> r =
        PlanAssignments("vm", v, c.flags);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(r.status().message().find(c.want), std::string::npos)
        << c.name << ": " << r.status().message();
  }
}

TEST(PlanAssignmentsTest, NoDevicesAndRemoved) {
  Result<std::vector<HostdevAssignment>> none = PlanAssignments("vm", {}, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("holds no devices"),
            std::string::npos);

  ClaimedDevice gone = Claimed("0000:81:00.0");
  gone.state = "removed";
  Result<std::vector<HostdevAssignment>> r =
      PlanAssignments("vm", {&gone, 1}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("0000:81:00.0"), std::string::npos);
}

}  // namespace
}  // namespace pcipass::hv
