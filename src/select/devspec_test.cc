// Acceptance rows 1-24 and 26 of nova-pci-semantics.md section 12, plus
// every device_spec error path and the documented better-than-Nova cases.
#include "select/devspec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

PciAddress Addr(const char* s) { return PciAddress::Parse(s).value(); }

// DEV of section 12: VF 0000:0a:00.5 (8086:5057) of PF 0000:0a:00.0.
PciDevice Dev(const char* addr = "0000:0a:00.5", uint16_t vendor = 0x8086,
              uint16_t product = 0x5057,
              std::optional<const char*> parent = "0000:0a:00.0") {
  PciDevice d;
  d.address = Addr(addr);
  d.vendor_id = vendor;
  d.product_id = product;
  if (parent) {
    d.physfn = Addr(*parent);
    d.type = DeviceType::kVf;
  }
  return d;
}

class DevSpecTest : public ::testing::Test {
 protected:
  Result<DeviceSpec> Spec(const std::string& json,
                          const DeviceSpecOptions& options = {}) {
    return DeviceSpec::FromJson(json, "t.conf:1", tree_.host(), options);
  }
  // Marks |addr| as a PF in sysfs (sriov_totalvfs > 0).
  void MakePf(const char* addr, const char* vendor = "0x8086",
              const char* device = "0x1528", const char* vf_device = "5058") {
    std::string dir = std::string("sys/bus/pci/devices/") + addr;
    tree_.WriteFile(dir + "/sriov_totalvfs", "8\n");
    tree_.WriteFile(dir + "/sriov_vf_device", std::string(vf_device) + "\n");
    tree_.WriteFile(dir + "/vendor", std::string(vendor) + "\n");
    tree_.WriteFile(dir + "/device", std::string(device) + "\n");
  }
  void Netdev(const char* name, const char* addr) {
    tree_.Symlink(std::string("sys/class/net/") + name + "/device",
                  std::string("../../../") + addr);
  }
  testing::FixtureTree tree_;
};

// Expects |json| to fail with a message ending in "<prefix><nova>".
void ExpectNovaError(const Result<DeviceSpec>& r, const std::string& nova,
                     const std::string& label) {
  ASSERT_FALSE(r.ok()) << label;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << label;
  EXPECT_THAT(r.status().message(),
              HasSubstr(std::string(kDeviceSpecErrorPrefix) + nova))
      << label;
  EXPECT_THAT(r.status().message(), HasSubstr("t.conf:1")) << label;
}

TEST_F(DevSpecTest, Row01GlobWithSpacesMatchesAndKeepsTags) {
  auto s = Spec(R"({"vendor_id":"8086","product_id":"5057",
                    "address":"*: *: *.5","physical_network":"hr_net"})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->Match(Dev()).matched);
  EXPECT_EQ(s->tags(), (TagMap{{"physical_network", "hr_net"}}));
}

TEST_F(DevSpecTest, Row02OtherFunctionDoesNotMatch) {
  auto s = Spec(R"({"address":"*: *: *.6"})");
  ASSERT_TRUE(s.ok());
  SpecMatch m = s->Match(Dev());
  EXPECT_FALSE(m.matched);
  EXPECT_EQ(m.key, "address");
}

TEST_F(DevSpecTest, Row03to04GlobNormalisation) {
  struct Case {
    const char* address;
    const char* normalised;
    bool matches_dev;
  } cases[] = {
      {":0a:00.", "*:0a:00.*", true},    {".5", "*:*:*.5", true},
      {"0:a:0.5", "0000:0a:00.5", true}, {"00.5", "*:*:00.5", true},
      {"0a", "*:*:0a.*", false},         {"0000:0a:00", "0000:0a:00.*", true},
      {"0x0a:00.5", "*:0a:00.5", true},  {"", "*:*:*.*", true},
      {"*:*:*.*", "*:*:*.*", true},      {"0000:0A:00.5", "0000:0a:00.5", true},
  };
  for (const Case& c : cases) {
    auto s = Spec(std::string(R"({"address":")") + c.address + "\"}");
    ASSERT_TRUE(s.ok()) << c.address << ": " << s.status().ToString();
    EXPECT_EQ(s->address().ToString(), c.normalised) << c.address;
    EXPECT_EQ(s->Match(Dev()).matched, c.matches_dev) << c.address;
  }
}

