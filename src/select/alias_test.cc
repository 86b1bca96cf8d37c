// Acceptance rows 27-29 of nova-pci-semantics.md section 12 plus every
// alias error path and the B2/B3 fixes.
#include "select/alias.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pcipass {
namespace {

using ::testing::HasSubstr;

AliasTable Parse(const std::vector<std::string>& values,
                 std::vector<Status>* errors, bool placement = false) {
  std::vector<AliasEntry> entries;
  entries.reserve(values.size());
  int line = 1;
  for (const std::string& v : values) {
    entries.push_back({v, "a.conf:" + std::to_string(line++)});
  }
  return ParseAliases(entries, placement, errors);
}

TEST(AliasTest, ValidAliasBecomesNovaStyleSpec) {
  std::vector<Status> errors;
  AliasTable t = Parse({R"({"name":" gpu ","vendor_id":"10DE",
                            "product_id":"1db6","device_type":"type-PCI",
                            "numa_policy":"required",
                            "live_migratable":"yes"})"},
                       &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].message();
  const Alias* a = t.Find("gpu");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->numa_policy, NumaPolicy::kRequired);
  EXPECT_EQ(a->dev_type, DeviceType::kPci);
  ASSERT_EQ(a->specs.size(), 1u);
  EXPECT_EQ(a->specs[0], (RequestSpec{{"vendor_id", "10de"},
                                      {"product_id", "1db6"},
                                      {"dev_type", "type-PCI"},
                                      {"live_migratable", "true"}}));
}

TEST(AliasTest, Row27InvalidEntries) {
  struct Case {
    const char* extra;
    const char* message;
  } cases[] = {
      {R"("device_type":"N")",
       "key 'device_type' is 'N'; accepted: 'type-PCI', 'type-PF', "
       "'type-VF'"},
      {R"("device_type":"vdpa")", "key 'device_type' is 'vdpa'"},
      {R"("product_id":"g111")", "key 'product_id' is 'g111'"},
      {R"("vendor_id":"0xg111")", "key 'vendor_id' is '0xg111'"},
      {R"("vendor_id":"*")", "(no '*', no '0x')"},
      {R"("capability_type":"usb")",
       "key 'capability_type' is 'usb'; accepted: 'pci'"},
      {R"("numa_policy":"derp")",
       "key 'numa_policy' is 'derp'; accepted: 'required', 'legacy', "
       "'preferred', 'socket'"},
      {R"("foo":"bar")", "unknown key 'foo'"},
      {R"("live_migratable":"maybe")", "key 'live_migratable' is \"maybe\""},
      {R"("resource_class":5)", "key 'resource_class' must be a string"},
  };
  for (const Case& c : cases) {
    std::vector<Status> errors;
    // The bad value replaces the base's vendor_id/product_id (a key given
    // twice is an error of its own, see config_test.cc).
    const std::string extra = c.extra;
    std::string json =
        std::string(R"({"name":"xxx",)") +
        (extra.find("\"vendor_id\"") == 0 ? "" : R"("vendor_id":"8086",)") +
        (extra.find("\"product_id\"") == 0 ? "" : R"("product_id":"1111",)") +
        extra + "}";
    AliasTable t = Parse({json}, &errors);
    ASSERT_FALSE(errors.empty()) << c.extra;
    EXPECT_THAT(errors[0].message(),
                HasSubstr("Invalid PCI alias definition at a.conf:1"))
        << c.extra;
    EXPECT_THAT(errors[0].message(), HasSubstr(c.message)) << c.extra;
    EXPECT_EQ(t.Find("xxx"), nullptr) << c.extra;
  }
}

TEST(AliasTest, StructuralErrors) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"([{"name":"a"}])", "must be one JSON object"},
      {R"({"name":"a")", "is not valid JSON"},
      {R"({"vendor_id":"8086","product_id":"1111"})",
       "'name' is a required property"},
      {R"({"name":"","vendor_id":"8086","product_id":"1111"})",
       "1 to 256 characters"},
      {R"({"name":"   ","vendor_id":"8086","product_id":"1111"})",
       "key 'name' is blank"},
      {R"({"name":7})", "key 'name' must be a string"},
  };
  for (const Case& c : cases) {
    std::vector<Status> errors;
    Parse({c.json}, &errors);
    ASSERT_FALSE(errors.empty()) << c.json;
    EXPECT_THAT(errors[0].message(), HasSubstr(c.message)) << c.json;
  }
}

TEST(AliasTest, CapabilityTypePciIsAcceptedAndIgnored) {
  // B2: Nova keeps it in the spec and the alias never matches.
  std::vector<Status> errors;
  AliasTable t = Parse({R"({"name":"a","vendor_id":"8086",
                            "product_id":"1111","capability_type":"pci"})"},
                       &errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(t.Find("a")->specs[0].count("capability_type"), 0u);
}

