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

// Before: a missing file was "invalid"; now it is NotFound, flagged, and
// the message says "not found" with the path.
TEST_F(ConfigTest, MissingFileIsNotFoundNotInvalid) {
  ConfigLoad missing = LoadConfig(tree_.Abs("nope.conf"), tree_.host());
  EXPECT_TRUE(missing.not_found);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.errors[0].message(),
              HasSubstr(tree_.Abs("nope.conf").string() + " not found"));
  tree_.WriteFile("there.conf", "[pci]\ndevice_spec = {}\n");
  EXPECT_FALSE(LoadConfig(tree_.Abs("there.conf"), tree_.host()).not_found);
}

// Before: "[PCI]" (or any unknown section) and an empty file were valid
// with 0 entries and no word. Now both warn, naming the nearest section.
TEST_F(ConfigTest, UnknownSectionsAndEmptyConfigWarn) {
  ConfigLoad upper = Parse("[PCI]\ndevice_spec = {\"vendor_id\": \"10de\"}\n");
  EXPECT_TRUE(upper.ok());
  bool named = false;
  for (const std::string& w : upper.warnings) {
    named = named || (w.find("[PCI]") != std::string::npos &&
                      w.find("did you mean [pci]?") != std::string::npos &&
                      w.find("case-sensitive") != std::string::npos);
  }
  EXPECT_TRUE(named) << ::testing::PrintToString(upper.warnings);

  ConfigLoad typo =
      Parse("[clams]\nplacement = pack\n[pci]\ndevice_spec = {}\n");
  ASSERT_EQ(typo.warnings.size(), 1u);
  EXPECT_THAT(typo.warnings[0], HasSubstr("did you mean [claims]?"));

  ConfigLoad other = Parse("[database]\nurl = x\n[pci]\ndevice_spec = {}\n");
  ASSERT_EQ(other.warnings.size(), 1u);
  EXPECT_THAT(other.warnings[0], HasSubstr("known sections: [DEFAULT], [pci]"));

  ConfigLoad empty = Parse("");
  EXPECT_TRUE(empty.ok());
  ASSERT_EQ(empty.warnings.size(), 1u);
  EXPECT_THAT(empty.warnings[0], HasSubstr("no [pci] device_spec entries"));

  // Every known section, with a spec: no warning.
  ConfigLoad known = Parse(
      "[DEFAULT]\n[pci]\ndevice_spec = {}\n[filter_scheduler]\n[host]\n"
      "[claims]\n");
  EXPECT_TRUE(known.warnings.empty())
      << ::testing::PrintToString(known.warnings);
}

// Before: JSON kept the last of two equal keys silently, so a spec could
// select other devices than it seems to. Now an error naming the key.
TEST_F(ConfigTest, DuplicateJsonKeysAreErrors) {
  ConfigLoad spec = Parse(
      "[pci]\ndevice_spec = {\"vendor_id\": \"8086\", \"vendor_id\": "
      "\"10de\"}\n");
  ASSERT_EQ(spec.errors.size(), 1u);
  EXPECT_THAT(spec.errors[0].message(), HasSubstr("p.conf:2"));
  EXPECT_THAT(spec.errors[0].message(),
              HasSubstr("key 'vendor_id' appears twice"));

  ConfigLoad listed = Parse(
      "[pci]\ndevice_spec = [{\"vendor_id\": \"10de\"}, {\"address\": "
      "{\"bus\": \"03\", \"bus\": \"04\"}}]\n");
  ASSERT_EQ(listed.errors.size(), 1u);
  EXPECT_THAT(listed.errors[0].message(), HasSubstr("entry 2"));
  EXPECT_THAT(listed.errors[0].message(), HasSubstr("key 'bus' appears twice"));

  ConfigLoad alias = Parse(
      "[pci]\ndevice_spec = {}\nalias = {\"name\": \"a\", \"name\": \"b\", "
      "\"vendor_id\": \"10de\"}\n");
  ASSERT_EQ(alias.errors.size(), 1u);
  EXPECT_THAT(alias.errors[0].message(), HasSubstr("p.conf:3"));
  EXPECT_THAT(alias.errors[0].message(), HasSubstr("key 'name' appears twice"));

  // Equal keys in different objects are fine.
  ConfigLoad fine = Parse(
      "[pci]\ndevice_spec = [{\"vendor_id\": \"10de\"}, {\"vendor_id\": "
      "\"8086\"}]\n");
  EXPECT_TRUE(fine.ok());
}

}  // namespace
}  // namespace pcipass