TEST_F(DevSpecTest, Row05TooManyFieldsIsWrongFormat) {
  auto s = Spec(R"({"address":"0000:0a:0b:00.5"})");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(),
              HasSubstr("The PCI address 0000:0a:0b:00.5 has an incorrect "
                        "format."));
}

TEST_F(DevSpecTest, Rows06to09ExactNovaMessages) {
  struct Case {
    const char* json;
    const char* nova;
  } cases[] = {
      {R"({"address":"0000:h4.12:6"})",
       "property func ('12:6') does not parse as a hex number."},
      {R"({"address":"0000:0a:00.5.1"})",
       "property func ('5.1') does not parse as a hex number."},
      {R"({"address":"0000:0a:00.8"})",
       "property func (8) is greater than the maximum allowable value (7)."},
      {R"({"address":"10000:0a:00.5"})",
       "property domain (10000) is greater than the maximum allowable value "
       "(FFFF)."},
      {R"({"address":"0000:100:00.5"})",
       "property bus (100) is greater than the maximum allowable value (FF)."},
      {R"({"address":"0000:0a:20.5"})",
       "property slot (20) is greater than the maximum allowable value (1F)."},
      {R"({"address":"0000:0a:0*.5"})",
       "property slot ('0*') does not parse as a hex number."},
      {R"({"vendor_id":"80860"})",
       "property vendor_id (80860) is greater than the maximum allowable "
       "value (FFFF)."},
      {R"({"vendor_id":"xyz"})",
       "property vendor_id ('xyz') does not parse as a hex number."},
      {R"({"product_id":"1_000"})",
       "property product_id ('1_000') does not parse as a hex number."},
      // Better than Nova (B14): signs are rejected, not stored as "-001".
      {R"({"address":"-1:0a:00.5"})",
       "property domain ('-1') does not parse as a hex number."},
      {R"({"product_id":"+10"})",
       "property product_id ('+10') does not parse as a hex number."},
  };
  for (const Case& c : cases) ExpectNovaError(Spec(c.json), c.nova, c.json);
}

TEST_F(DevSpecTest, Row09IdNormalisation) {
  struct Case {
    const char* vendor;
    uint16_t stored;
  } cases[] = {{"ABCD", 0xabcd},
               {"abc", 0x0abc},
               {"0x8086", 0x8086},
               {" 8086 ", 0x8086}};
  for (const Case& c : cases) {
    auto s = Spec(std::string(R"({"vendor_id":")") + c.vendor + "\"}");
    ASSERT_TRUE(s.ok()) << c.vendor;
    EXPECT_EQ(s->vendor_id(), c.stored) << c.vendor;
  }
  auto any = Spec(R"({"vendor_id":"*","product_id":"*"})");
  ASSERT_TRUE(any.ok());
  EXPECT_FALSE(any->vendor_id().has_value());
  EXPECT_TRUE(any->Match(Dev()).matched);
}

TEST_F(DevSpecTest, NumericIdIsAClearError) {
  // Nova crashes with AttributeError (B14).
  auto s = Spec(R"({"vendor_id":8086})");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(),
              HasSubstr("key 'vendor_id' must be a JSON string"));
  EXPECT_THAT(s.status().message(), HasSubstr("a number"));
}

TEST_F(DevSpecTest, Row10DevnameAndAddressTogether) {
  auto s = Spec(R"({"devname":"eth0","address":"*:*:*.5"})");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(),
              HasSubstr("Invalid PCI Whitelist: The PCI whitelist can specify "
                        "devname or address, but not both"));
}

