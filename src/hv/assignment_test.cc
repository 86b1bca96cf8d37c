#include "hv/assignment.h"

#include <gtest/gtest.h>

#include <vector>

namespace pcipass::hv {
namespace {

PciAddress Addr(const char* text) { return *PciAddress::Parse(text); }

HostdevAssignment Dev(const char* host, const char* id,
                      DeviceType type = DeviceType::kPci) {
  HostdevAssignment d;
  d.host = Addr(host);
  d.id = id;
  d.dev_type = type;
  return d;
}

TEST(ParseMacTest, AcceptsAndNormalises) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"52:54:00:12:34:56", "52:54:00:12:34:56"},
      {"52:54:00:AB:cD:EF", "52:54:00:ab:cd:ef"},
      {"fa:16:3e:00:00:01", "fa:16:3e:00:00:01"},
  };
  for (const Case& c : cases) {
    Result<std::string> r = ParseMac(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().message();
    EXPECT_EQ(*r, c.want) << c.in;
  }
}

TEST(ParseMacTest, RejectsWithReason) {
  struct Case {
    const char* in;
    const char* why;
  } cases[] = {
      {"", "wrong length"},
      {"52:54:00:12:34", "wrong length"},
      {"52:54:00:12:34:56:78", "wrong length"},
      {"52-54-00-12-34-56", "':' separated"},
      {"52:54:00:12:34:5g", "not hex"},
      {"5254.0012.3456.78", "':' separated"},
      {"01:00:5e:00:00:01", "multicast"},
      {"ff:ff:ff:ff:ff:ff", "multicast"},
      {"00:00:00:00:00:00", "all zeros"},
  };
  for (const Case& c : cases) {
    Result<std::string> r = ParseMac(c.in);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.in;
    EXPECT_NE(r.status().message().find(c.why), std::string::npos)
        << c.in << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(std::string("'") + c.in + "'"),
              std::string::npos)
        << "message names the value: " << r.status().message();
  }
}

TEST(ParseVlanTest, Range) {
  struct Case {
    const char* in;
    bool ok;
    int want;
  } cases[] = {
      {"1", true, 1},       {"100", true, 100},
      {"4094", true, 4094}, {"0", false, 0},
      {"4095", false, 0},   {"-1", false, 0},
      {"", false, 0},       {"10x", false, 0},
      {" 5", false, 0},     {"99999999999", false, 0},
  };
  for (const Case& c : cases) {
    Result<int> r = ParseVlan(c.in);
    ASSERT_EQ(r.ok(), c.ok) << "'" << c.in << "'";
    if (c.ok) {
      EXPECT_EQ(*r, c.want) << c.in;
    } else {
      EXPECT_NE(r.status().message().find("1 to 4094"), std::string::npos)
          << c.in << ": " << r.status().message();
    }
  }
}

TEST(ParseGuestAddressTest, AcceptsShortAndFull) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"00:05.0", "0000:00:05.0"},
      {"0000:00:1e.0", "0000:00:1e.0"},
      {"01:00.0", "0000:01:00.0"},
      {"00:1F.0", "0000:00:1f.0"},
  };
  for (const Case& c : cases) {
    Result<PciAddress> r = ParseGuestAddress(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().message();
    EXPECT_EQ(r->ToString(), c.want) << c.in;
  }
}

TEST(ParseGuestAddressTest, Rejects) {
  struct Case {
    const char* in;
    const char* why;
  } cases[] = {
      {"", "not a PCI address"},           {"05", "not a PCI address"},
      {"00:20.0", "not a PCI address"},  // slot > 0x1f
      {"00:05.8", "not a PCI address"},    {"zz:05.0", "not a PCI address"},
      {"0001:00:05.0", "non-zero domain"}, {"00:00.0", "host bridge"},
      {"00:05.1", "function 1"},
  };
  for (const Case& c : cases) {
    Result<PciAddress> r = ParseGuestAddress(c.in);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_NE(r.status().message().find(c.why), std::string::npos)
        << c.in << ": " << r.status().message();
  }
}