TEST(AliasTest, Row28SameNameEntries) {
  struct Case {
    const char* first;
    const char* second;
    const char* error;  // nullptr: OK
  } cases[] = {
      {R"("numa_policy":"required")", R"("numa_policy":"legacy")",
       "NUMA policy mismatch for alias 'xxx'"},
      {R"("device_type":"type-PF")", R"("device_type":"type-PCI")",
       "Device type mismatch for alias 'xxx'"},
      // B3: Nova fails with 'dev_type'; pcipass accepts it.
      {R"("numa_policy":"legacy")", R"("numa_policy":"legacy")", nullptr},
      {R"("device_type":"type-VF")", R"("numa_policy":"")",
       "Device type mismatch for alias 'xxx' (none here, type-VF"},
      // A missing numa_policy means legacy.
      {R"("numa_policy":"legacy")", R"("device_type":"type-PCI")",
       "Device type mismatch"},
  };
  for (const Case& c : cases) {
    std::vector<Status> errors;
    std::string base = R"({"name":"xxx","vendor_id":"8086","product_id":)";
    AliasTable t = Parse({base + R"("1111",)" + c.first + "}",
                          base + R"("2222",)" + c.second + "}"},
                         &errors);
    if (c.error == nullptr) {
      ASSERT_TRUE(errors.empty()) << c.first << " / " << errors[0].message();
      ASSERT_NE(t.Find("xxx"), nullptr);
      EXPECT_EQ(t.Find("xxx")->specs.size(), 2u) << c.first;
    } else {
      ASSERT_FALSE(errors.empty()) << c.first;
      EXPECT_THAT(errors[0].message(), HasSubstr(c.error)) << c.first;
      EXPECT_THAT(errors[0].message(), HasSubstr("a.conf:2")) << c.first;
      EXPECT_EQ(t.Find("xxx"), nullptr) << c.first;
    }
  }
}

TEST(AliasTest, Row29VendorAndProductRequired) {
  std::vector<std::string> values = {
      R"({"name":"a1","product_id":"1111"})",
      R"({"name":"a2","vendor_id":"8086"})",
      R"({"name":"a3"})",
      R"({"name":"a4","resource_class":"CUSTOM_GPU"})",
      R"({"name":"a5","vendor_id":"8086","product_id":"1111"})",
  };
  std::vector<Status> errors;
  AliasTable t = Parse(values, &errors, /*placement=*/false);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message(),
            "The PCI alias(es) a1,a2,a3,a4 does not have vendor_id and "
            "product_id fields set.");
  EXPECT_NE(t.Find("a5"), nullptr);
  errors.clear();
  t = Parse(values, &errors, /*placement=*/true);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message(),
            "The PCI alias(es) a1,a2,a3 does not have vendor_id and "
            "product_id fields set or resource_class field set.");
  EXPECT_NE(t.Find("a4"), nullptr);
}

TEST(AliasTest, DeviceMatchesAliasSpec) {
  PciDevice d;
  d.vendor_id = 0x8086;
  d.product_id = 0x1521;
  d.type = DeviceType::kVf;
  EXPECT_TRUE(DeviceMatchesAliasSpec(
      d, {{"vendor_id", "8086"}, {"product_id", "1521"}}));
  EXPECT_TRUE(DeviceMatchesAliasSpec(
      d, {{"vendor_id", "8086"}, {"dev_type", "type-VF"}}));
  EXPECT_FALSE(DeviceMatchesAliasSpec(
      d, {{"vendor_id", "8086"}, {"dev_type", "type-PF"}}));
  EXPECT_FALSE(DeviceMatchesAliasSpec(d, {{"product_id", "1522"}}));
}

}  // namespace
}  // namespace pcipass

namespace pcipass {
namespace {

TEST(AliasTest, AliasSpecMismatchExplains) {
  PciDevice d;
  d.vendor_id = 0x8086;
  d.product_id = 0x1521;
  d.type = DeviceType::kVf;
  TagMap tags = {{"physical_network", "PhysNet1"}};
  struct Case {
    RequestSpec spec;
    const char* mismatch;  // nullptr: satisfied
  } cases[] = {
      {{{"vendor_id", "8086"}, {"product_id", "1521"}}, nullptr},
      {{{"product_id", "10d3"}}, "product_id 1521 is not the alias's 10d3"},
      {{{"dev_type", "type-PF"}}, "dev_type type-VF is not the alias's"},
      {{{"live_migratable", "false"}}, nullptr},
      {{{"live_migratable", "true"}}, "tag live_migratable is null"},
      {{{"physical_network", "physnet1"}}, nullptr},
      {{{"resource_class", "CUSTOM_X"}}, nullptr},
  };
  for (const Case& c : cases) {
    auto m = AliasSpecMismatch(d, tags, c.spec);
    if (c.mismatch == nullptr) {
      EXPECT_EQ(m, std::nullopt) << *m;
    } else {
      ASSERT_TRUE(m.has_value()) << c.mismatch;
      EXPECT_THAT(*m, ::testing::HasSubstr(c.mismatch));
    }
  }
}

// Issue 8: deep nesting in an alias value crashed the JSON parser.
TEST(AliasTest, DeepNestingIsRefusedBeforeParsing) {
  std::vector<Status> errors;
  Parse({std::string(100000, '[')}, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message(), HasSubstr("a.conf:1"));
  EXPECT_THAT(errors[0].message(), HasSubstr("deeper than 32 levels"));
}

}  // namespace
}  // namespace pcipass