TEST_F(DevSpecTest, Row11EmptyDevnameMatchesAllUnknownMatchesNothing) {
  auto empty = Spec(R"({"devname":""})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->Match(Dev()).matched);
  auto lo = Spec(R"({"devname":"lo"})");
  ASSERT_TRUE(lo.ok());
  SpecMatch m = lo->Match(Dev());
  EXPECT_FALSE(m.matched);
  EXPECT_EQ(m.key, "devname");
  EXPECT_THAT(m.detail, HasSubstr("not present"));
}

TEST_F(DevSpecTest, Row12DevnameOfPfMatchesPfAndItsVfs) {
  MakePf("0000:0a:00.0");
  Netdev("eth0", "0000:0a:00.0");
  auto s = Spec(R"({"devname":"eth0"})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->facts().is_pf);
  EXPECT_TRUE(s->Match(Dev()).matched);
  EXPECT_TRUE(
      s->Match(Dev("0000:0a:00.0", 0x8086, 0x1528, std::nullopt)).matched);
  EXPECT_FALSE(
      s->Match(Dev("0000:0b:00.1", 0x8086, 0x5057, "0000:0b:00.0")).matched);
}

TEST_F(DevSpecTest, DevnameIsResolvedOnceAtLoad) {
  // B16: the VF's netdev vanishes once it is on vfio-pci; the spec keeps
  // matching because the address was resolved when the config was loaded.
  Netdev("ens1f0v0", "0000:0a:00.5");
  auto s = Spec(R"({"devname":"ens1f0v0"})");
  ASSERT_TRUE(s.ok());
  tree_.Remove("sys/class/net/ens1f0v0");
  EXPECT_TRUE(s->Match(Dev()).matched);
  EXPECT_FALSE(s->facts().is_pf);
  EXPECT_FALSE(s->Match(Dev("0000:0a:00.6")).matched);
}

TEST_F(DevSpecTest, Row13RegexAddress) {
  auto s = Spec(R"({"address":{"domain":".*","bus":".*","slot":"00",
                               "function":"[5-6]"}})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->Match(Dev()).matched);
  auto t = Spec(R"({"address":{"domain":".*","bus":".*","slot":"00",
                               "function":"[6-7]"}})");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->Match(Dev()).matched);
}

TEST_F(DevSpecTest, Row14RegexErrors) {
  const char* cases[] = {
      R"({"address":{"function":"[6[-7]"}})",
      R"({"address":{"domain":"*"}})",
      R"({"address":["0000:0a:00.5"]})",
      R"({"address":12})",
  };
  for (const char* c : cases) {
    auto s = Spec(c);
    ASSERT_FALSE(s.ok()) << c;
    EXPECT_THAT(s.status().message(), HasSubstr("has an incorrect format"))
        << c;
  }
}

TEST_F(DevSpecTest, RegexUnknownKeyAndNonStringAreErrors) {
  // Nova silently ignores "func" and crashes on a number (B4).
  auto s = Spec(R"({"address":{"func":"5"}})");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("unknown key 'func'"));
  EXPECT_THAT(s.status().message(),
              HasSubstr("accepted keys: domain, bus, slot, function"));
  auto n = Spec(R"({"address":{"bus":10}})");
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(n.status().message(),
              HasSubstr("regex address key 'bus' must be a string"));
}

TEST_F(DevSpecTest, Row15RegexMatchesWholeFieldNotJustStart) {
  // Nova: {"bus":"0"} matches bus 0a (start-anchored). pcipass: the whole
  // field must match (docs/nova-compatibility.md, B4).
  struct Case {
    const char* bus;
    bool matches;
  } cases[] = {{"0", false},  {"0a", true}, {"0.", true},
               {"0a$", true}, {"a", false}, {"0[a-f]", true}};
  for (const Case& c : cases) {
    auto s = Spec(std::string(R"({"address":{"bus":")") + c.bus + "\"}}");
    ASSERT_TRUE(s.ok()) << c.bus;
    EXPECT_EQ(s->Match(Dev()).matched, c.matches) << c.bus;
  }
}