TEST(DeviceIdTest, Rules) {
  EXPECT_TRUE(IsValidDeviceId("hostdev0"));
  EXPECT_TRUE(IsValidDeviceId("net-0.a_b"));
  EXPECT_FALSE(IsValidDeviceId(""));
  EXPECT_FALSE(IsValidDeviceId("0dev"));
  EXPECT_FALSE(IsValidDeviceId("a,b"));
  EXPECT_FALSE(IsValidDeviceId("a b"));
  EXPECT_FALSE(IsValidDeviceId(std::string(65, 'a')));
}

TEST(ValidateAssignmentsTest, AcceptsGoodList) {
  std::vector<HostdevAssignment> v = {
      Dev("0000:81:00.0", "hostdev0"),
      Dev("0000:81:10.1", "net0", DeviceType::kVf)};
  v[0].guest = Addr("0000:00:05.0");
  v[1].as_interface = true;
  v[1].mac = "52:54:00:12:34:56";
  v[1].vlan = 100;
  v[1].guest = Addr("0000:00:06.0");
  EXPECT_TRUE(ValidateAssignments(v).ok());
  EXPECT_TRUE(ValidateAssignments({}).ok());
}

TEST(ValidateAssignmentsTest, RefusesEachProblemNamingTheDevice) {
  struct Case {
    const char* name;
    std::vector<HostdevAssignment> devices;
    const char* want;  // substring of the message
  };
  auto pinned = [](HostdevAssignment d, const char* guest) {
    d.guest = Addr(guest);
    return d;
  };
  auto iface = [](HostdevAssignment d) {
    d.as_interface = true;
    return d;
  };
  auto with_mac = [](HostdevAssignment d, const char* mac) {
    d.mac = mac;
    return d;
  };
  auto with_vlan = [](HostdevAssignment d, int vlan) {
    d.vlan = vlan;
    return d;
  };
  std::vector<Case> cases = {
      {"bad id", {Dev("0000:81:00.0", "0bad")}, "device 0000:81:00.0"},
      {"dup id",
       {Dev("0000:81:00.0", "h0"), Dev("0000:81:00.1", "h0")},
       "'h0' is used twice"},
      {"dup host",
       {Dev("0000:81:00.0", "h0"), Dev("0000:81:00.0", "h1")},
       "listed twice"},
      {"dup guest slot",
       {pinned(Dev("0000:81:00.0", "h0"), "0000:00:05.0"),
        pinned(Dev("0000:81:00.1", "h1"), "0000:00:05.0")},
       "device 0000:81:00.1: guest address 0000:00:05.0 is already pinned "
       "for 0000:81:00.0"},
      {"guest host bridge",
       {pinned(Dev("0000:81:00.0", "h0"), "0000:00:00.0")},
       "host bridge"},
      {"guest function",
       {pinned(Dev("0000:81:00.0", "h0"), "0000:00:05.3")},
       "function 3"},
      {"interface on PF",
       {iface(Dev("0000:81:00.0", "h0", DeviceType::kPf))},
       "is type-PF; only SR-IOV VFs"},
      {"interface on PCI", {iface(Dev("0000:81:00.0", "h0"))}, "is type-PCI"},
      {"mac without interface",
       {with_mac(Dev("0000:81:10.1", "h0", DeviceType::kVf),
                 "52:54:00:12:34:56")},
       "not used as a network interface"},
      {"vlan without interface",
       {with_vlan(Dev("0000:81:10.1", "h0", DeviceType::kVf), 5)},
       "not used as a network interface"},
      {"bad mac",
       {with_mac(iface(Dev("0000:81:10.1", "h0", DeviceType::kVf)),
                 "01:00:5e:00:00:01")},
       "device 0000:81:10.1: MAC address '01:00:5e:00:00:01' is a multicast"},
      {"vlan 0",
       {with_vlan(iface(Dev("0000:81:10.1", "h0", DeviceType::kVf)), 0)},
       "VLAN id '0'"},
      {"vlan 4095",
       {with_vlan(iface(Dev("0000:81:10.1", "h0", DeviceType::kVf)), 4095)},
       "VLAN id '4095'"},
  };
  for (const Case& c : cases) {
    Status s = ValidateAssignments(c.devices);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(s.message().find(c.want), std::string::npos)
        << c.name << ": " << s.message();
  }
}

TEST(LibvirtAliasTest, Prefix) {
  EXPECT_EQ(LibvirtAlias(Dev("0000:81:00.0", "hostdev3")), "ua-hostdev3");
}

}  // namespace
}  // namespace pcipass::hv
