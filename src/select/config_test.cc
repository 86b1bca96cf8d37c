#include "select/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  ConfigLoad Parse(const std::string& text) {
    return ParseConfig(text, "p.conf", tree_.host());
  }
  testing::FixtureTree tree_;
};

TEST_F(ConfigTest, FullConfig) {
  ConfigLoad load = Parse(R"([DEFAULT]
pci_passthrough_whitelist = {"vendor_id": "1af4"}
[pci]
device_spec = [{"vendor_id": "8086", "product_id": "10d3"},
  {"address": "0000:00:05.0", "x-slot": "a"}]
passthrough_whitelist = {"vendor_id": "1b36"}
alias = {"name": "nic", "vendor_id": "8086", "product_id": "10d3"}
report_in_placement = False
extra_tags = rack, row
[host]
vfio = 0000:01:00.0
)");
  for (const Status& e : load.errors) ADD_FAILURE() << e.message();
  ASSERT_TRUE(load.ok());
  const Config& c = load.config;
  ASSERT_EQ(c.device_specs.size(), 4u);
  // In config-line order across old and new names.
  EXPECT_EQ(c.device_specs[0].vendor_id(), 0x1af4);
  EXPECT_EQ(c.device_specs[1].vendor_id(), 0x8086);
  EXPECT_EQ(c.device_specs[2].where(), "p.conf:4 entry 2");
  EXPECT_EQ(c.device_specs[3].vendor_id(), 0x1b36);
  EXPECT_NE(c.aliases.Find("nic"), nullptr);
  EXPECT_EQ(c.extra_tags, (std::set<std::string>{"rack", "row"}));
  EXPECT_EQ(load.warnings.size(), 2u);  // two deprecated names
  EXPECT_EQ(c.ini.Get("host", "vfio"), "0000:01:00.0");
}

TEST_F(ConfigTest, CollectsEveryError) {
  ConfigLoad load = Parse(R"([pci]
device_spec = {"vendor_id": "xyz"}
device_spec = {"address": "0000:0a:00.8"}
alias = {"name": "a", "foo": 1}
whitelist = {}
report_in_placement = maybe
)");
  ASSERT_EQ(load.errors.size(), 5u);
  std::string all;
  for (const Status& e : load.errors) all += e.message() + "\n";
  EXPECT_THAT(all, HasSubstr("p.conf:2: Invalid [pci]device_spec config: "
                             "property vendor_id ('xyz')"));
  EXPECT_THAT(all, HasSubstr("p.conf:3: Invalid [pci]device_spec config: "
                             "property func (8)"));
  EXPECT_THAT(all, HasSubstr("p.conf:4: unknown key 'foo'"));
  EXPECT_THAT(all, HasSubstr("p.conf:5: unknown key 'whitelist' in [pci]; "
                             "accepted keys: device_spec, "
                             "passthrough_whitelist, alias"));
  EXPECT_THAT(all, HasSubstr("p.conf:6: [pci]report_in_placement is 'maybe'"));
}

TEST_F(ConfigTest, ReportInPlacementEnablesOneTimeUse) {
  ConfigLoad off = Parse("[pci]\ndevice_spec = {\"one_time_use\": true}\n");
  ASSERT_EQ(off.errors.size(), 1u);
  ConfigLoad on = Parse(
      "[pci]\nreport_in_placement = true\n"
      "device_spec = {\"one_time_use\": true}\n");
  EXPECT_TRUE(on.ok());
}

TEST_F(ConfigTest, ExtraTagsAllowCustomTags) {
  EXPECT_FALSE(Parse("[pci]\ndevice_spec = {\"rack\": \"r1\"}\n").ok());
  EXPECT_TRUE(Parse("[pci]\nextra_tags = rack\n"
                    "device_spec = {\"rack\": \"r1\"}\n")
                  .ok());
}

TEST_F(ConfigTest, PciInPlacementRelaxesAliasCheck) {
  std::string alias = "alias = {\"name\": \"g\", \"resource_class\": \"X\"}\n";
  EXPECT_FALSE(Parse("[pci]\n" + alias).ok());
  EXPECT_TRUE(
      Parse("[filter_scheduler]\npci_in_placement = true\n[pci]\n" + alias)
          .ok());
}

TEST_F(ConfigTest, UnresolvedDevnameWarns) {
  ConfigLoad load = Parse("[pci]\ndevice_spec = {\"devname\": \"eth9\"}\n");
  EXPECT_TRUE(load.ok());
  ASSERT_EQ(load.warnings.size(), 1u);
  EXPECT_THAT(load.warnings[0], HasSubstr("devname 'eth9'"));
}

TEST_F(ConfigTest, LoadErrors) {
  ConfigLoad missing = LoadConfig(tree_.Abs("nope.conf"), tree_.host());
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_THAT(missing.errors[0].message(), HasSubstr("nope.conf"));
  tree_.WriteFile("bad.conf", "device_spec = {}\n");
  ConfigLoad bad = LoadConfig(tree_.Abs("bad.conf"), tree_.host());
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_THAT(bad.errors[0].message(), HasSubstr("bad.conf:1"));
  tree_.WriteFile("good.conf", "[pci]\ndevice_spec = {}\n");
  ConfigLoad good = LoadConfig(tree_.Abs("good.conf"), tree_.host());
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(good.config.device_specs.size(), 1u);
}

}  // namespace
}  // namespace pcipass
