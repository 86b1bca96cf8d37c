// pcipass list and show on a fixture host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_test_host.h"

namespace pcipass::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

json Row(const json& list, const std::string& addr) {
  for (const json& d : list["devices"]) {
    if (d["address"] == addr) return d;
  }
  ADD_FAILURE() << "no row " << addr;
  return json();
}

bool HasReason(const json& row, const std::string& code) {
  for (const json& r : row["reasons"]) {
    if (r["code"] == code) return true;
  }
  return false;
}

TEST(CliListTest, JsonHasEveryIssueField) {
  SelectionHost host;
  CliRun r = host.Run({"list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  json j = json::parse(r.out);
  EXPECT_EQ(j["config"], host.config());
  ASSERT_EQ(j["devices"].size(), 6u);
  for (const char* field : {"address",
                            "vendor_id",
                            "product_id",
                            "subsystem_vendor_id",
                            "subsystem_product_id",
                            "class",
                            "class_name",
                            "vendor_name",
                            "product_name",
                            "driver",
                            "driver_override",
                            "iommu_group",
                            "numa_node",
                            "dev_type",
                            "parent_addr",
                            "vfs",
                            "sriov_totalvfs",
                            "sriov_numvfs",
                            "netdevs",
                            "reset_methods",
                            "allowed",
                            "tags",
                            "host_use",
                            "assignable",
                            "reasons"}) {
    for (const json& d : j["devices"]) {
      EXPECT_TRUE(d.contains(field)) << field << " in " << d["address"];
    }
  }
}

TEST(CliListTest, SelectionAndReasons) {
  SelectionHost host;
  json j = json::parse(host.Run({"list", "--json"}).out);
  struct Case {
    const char* address;
    bool allowed;
    bool assignable;
    const char* reason;  // a code that must be present, or ""
  } cases[] = {
      {"0000:00:1c.0", false, false, "bridge"},
      {"0000:01:00.0", true, false, "host_uses_device"},
      {"0000:02:00.0", true, true, ""},
      {"0000:03:00.0", false, false, "not_allowed"},
      {"0000:03:10.0", true, true, ""},
      {"0000:03:10.2", true, true, ""},
  };
  for (const Case& c : cases) {
    json row = Row(j, c.address);
    EXPECT_EQ(row["allowed"], c.allowed) << c.address;
    EXPECT_EQ(row["assignable"], c.assignable) << c.address << row.dump(1);
    if (*c.reason) {
      EXPECT_TRUE(HasReason(row, c.reason)) << c.address;
    }
  }
  json nic = Row(j, "0000:02:00.0");
  EXPECT_EQ(nic["vendor_id"], "8086");
  EXPECT_EQ(nic["product_id"], "10d3");
  EXPECT_EQ(nic["tags"], json({{"physical_network", "a"}}));
  EXPECT_EQ(nic["driver"], nullptr);
  EXPECT_EQ(nic["numa_node"], nullptr);
  EXPECT_EQ(nic["dev_type"], "type-PCI");
  json vf = Row(j, "0000:03:10.2");
  EXPECT_EQ(vf["dev_type"], "type-VF");
  EXPECT_EQ(vf["parent_addr"], "0000:03:00.0");
  EXPECT_EQ(vf["tags"], json({{"trusted", "true"}}));
  json pf = Row(j, "0000:03:00.0");
  EXPECT_EQ(pf["dev_type"], "type-PF");
  EXPECT_EQ(pf["sriov_totalvfs"], 8);
  EXPECT_EQ(pf["sriov_numvfs"], 2);
  EXPECT_EQ(pf["vfs"], json({"0000:03:10.0", "0000:03:10.2"}));
  EXPECT_TRUE(HasReason(pf, "pf_has_vfs"));
  json eth = Row(j, "0000:01:00.0");
  ASSERT_EQ(eth["netdevs"].size(), 1u);
  EXPECT_EQ(eth["netdevs"][0]["name"], "eth0");
  ASSERT_FALSE(eth["host_use"].empty());
}

TEST(CliListTest, WithoutConfigNothingIsAllowedAndListSaysSo) {
  SelectionHost host;
  CliRun r = host.Run({"list", "--json"}, /*with_config=*/false);
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["config"], nullptr);
  for (const json& d : j["devices"]) {
    EXPECT_FALSE(d["allowed"].get<bool>());
    EXPECT_TRUE(HasReason(d, "no_config"));
  }
  CliRun text = host.Run({"list"}, false);
  EXPECT_EQ(text.code, 0);
  EXPECT_THAT(text.err, HasSubstr("no --config given: no device is allowed"));
  EXPECT_THAT(text.out, HasSubstr("no: no_config"));
}

TEST(CliListTest, TableAndFilters) {
  SelectionHost host;
  CliRun r = host.Run({"list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ADDRESS"));
  EXPECT_THAT(r.out, HasSubstr("0000:03:10.2"));
  EXPECT_THAT(r.out, HasSubstr("yes(physical_network=a)"));
  CliRun assignable = host.Run({"list", "--assignable", "--json"});
  json j = json::parse(assignable.out);
  EXPECT_EQ(j["devices"].size(), 3u);
  CliRun allowed = host.Run({"list", "--allowed", "--json"});
  EXPECT_EQ(json::parse(allowed.out)["devices"].size(), 4u);
}

// A device the host uses in two ways has two host_uses_device reasons
// (JSON, explain) but the table names the code once.
TEST(CliListTest, TableNamesEachReasonCodeOnce) {
  testing::FixtureTree tree;
  testing::SysfsBuilder b(tree);
  b.AddIommu("dmar0");
  testing::DeviceSpec nvme;
  nvme.address = "0000:02:00.0";
  nvme.class_code = 0x010802;
  nvme.driver = "nvme";
  nvme.iommu_group = 4;
  b.AddDevice(nvme);
  testing::BlockSpec disk;
  disk.partitions = {"nvme0n1p1", "nvme0n1p2"};
  disk.mounted = {"nvme0n1p1"};
  disk.swap = {"nvme0n1p2"};
  b.AddBlockDevice("0000:02:00.0", "nvme0n1", disk);
  CliRun r = RunPcipass({"--root", tree.root().string(), "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("no: no_config,host_uses_device  "));
  EXPECT_THAT(r.out, Not(HasSubstr("host_uses_device,host_uses_device")));
  CliRun j = RunPcipass({"--root", tree.root().string(), "--json", "list"});
  const json doc = json::parse(j.out);
  int host_use = 0;
  for (const json& reason : doc["devices"][0]["reasons"]) {
    host_use += reason["code"] == "host_uses_device" ? 1 : 0;
  }
  EXPECT_EQ(host_use, 2) << "JSON keeps both reasons";
}

TEST(CliListTest, InvalidConfigIsRefusedWithEveryError) {
  SelectionHost host;
  host.tree().WriteFile("etc/pcipass.conf",
                        "[pci]\ndevice_spec = {\"vendor_id\": \"xyz\"}\n"
                        "alias = {\"name\": \"a\", \"foo\": 1}\n");
  CliRun r = host.Run({"list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("property vendor_id ('xyz')"));
  EXPECT_THAT(r.err, HasSubstr("unknown key 'foo'"));
  CliRun j = host.Run({"list", "--json"});
  EXPECT_EQ(j.code, 1);
  EXPECT_EQ(json::parse(j.out)["error"]["errors"].size(), 2u);
}

TEST(CliShowTest, ShowsOneDevice) {
  SelectionHost host;
  CliRun r = host.Run({"show", "0000:03:10.0", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["address"], "0000:03:10.0");
  EXPECT_EQ(j["iommu_group_members"], json({"0000:03:10.0"}));
  EXPECT_EQ(j["allowed"], true);
  CliRun text = host.Run({"show", "0000:01:00.0"});
  ASSERT_EQ(text.code, 0);
  EXPECT_THAT(text.out, HasSubstr("host_use:"));
  EXPECT_THAT(text.out, HasSubstr("eth0"));
  EXPECT_THAT(text.out, HasSubstr("fix:"));
}

TEST(CliShowTest, Errors) {
  SelectionHost host;
  CliRun missing = host.Run({"show", "0000:09:00.0"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no PCI device 0000:09:00.0"));
  CliRun bad = host.Run({"show", "zz"});
  EXPECT_EQ(bad.code, 2);
  CliRun none = host.Run({"show"});
  EXPECT_EQ(none.code, 2);
}

}  // namespace
}  // namespace pcipass::cli
