// pcipass groups, run in-process against fixture roots.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "testing/fixture_tree.h"
#include "testing/sysfs_builder.h"

namespace pcipass::cli {
namespace {

using nlohmann::json;
using testing::DeviceSpec;
using testing::FixtureTree;
using testing::SysfsBuilder;

struct CliResult {
  int code = -1;
  std::string out, err;
};

CliResult Pcipass(const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"pcipass"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  CliResult r;
  r.code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// The lab's topology: e1000e alone in group 7, the PCIe-to-PCI bridge
// group 10 shared by 04:00.0, 05:01.0 (e1000) and 05:02.0 (vfio-pci), an
// NVMe VF on vfio-pci in group 12, and a noiommu group 20.
class GroupsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b_.AddIommu("dmar0");
    b_.AddBridge("0000:00:1e.0", std::nullopt, 9);
    DeviceSpec nic;
    nic.address = "0000:01:00.0";
    nic.driver = "e1000e";
    nic.iommu_group = 7;
    b_.AddDevice(nic);
    b_.AddBridge("0000:04:00.0", "0000:00:1e.0", 10, std::nullopt);
    DeviceSpec a;
    a.address = "0000:05:01.0";
    a.device = 0x100e;
    a.driver = "e1000";
    a.parent = "0000:04:00.0";
    a.iommu_group = 10;
    b_.AddDevice(a);
    a.address = "0000:05:02.0";
    a.driver = "vfio-pci";
    b_.AddDevice(a);
    DeviceSpec vf;
    vf.address = "0000:03:00.1";
    vf.vendor = 0x1b36;
    vf.device = 0x0010;
    vf.class_code = 0x010802;
    vf.driver = "vfio-pci";
    vf.iommu_group = 12;
    b_.AddDevice(vf);
    DeviceSpec edu;
    edu.address = "0000:06:00.0";
    edu.vendor = 0x1234;
    edu.device = 0x11e8;
    edu.class_code = 0x00ff00;
    edu.driver = "vfio-pci";
    edu.iommu_group = 20;
    b_.AddDevice(edu);
    b_.SetGroupName(20, "vfio-noiommu");
    b_.AddReservedRegion(7, "0x000000007b800000 0x000000007fffffff direct");
  }
  std::string Root() const { return tree_.root().string(); }

  FixtureTree tree_;
  SysfsBuilder b_{tree_};
};

TEST_F(GroupsCliTest, JsonHasOneEntryPerGroup) {
  CliResult r = Pcipass({"--root", Root(), "groups", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_TRUE(j["groups"].is_array());
  std::vector<int> ids;
  for (const json& g : j["groups"]) ids.push_back(g["id"].get<int>());
  EXPECT_EQ(ids, (std::vector<int>{7, 9, 10, 12, 20}));

  const json& g7 = j["groups"][0];
  EXPECT_EQ(g7["viable"], false);
  EXPECT_EQ(g7["blockers"], json({"0000:01:00.0 (e1000e)"}));
  EXPECT_EQ(g7["has_direct_region"], true);
  EXPECT_EQ(g7["noiommu"], false);
  EXPECT_EQ(g7["type"], "DMA");
  ASSERT_EQ(g7["members"].size(), 1u);
  EXPECT_EQ(g7["members"][0]["address"], "0000:01:00.0");
  EXPECT_EQ(g7["members"][0]["driver"], "e1000e");
  EXPECT_EQ(g7["members"][0]["vendor_id"], "8086");
  EXPECT_EQ(g7["members"][0]["product_id"], "10d3");
  EXPECT_TRUE(g7["members"][0]["class_name"].is_string());

  const json& g10 = j["groups"][2];
  EXPECT_EQ(g10["viable"], false);
  EXPECT_EQ(g10["blockers"], json({"0000:05:01.0 (e1000)"}));
  ASSERT_EQ(g10["members"].size(), 3u);
  EXPECT_EQ(g10["members"][0]["address"], "0000:04:00.0");
  EXPECT_TRUE(g10["members"][0]["driver"].is_null());  // bridge, no driver

  EXPECT_EQ(j["groups"][3]["viable"], true);
  EXPECT_EQ(j["groups"][3]["blockers"], json::array());
  EXPECT_EQ(j["groups"][4]["noiommu"], true);
}

TEST_F(GroupsCliTest, NonViableFilter) {
  CliResult r = Pcipass({"--root", Root(), "groups", "--non-viable", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  std::vector<int> ids;
  for (const json& g : j["groups"]) ids.push_back(g["id"].get<int>());
  EXPECT_EQ(ids, (std::vector<int>{7, 10}));
}

TEST_F(GroupsCliTest, TextTableNamesBlockers) {
  CliResult r = Pcipass({"--root", Root(), "groups"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("GROUP"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0000:05:01.0 (e1000)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("firmware direct-mapped region (RMRR)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("UNSAFE (noiommu)"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(GroupsCliErrors, MissingSysfsIsAnErrorWithThePath) {
  FixtureTree tree;
  CliResult r = Pcipass({"--root", tree.root().string(), "groups", "--json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("sys/bus/pci/devices"), std::string::npos)
      << r.out << r.err;
  CliResult t = Pcipass({"--root", tree.root().string(), "groups"});
  EXPECT_EQ(t.code, 1);
  EXPECT_NE(t.err.find("sys/bus/pci/devices"), std::string::npos) << t.err;
}

TEST(GroupsCliErrors, NoGroupsSaysWhyOnStderr) {
  FixtureTree tree;
  SysfsBuilder b(tree);
  DeviceSpec d;
  d.address = "0000:01:00.0";
  b.AddDevice(d);
  CliResult r = Pcipass({"--root", tree.root().string(), "groups"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("no IOMMU groups"), std::string::npos) << r.err;
  CliResult j = Pcipass({"--root", tree.root().string(), "groups", "--json"});
  EXPECT_EQ(json::parse(j.out)["groups"], json::array());
}

TEST(GroupsCliErrors, UnknownFlagIsUsageError) {
  CliResult r = Pcipass({"groups", "--bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
}

TEST(CliVersion, TextAndJson) {
  CliResult t = Pcipass({"version"});
  EXPECT_EQ(t.code, 0);
  EXPECT_EQ(t.out.rfind("pcipass ", 0), 0u) << t.out;
  CliResult j = Pcipass({"--json", "version"});
  EXPECT_EQ(j.code, 0);
  EXPECT_TRUE(json::parse(j.out)["version"].is_string()) << j.out;
}

TEST(CliErrors, UnknownCommandNamesItAndListsCommands) {
  CliResult r = Pcipass({"--root", "/nonexistent", "lsit", "--json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command 'lsit'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" list"), std::string::npos) << r.err;
  CliResult none = Pcipass({"--json"});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("no command given; commands are:"), std::string::npos)
      << none.err;
}

}  // namespace
}  // namespace pcipass::cli