TEST_F(DevSpecTest, Rows16to19PfAddressMatchesItsVfs) {
  MakePf("0000:0a:00.0");
  MakePf("0000:0a:00.5");
  PciDevice pf = Dev("0000:0a:00.0", 0x8086, 0x1528, std::nullopt);
  pf.type = DeviceType::kPf;
  // A VF of the same PF on another slot (real VFs usually are), so that
  // its own address cannot match a "0a:00.*" glob: row 17's point is that
  // only a SINGLE PF address pulls in the VFs.
  PciDevice far_vf = Dev("0000:0a:10.1", 0x8086, 0x5057, "0000:0a:00.0");
  PciDevice other_vf = Dev("0000:0b:00.1", 0x8086, 0x5057, "0000:0b:00.0");
  PciDevice lone = Dev("0000:0a:00.5", 0x8086, 0x5057, std::nullopt);
  struct Case {
    const char* json;
    bool pf, dev, far_vf, other_vf, lone;
  } cases[] = {
      // 16: the PF and its VFs; not a VF of another PF.
      {R"({"address":"0000:0a:00.0"})", true, true, true, false, false},
      // 17: not a single address: own address only (DEV's own address
      // 0000:0a:00.5 does match 0000:0a:00.*; the far VF does not).
      {R"({"address":"0000:0a:00.*"})", true, true, false, false, true},
      {R"({"address":"*:0a:00.0"})", true, false, false, false, false},
      // 18: PF address + VF product id: the VFs only.
      {R"({"address":"0000:0a:00.0","product_id":"5057"})", false, true, true,
       false, false},
      // 19: a device without parent_addr matches on its own address.
      {R"({"address":"0000:0a:00.5"})", false, true, false, false, true},
      // A regex single address works the same way as a glob one.
      {R"({"address":{"domain":"0000","bus":"0a","slot":"00",
                      "function":"0"}})",
       true, true, true, false, false},
  };
  for (const Case& c : cases) {
    auto s = Spec(c.json);
    ASSERT_TRUE(s.ok()) << c.json << s.status().ToString();
    EXPECT_EQ(s->Match(pf).matched, c.pf) << c.json;
    EXPECT_EQ(s->Match(Dev()).matched, c.dev) << c.json;
    EXPECT_EQ(s->Match(far_vf).matched, c.far_vf) << c.json;
    EXPECT_EQ(s->Match(other_vf).matched, c.other_vf) << c.json;
    EXPECT_EQ(s->Match(lone).matched, c.lone) << c.json;
  }
}

TEST_F(DevSpecTest, Row20StrictBoolTagsAreNormalised) {
  struct Case {
    const char* tag;
    const char* value;  // JSON
    const char* stored;
  } cases[] = {
      {"managed", R"("YES")", "true"},
      {"managed", R"("no")", "false"},
      {"managed", "true", "true"},
      {"live_migratable", R"("off")", "false"},
      {"trusted", R"("yes")", "true"},
      {"trusted", R"(" On ")", "true"},
      {"remote_managed", R"("0")", "false"},
  };
  for (const Case& c : cases) {
    auto s = Spec(std::string("{\"") + c.tag + "\":" + c.value + "}");
    ASSERT_TRUE(s.ok()) << c.tag << "=" << c.value << s.status().ToString();
    EXPECT_EQ(s->tags().at(c.tag), c.stored) << c.tag << "=" << c.value;
  }
  ExpectNovaError(Spec(R"({"managed":"invalid"})"),
                  "Cannot parse tag 'managed': Unrecognized value 'invalid', "
                  "acceptable values are: '0', '1', 'f', 'false', 'n', 'no', "
                  "'off', 'on', 't', 'true', 'y', 'yes'",
                  "managed=invalid");
  ExpectNovaError(Spec(R"({"trusted":"maybe"})"),
                  "Cannot parse tag 'trusted': Unrecognized value 'maybe'",
                  "trusted=maybe");
  ExpectNovaError(Spec(R"({"one_time_use":null})"),
                  "Cannot parse tag 'one_time_use': Unrecognized value 'None'",
                  "one_time_use=null");
}

TEST_F(DevSpecTest, Row21OneTimeUseNeedsPlacement) {
  ExpectNovaError(Spec(R"({"one_time_use":"TrUe"})"),
                  "one_time_use=true requires pci.report_in_placement to be "
                  "enabled",
                  "placement off");
  DeviceSpecOptions placement;
  placement.report_in_placement = true;
  auto s = Spec(R"({"one_time_use":"TrUe"})", placement);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->tags().at("one_time_use"), "true");
  EXPECT_TRUE(Spec(R"({"one_time_use":"false"})").ok());
}

