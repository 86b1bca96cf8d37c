// Acceptance rows 30-33 of nova-pci-semantics.md section 12 and the B15
// fixes: every malformed request is a clear error naming the item.
#include "select/request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "select/alias.h"

namespace pcipass {
namespace {

using ::testing::HasSubstr;

AliasTable Aliases() {
  std::vector<Status> errors;
  AliasTable t = ParseAliases(
      {{R"({"name":" Cirrus Logic ","vendor_id":"1013","product_id":"00b8",
            "device_type":"type-PCI"})",
        "a.conf:1"},
       {R"({"name":"IntelNIC","vendor_id":"8086","product_id":"1520",
            "device_type":"type-VF","numa_policy":"required"})",
        "a.conf:2"},
       {R"({"name":"a1","vendor_id":"8086","product_id":"1111"})", "a.conf:3"},
       {R"({"name":"a1","vendor_id":"8086","product_id":"2222"})", "a.conf:4"}},
      false, &errors);
  EXPECT_TRUE(errors.empty());
  return t;
}

TEST(RequestTest, Row30TwoRequestsWithStrippedNames) {
  auto r = ParsePciRequests(" Cirrus Logic : 4, IntelNIC: 3", Aliases());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].alias_name, "Cirrus Logic");
  EXPECT_EQ((*r)[0].count, 4);
  EXPECT_EQ((*r)[0].dev_type, DeviceType::kPci);
  EXPECT_EQ((*r)[0].numa_policy, NumaPolicy::kLegacy);
  EXPECT_EQ((*r)[1].alias_name, "IntelNIC");
  EXPECT_EQ((*r)[1].count, 3);
  EXPECT_EQ((*r)[1].numa_policy, NumaPolicy::kRequired);
  EXPECT_EQ((*r)[1].specs,
            (std::vector<RequestSpec>{{{"vendor_id", "8086"},
                                       {"product_id", "1520"},
                                       {"dev_type", "type-VF"}}}));
}

TEST(RequestTest, SameNameAliasesAreOredSpecs) {
  auto r = ParsePciRequests("a1:1", Aliases());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].specs.size(), 2u);
  EXPECT_EQ((*r)[0].dev_type, std::nullopt);
}

TEST(RequestTest, Row31UnknownAlias) {
  auto r = ParsePciRequests("QuickAssistX : 3", Aliases());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(),
              HasSubstr("PCI alias QuickAssistX is not defined"));
  EXPECT_THAT(r.status().message(), HasSubstr("IntelNIC"));
  auto none = ParsePciRequests("a:1", AliasTable());
  EXPECT_THAT(none.status().message(), HasSubstr("no [pci]alias"));
}

TEST(RequestTest, Row32AndB15MalformedRequests) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"a1", "item 1 'a1': no ':count' after the alias name"},
      {"a1:x", "item 1 'a1:x': count 'x' is not a whole number"},
      {"a1:2,", "item 2 '': empty item"},
      {",a1:2", "item 1 '': empty item"},
      {"a1:2,,a1:1", "item 2 '': empty item"},
      {"a,b:1", "item 1 'a': no ':count'"},
      {"a1:0", "count must be at least 1"},
      {"a1:-1", "count '-1' is not a whole number"},
      {"a1:+1", "count '+1' is not a whole number"},
      {"a1:1:2", "more than one ':'"},
      {":3", "empty alias name"},
      {"a1:", "count '' is not a whole number"},
      {"a1:99999999999", "is too large"},
      {"", "empty PCI request"},
      {"   ", "empty PCI request"},
  };
  for (const Case& c : cases) {
    auto r = ParsePciRequests(c.text, Aliases());
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.text;
  }
  auto twice = ParsePciRequests("a1:1, a1: 3", Aliases());
  ASSERT_TRUE(twice.ok());
  ASSERT_EQ(twice->size(), 2u);
  EXPECT_EQ((*twice)[0].count, 1);
  EXPECT_EQ((*twice)[1].count, 3);
  auto zeros = ParsePciRequests("a1:007", Aliases());
  ASSERT_TRUE(zeros.ok());
  EXPECT_EQ((*zeros)[0].count, 7);
}

TEST(RequestTest, Row33NumaPolicyOverride) {
  NumaOverride flavor_preferred{"preferred", std::nullopt};
  auto r = ParsePciRequests("Cirrus Logic:1,IntelNIC:1", Aliases(),
                            flavor_preferred);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].numa_policy, NumaPolicy::kPreferred);
  EXPECT_EQ((*r)[1].numa_policy, NumaPolicy::kPreferred);

  auto image_only =
      ParsePciRequests("a1:1", Aliases(), NumaOverride{std::nullopt, "socket"});
  ASSERT_TRUE(image_only.ok());
  EXPECT_EQ((*image_only)[0].numa_policy, NumaPolicy::kSocket);

  auto same =
      ParsePciRequests("a1:1", Aliases(), NumaOverride{"required", "required"});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)[0].numa_policy, NumaPolicy::kRequired);

  auto conflict = ParsePciRequests("a1:1", Aliases(),
                                   NumaOverride{"required", "preferred"});
  ASSERT_FALSE(conflict.ok());
  EXPECT_THAT(conflict.status().message(),
              HasSubstr("ImagePCINUMAPolicyForbidden"));
  EXPECT_THAT(conflict.status().message(), HasSubstr("'preferred'"));

  auto bad =
      ParsePciRequests("a1:1", Aliases(), NumaOverride{"derp", std::nullopt});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("Invalid PCI NUMA affinity configured: derp"));
  auto bad_image = ResolveNumaOverride({std::nullopt, "Required"});
  ASSERT_FALSE(bad_image.ok());
  EXPECT_THAT(bad_image.status().message(), HasSubstr("image"));
  auto none = ResolveNumaOverride({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, std::nullopt);
}

TEST(RequestTest, NumaPolicyNames) {
  for (NumaPolicy p : {NumaPolicy::kLegacy, NumaPolicy::kRequired,
                       NumaPolicy::kPreferred, NumaPolicy::kSocket}) {
    EXPECT_EQ(ParseNumaPolicy(NumaPolicyName(p)), p);
  }
  EXPECT_EQ(ParseNumaPolicy("LEGACY"), std::nullopt);
  EXPECT_EQ(ParseNumaPolicy(""), std::nullopt);
}

}  // namespace
}  // namespace pcipass
