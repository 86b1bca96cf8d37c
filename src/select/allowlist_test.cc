// Row 25 (first matching spec wins, its tags only) and VPD parsing.
#include "select/allowlist.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

std::vector<DeviceSpec> Specs(const testing::FixtureTree& tree,
                              const std::string& list) {
  std::vector<Status> errors;
  auto specs = ParseDeviceSpecValue(list, "t.conf:1", tree.host(), {}, &errors);
  EXPECT_TRUE(errors.empty());
  return specs;
}

PciDevice Dev(uint16_t product) {
  PciDevice d;
  d.address = PciAddress::Parse("0000:0a:00.5").value();
  d.vendor_id = 0x8086;
  d.product_id = product;
  return d;
}

TEST(AllowlistTest, Row25FirstMatchWinsWithItsTagsOnly) {
  testing::FixtureTree tree;
  auto specs = Specs(tree, R"([
      {"product_id": "9999", "physical_network": "z"},
      {"vendor_id": "8086", "physical_network": "a"},
      {"vendor_id": "8086", "physical_network": "b", "trusted": "yes"}])");
  AllowDecision d = DecideAllowed(specs, Dev(0x5057));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.spec_index, 1u);
  EXPECT_EQ(d.tags, (TagMap{{"physical_network", "a"}}));
  EXPECT_TRUE(d.per_spec.empty());

  AllowDecision all = DecideAllowed(specs, Dev(0x5057), {}, true);
  ASSERT_EQ(all.per_spec.size(), 3u);
  EXPECT_EQ(all.spec_index, 1u);
  EXPECT_FALSE(all.per_spec[0].matched);
  EXPECT_EQ(all.per_spec[0].key, "product_id");
  EXPECT_TRUE(all.per_spec[1].matched);
  EXPECT_TRUE(all.per_spec[2].matched);
}

TEST(AllowlistTest, NoSpecsAllowNothing) {
  AllowDecision d = DecideAllowed({}, Dev(1));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.spec_index, std::nullopt);
}

std::string Vpd(const std::string& sn) {
  std::string id = "ConnectX";
  std::string out;
  out += '\x82';
  out += static_cast<char>(id.size());
  out += '\0';
  out += id;
  std::string ro;
  ro += "PN";
  ro += static_cast<char>(3);
  ro += "MCX";
  ro += "SN";
  ro += static_cast<char>(sn.size());
  ro += sn;
  out += '\x90';
  out += static_cast<char>(ro.size());
  out += '\0';
  out += ro;
  out += '\x78';
  return out;
}

TEST(AllowlistTest, VpdSerial) {
  EXPECT_EQ(ParseVpdSerial(Vpd("MT2113X00000")), "MT2113X00000");
  EXPECT_EQ(ParseVpdSerial(Vpd("AB  ")), "AB");
  EXPECT_EQ(ParseVpdSerial(""), std::nullopt);
  EXPECT_EQ(ParseVpdSerial("garbage"), std::nullopt);
  std::string truncated = Vpd("MT2113X00000");
  truncated.resize(truncated.size() - 6);
  EXPECT_EQ(ParseVpdSerial(truncated), std::nullopt);

  testing::FixtureTree tree;
  tree.WriteFile("sys/bus/pci/devices/0000:0a:00.0/vpd", Vpd("SER1"));
  VpdSerialFn fn = SysfsVpdSerial(tree.host());
  EXPECT_EQ(fn(PciAddress::Parse("0000:0a:00.0").value()), "SER1");
  EXPECT_EQ(fn(PciAddress::Parse("0000:0a:00.1").value()), std::nullopt);
}

}  // namespace
}  // namespace pcipass