TEST_F(DevSpecTest, Row22RemoteManagedPfAddress) {
  // Fixes B1: the real PF directory is read (VF id 5058, PF 8086:5057).
  MakePf("0000:0a:00.0", "0x8086", "0x5057", "5058");
  auto ok = Spec(R"({"address":"0000:0a:00.0","remote_managed":"true",
                     "product_id":"5058"})");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  for (const char* product : {"*", "5057"}) {
    auto s = Spec(std::string(R"({"address":"0000:0a:00.0",)"
                              R"("remote_managed":"true","product_id":")") +
                  product + "\"}");
    ASSERT_FALSE(s.ok()) << product;
    EXPECT_THAT(s.status().message(),
                HasSubstr("PFs must not have the \"remote_managed\" tag, "
                          "device address: 0000:0a:00.0"))
        << product;
    EXPECT_THAT(s.status().message(), HasSubstr("5058")) << product;
  }
  ExpectNovaError(
      Spec(R"({"address":"0000:0a:00.0","remote_managed":"true",
               "product_id":"5050"})"),
      "the specified VF vendor ID * and product ID 5050 do not match the "
      "expected VF IDs based on the corresponding PF identified by PCI "
      "address 0000:0a:00.0",
      "5050");
  auto missing = Spec(R"({"devname":"nope0","remote_managed":"yes"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(),
              HasSubstr("A device specified as \"remote_managed\" is not "
                        "actually present on the host"));
}

TEST_F(DevSpecTest, Row23RemoteManagedNeedsVpdSerial) {
  auto s = Spec(R"({"product_id":"5057","remote_managed":"true"})");
  ASSERT_TRUE(s.ok());
  auto serial = [](const std::optional<std::string>& sn) {
    return [sn](const PciAddress& a) -> std::optional<std::string> {
      // Only the PF has VPD, as on real SmartNICs.
      if (a == Addr("0000:0a:00.0")) return sn;
      return std::nullopt;
    };
  };
  EXPECT_FALSE(s->Match(Dev()).matched);
  EXPECT_FALSE(s->Match(Dev(), serial(std::nullopt)).matched);
  SpecMatch empty = s->Match(Dev(), serial(""));
  EXPECT_FALSE(empty.matched);
  EXPECT_EQ(empty.key, "remote_managed");
  EXPECT_TRUE(s->Match(Dev(), serial("MT2113X00000")).matched);
}

TEST_F(DevSpecTest, Row24WhitelistEntryErrors) {
  struct Case {
    const char* value;
    const char* nova;
  } cases[] = {
      {"[1,2]", "Invalid entry: '1'; Expecting dict"},
      {R"("abc")", R"(Invalid entry: '"abc"'; Expecting list or dict)"},
      {R"({"vendor_id":"8086")", R"(Invalid entry: '{"vendor_id":"8086"')"},
  };
  for (const Case& c : cases) {
    std::vector<Status> errors;
    auto specs =
        ParseDeviceSpecValue(c.value, "t.conf:3", tree_.host(), {}, &errors);
    EXPECT_TRUE(specs.empty()) << c.value;
    ASSERT_FALSE(errors.empty()) << c.value;
    EXPECT_THAT(errors[0].message(),
                HasSubstr(std::string(kDeviceSpecErrorPrefix) + c.nova))
        << c.value;
  }
  // [1,2]: both elements are reported, each with its position.
  std::vector<Status> errors;
  ParseDeviceSpecValue("[1,2]", "t.conf:3", tree_.host(), {}, &errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_THAT(errors[1].message(), HasSubstr("t.conf:3 entry 2"));
}

TEST_F(DevSpecTest, ListValuesKeepOrderAndSkipOnlyBadEntries) {
  std::vector<Status> errors;
  auto specs =
      ParseDeviceSpecValue(R"([{"vendor_id":"8086"}, {"vendor_id":"zz"}, {}])",
                           "t.conf:3", tree_.host(), {}, &errors);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].where(), "t.conf:3 entry 1");
  EXPECT_EQ(specs[1].where(), "t.conf:3 entry 3");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message(), HasSubstr("t.conf:3 entry 2"));
  errors.clear();
  EXPECT_TRUE(ParseDeviceSpecValue("[]", "t.conf:4", tree_.host(), {}, &errors)
                  .empty());
  EXPECT_TRUE(errors.empty());
}

TEST_F(DevSpecTest, Row26FiveDigitDomainDeviceIsMatchedNotSkipped) {
  // Nova skips VMD devices (domain 10000) with a debug log; pcipass handles
  // 5-digit domains and matches them like any other device.
  auto s = Spec(R"({"product_id":"2032","vendor_id":"8086"})");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(
      s->Match(Dev("10000:00:02.0", 0x8086, 0x2032, std::nullopt)).matched);
  auto glob = Spec(R"({"address":"0000:00:02.0"})");
  ASSERT_TRUE(glob.ok());
  EXPECT_FALSE(
      glob->Match(Dev("10000:00:02.0", 0x8086, 0x2032, std::nullopt)).matched);
}

