// pcipass explain and pcipass config check on a fixture host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_test_host.h"

namespace pcipass::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(CliExplainTest, PerSpecVerdictsAliasesAndReasons) {
  SelectionHost host;
  CliRun r = host.Run({"explain", "0000:03:10.0", "--json"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  json j = json::parse(r.out);
  EXPECT_EQ(j["allowed"], true);
  EXPECT_EQ(j["spec_index"], 1);
  ASSERT_EQ(j["specs"].size(), 2u);
  EXPECT_EQ(j["specs"][0]["matched"], false);
  EXPECT_EQ(j["specs"][0]["failed_key"], "product_id");
  EXPECT_EQ(j["specs"][1]["selected"], true);
  ASSERT_EQ(j["aliases"].size(), 2u);
  for (const json& a : j["aliases"]) {
    EXPECT_EQ(a["satisfied"], a["name"] == "nic-vf") << a.dump();
  }
}

TEST(CliExplainTest, TextNamesTheFailingKeyAndTheFix) {
  SelectionHost host;
  CliRun r = host.Run({"explain", "0000:03:00.0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("no match: product_id: device product_id 1528 "
                               "is not the spec's 10d3"));
  EXPECT_THAT(r.out, HasSubstr("not_allowed"));
  EXPECT_THAT(r.out, HasSubstr("pf_has_vfs"));
  EXPECT_THAT(r.out, HasSubstr("fix: pcipass sriov 0000:03:00.0 --numvfs 0"));
  CliRun used = host.Run({"explain", "0000:01:00.0"});
  EXPECT_EQ(used.code, 1);
  EXPECT_THAT(used.out, HasSubstr("MATCH: selects the device with tags"));
  EXPECT_THAT(used.out, HasSubstr("host_uses_device"));
}

TEST(CliExplainTest, AliasFlag) {
  SelectionHost host;
  CliRun yes = host.Run({"explain", "0000:02:00.0", "--alias", "nic"});
  EXPECT_EQ(yes.code, 0) << yes.out << yes.err;
  EXPECT_THAT(yes.out, HasSubstr("nic: satisfied"));
  CliRun no = host.Run({"explain", "0000:02:00.0", "--alias", "nic-vf"});
  EXPECT_EQ(no.code, 1);
  EXPECT_THAT(no.out,
              HasSubstr("dev_type type-PCI is not the alias's type-VF"));
  CliRun unknown = host.Run({"explain", "0000:02:00.0", "--alias", "gpu"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("PCI alias gpu is not defined"));
}

TEST(CliExplainTest, WithoutConfig) {
  SelectionHost host;
  CliRun r = host.Run({"explain", "0000:02:00.0"}, false);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("no --config given"));
  EXPECT_THAT(r.out, HasSubstr("no_config"));
}

TEST(CliConfigCheckTest, ValidConfig) {
  SelectionHost host;
  CliRun r = host.Run({"config", "check"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("valid: 2 device_spec entries, 2 aliases"));
  CliRun j = host.Run({"config", "check", "--json"});
  EXPECT_EQ(j.code, 0);
  json doc = json::parse(j.out);
  EXPECT_EQ(doc["valid"], true);
  EXPECT_EQ(doc["aliases"], json({"nic", "nic-vf"}));
}

TEST(CliConfigCheckTest, EveryErrorExit1) {
  SelectionHost host;
  host.tree().WriteFile("etc/bad.conf", R"([pci]
device_spec = {"address": "0000:0a:00.8"}
device_spec = [{"vendor_id": 8086}, {"physnet": "x"}]
alias = {"name": "a", "vendor_id": "8086", "product_id": "1111",
  "numa_policy": "derp"}
colour = blue
)");
  std::string path = host.tree().Abs("etc/bad.conf").string();
  CliRun r = RunPcipass({"--root", host.root(), "config", "check", path});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("INVALID, 5 errors"));
  EXPECT_THAT(r.out, HasSubstr("bad.conf:2: Invalid [pci]device_spec config: "
                               "property func (8) is greater than the maximum "
                               "allowable value (7)."));
  EXPECT_THAT(r.out, HasSubstr("bad.conf:3 entry 1"));
  EXPECT_THAT(r.out, HasSubstr("unknown key 'physnet'"));
  EXPECT_THAT(r.out, HasSubstr("key 'numa_policy' is 'derp'"));
  EXPECT_THAT(r.out, HasSubstr("bad.conf:6: unknown key 'colour' in [pci]"));
  CliRun j =
      RunPcipass({"--root", host.root(), "--json", "config", "check", path});
  EXPECT_EQ(j.code, 1);
  json doc = json::parse(j.out);
  EXPECT_EQ(doc["valid"], false);
  EXPECT_EQ(doc["errors"].size(), 5u);
}

// [host] (read by apply, possibly at boot) and [claims] are checked too.
TEST(CliConfigCheckTest, HostAndClaimsSections) {
  SelectionHost host;
  host.tree().WriteFile("etc/ok.conf", R"([pci]
device_spec = {"vendor_id": "8086"}
[host]
vfio = 0000:0a:00.*
sriov_numvfs = 0000:0a:00.0=4
[claims]
placement = spread
)");
  std::string ok = host.tree().Abs("etc/ok.conf").string();
  CliRun r = RunPcipass({"--root", host.root(), "config", "check", ok});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("[host]: 1 vfio selector, 1 sriov target"));

  host.tree().WriteFile("etc/bad.conf", R"([pci]
device_spec = {"vendor_id": "8086"}
[host]
sriov_numvfs = 0000:0a:00.0=lots
[claims]
placement = scatter
)");
  std::string bad = host.tree().Abs("etc/bad.conf").string();
  r = RunPcipass({"--root", host.root(), "config", "check", bad});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("INVALID, 2 errors"));
  EXPECT_THAT(r.out, HasSubstr("bad.conf:4: [host] sriov_numvfs"));
  EXPECT_THAT(r.out, HasSubstr("lots"));
  EXPECT_THAT(r.out, HasSubstr("bad.conf:6: [claims] placement = 'scatter'"));
  EXPECT_THAT(r.out, HasSubstr("scatter"));
  CliRun j =
      RunPcipass({"--root", host.root(), "--json", "config", "check", bad});
  EXPECT_EQ(json::parse(j.out)["errors"].size(), 2u);
}

TEST(CliConfigCheckTest, UsageErrors) {
  SelectionHost host;
  CliRun none = RunPcipass({"--root", host.root(), "config", "check"});
  EXPECT_EQ(none.code, 2);
  EXPECT_THAT(none.err, HasSubstr("config check needs a file"));
  CliRun missing = RunPcipass({"config", "check", "/nonexistent/p.conf"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.out, HasSubstr("/nonexistent/p.conf"));
  CliRun bare = RunPcipass({"config"});
  EXPECT_EQ(bare.code, 2);
}

}  // namespace
}  // namespace pcipass::cli