TEST_F(DevSpecTest, UnknownTagsAreErrorsUnlessDeclared) {
  auto typo = Spec(R"({"physnet":"a"})");
  ASSERT_FALSE(typo.ok());
  EXPECT_THAT(typo.status().message(), HasSubstr("unknown key 'physnet'"));
  EXPECT_THAT(typo.status().message(), HasSubstr("physical_network"));
  EXPECT_THAT(typo.status().message(), HasSubstr("[pci]extra_tags"));
  auto x = Spec(R"({"x-rack":"r12"})");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->tags().at("x-rack"), "r12");
  DeviceSpecOptions options;
  options.extra_tags = {"physnet"};
  EXPECT_TRUE(Spec(R"({"physnet":"a"})", options).ok());
}

TEST_F(DevSpecTest, TagValueTypes) {
  auto s = Spec(R"({"physical_network":null,"x-n":3,"x-b":false})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->tags().at("physical_network"), std::nullopt);
  EXPECT_EQ(s->tags().at("x-n"), "3");
  EXPECT_EQ(s->tags().at("x-b"), "false");
  auto bad = Spec(R"({"physical_network":["a"]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("tag 'physical_network' must be a string"));
  auto devname = Spec(R"({"devname":5})");
  ASSERT_FALSE(devname.ok());
  EXPECT_THAT(devname.status().message(), HasSubstr("key 'devname'"));
}

TEST_F(DevSpecTest, NotAnObject) {
  auto s = Spec("[1]");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("Expecting dict"));
  auto j = Spec("{bad");
  ASSERT_FALSE(j.ok());
  EXPECT_THAT(j.status().message(), HasSubstr("Invalid entry: '{bad'"));
}

TEST_F(DevSpecTest, MismatchExplainsTheFirstFailingKey) {
  auto s = Spec(R"({"vendor_id":"15b3","product_id":"5057"})");
  ASSERT_TRUE(s.ok());
  SpecMatch m = s->Match(Dev());
  EXPECT_EQ(m.key, "vendor_id");
  EXPECT_THAT(m.detail, HasSubstr("8086"));
  EXPECT_THAT(m.detail, HasSubstr("15b3"));
  auto p = Spec(R"({"product_id":"1111"})");
  EXPECT_EQ(p->Match(Dev()).key, "product_id");
}

TEST(StrictBool, AcceptsOnlyNovaWords) {
  for (const char* t : {"1", "t", "TRUE", " on ", "y", "Yes"}) {
    EXPECT_EQ(ParseStrictBool(t), true) << t;
  }
  for (const char* f : {"0", "f", "False", "OFF", "n", "no"}) {
    EXPECT_EQ(ParseStrictBool(f), false) << f;
  }
  for (const char* x : {"", "2", "yess", "enabled"}) {
    EXPECT_EQ(ParseStrictBool(x), std::nullopt) << x;
  }
}

// Issue 8: 100,000 nested '[' overflowed the stack inside the JSON parser.
TEST_F(DevSpecTest, DeepNestingIsRefusedBeforeParsing) {
  std::vector<Status> errors;
  auto specs = ParseDeviceSpecValue(std::string(100000, '['), "t.conf:3",
                                    tree_.host(), {}, &errors);
  EXPECT_TRUE(specs.empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message(), HasSubstr("t.conf:3"));
  EXPECT_THAT(errors[0].message(), HasSubstr("deeper than 32 levels"));
  // 32 levels is still parsed (and refused for its shape, not its depth).
  errors.clear();
  ParseDeviceSpecValue(std::string(32, '[') + std::string(32, ']'), "t.conf:4",
                       tree_.host(), {}, &errors);
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0].message(), Not(HasSubstr("deeper than")));
  auto one = DeviceSpec::FromJson(std::string(50000, '{'), "t.conf:5",
                                  tree_.host(), {});
  ASSERT_FALSE(one.ok());
  EXPECT_THAT(one.status().message(), HasSubstr("deeper than 32 levels"));
}

}  // namespace
}  // namespace pcipass
