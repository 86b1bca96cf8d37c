// End-to-end tests of the claims commands (fit, claim, release, claims,
// history, reconcile, usage) run in-process against a sysfs fixture tree
// and a real SQLite ledger: exit codes, JSON fields, refusals, the
// hand-off rollback, and every bad-input error.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "binding/state.h"
#include "cli/commands.h"
#include "core/sysfs.h"
#include "testing/fixture_tree.h"
#include "testing/sysfs_builder.h"

namespace pcipass::claims {
namespace {

using nlohmann::json;

struct CliRun {
  int code;
  std::string out, err;
};

// Devices: bridge 00:1c.0; NIC 01:00.0 (10d3, eth0 up: host use); NIC
// 02:00.0 (10d3, unbound); PF 03:00.0 (1528) with VFs 03:10.0, 03:10.2
// (10ed); GPU 04:00.0 (10de:20b0) sharing group 7 with its audio function
// 04:00.1, which the rules do not allow.
class ClaimsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SysfsBuilder b(tree_);
    b.AddIommu("dmar0");
    b.AddBridge("0000:00:1c.0", std::nullopt, 1);
    testing::DeviceSpec nic;
    nic.address = "0000:01:00.0";
    nic.driver = "e1000e";
    nic.iommu_group = 2;
    nic.numa_node = 0;
    b.AddDevice(nic);
    testing::NetdevSpec up;
    up.addresses = {"10.0.0.5/24"};
    up.default_route = true;
    b.AddNetdev("0000:01:00.0", "eth0", up);
    nic.address = "0000:02:00.0";
    nic.driver.reset();
    nic.iommu_group = 3;
    b.AddDevice(nic);
    testing::DeviceSpec pf;
    pf.address = "0000:03:00.0";
    pf.device = 0x1528;
    pf.driver = "ixgbe";
    pf.iommu_group = 4;
    pf.numa_node = 0;
    b.AddSriovPf(pf, {});
    for (int i : {0, 2}) {
      testing::DeviceSpec vf;
      vf.address = "0000:03:10." + std::to_string(i);
      vf.device = 0x10ed;
      vf.driver = "ixgbevf";
      vf.iommu_group = 10 + i;
      vf.numa_node = 0;
      b.AddVf("0000:03:00.0", i, vf);
    }
    testing::DeviceSpec gpu;
    gpu.address = "0000:04:00.0";
    gpu.vendor = 0x10de;
    gpu.device = 0x20b0;
    gpu.class_code = 0x030200;
    gpu.driver = "nouveau";
    gpu.iommu_group = 7;
    b.AddDevice(gpu);
    gpu.address = "0000:04:00.1";
    gpu.device = 0x1aef;
    gpu.class_code = 0x040300;
    gpu.driver = "snd_hda_intel";
    b.AddDevice(gpu);
    tree_.WriteFile("sys/devices/system/node/node0/cpulist", "0-3\n");
    tree_.WriteFile("sys/devices/system/cpu/cpu0/topology/physical_package_id",
                    "0\n");
    tree_.WriteFile(
        "etc/pcipass.conf",
        "[pci]\n"
        "device_spec = {\"vendor_id\": \"8086\", \"product_id\": \"10d3\", "
        "\"physical_network\": \"a\"}\n"
        "device_spec = {\"address\": \"0000:03:00.0\", \"product_id\": "
        "\"10ed\"}\n"
        "device_spec = {\"vendor_id\": \"10de\", \"product_id\": \"20b0\"}\n"
        "alias = {\"name\": \"nic\", \"vendor_id\": \"8086\", "
        "\"product_id\": \"10d3\"}\n"
        "alias = {\"name\": \"nic-vf\", \"vendor_id\": \"8086\", "
        "\"product_id\": \"10ed\", \"device_type\": \"type-VF\"}\n"
        "alias = {\"name\": \"gpu\", \"vendor_id\": \"10de\", "
        "\"product_id\": \"20b0\"}\n");
  }

  CliRun Pcipass(std::vector<std::string> args) {
    std::vector<std::string> all = {"pcipass",
                                    "--root",
                                    tree_.root().string(),
                                    "--config",
                                    tree_.Abs("etc/pcipass.conf").string(),
                                    "--state",
                                    tree_.Abs("state").string()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    argv.reserve(all.size());
    for (const std::string& a : all) argv.push_back(a.c_str());
    std::ostringstream out, err;
    int code =
        cli::RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
    return {code, out.str(), err.str()};
  }

  json Json(const CliRun& r) {
    try {
      return json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << r.out << "\nstderr: " << r.err;
      return json();
    }
  }

  testing::FixtureTree tree_;
};

TEST_F(ClaimsCliTest, FitExplainsYesAndNo) {
  CliRun yes = Pcipass({"fit", "--json", "nic:1"});
  ASSERT_EQ(yes.code, 0) << yes.err;
  json j = Json(yes);
  EXPECT_TRUE(j["fits"].get<bool>());
  // 01:00.0 carries the host's eth0: reserved, never offered.
  EXPECT_EQ(j["devices"][0]["address"], "0000:02:00.0");
  EXPECT_EQ(j["devices"][0]["tags"]["physical_network"], "a");

  struct Case {
    const char* request;
    const char* step;
  } cases[] = {
      {"nic:2", "in_use"},   // the second NIC is the host's
      {"gpu:1", "group"},    // its audio function is not allowed
      {"nic-vf:3", "spec"},  // only two VFs
  };
  for (const Case& c : cases) {
    CliRun no = Pcipass({"fit", "--json", c.request});
    EXPECT_EQ(no.code, 1) << c.request;
    json n = Json(no);
    EXPECT_FALSE(n["fits"].get<bool>()) << c.request;
    EXPECT_EQ(n["requests"][0]["failed_step"], c.step) << c.request;
  }
  // fit writes nothing, not even a ledger.
  EXPECT_FALSE(std::filesystem::exists(tree_.Abs("state/ledger.sqlite")));
}

TEST_F(ClaimsCliTest, ClaimListReleaseHistory) {
  CliRun claim = Pcipass(
      {"claim", "--json", "--no-detach", "--instance", "vm-1", "nic-vf:2"});
  ASSERT_EQ(claim.code, 0) << claim.out << claim.err;
  json c = Json(claim);
  EXPECT_TRUE(c["claimed"].get<bool>());
  ASSERT_EQ(c["devices"].size(), 2u);
  EXPECT_EQ(c["devices"][0]["state"], "allocated");
  EXPECT_EQ(c["devices"][0]["parent_addr"], "0000:03:00.0");

  CliRun again =
      Pcipass({"claim", "--no-detach", "--instance", "vm-1", "nic:1"});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already holds 2"), std::string::npos) << again.err;

  CliRun list = Pcipass({"claims", "--json", "--devices"});
  ASSERT_EQ(list.code, 0);
  json l = Json(list);
  EXPECT_EQ(l["claims"].size(), 2u);
  EXPECT_EQ(l["summary"]["allocated"], 2);
  for (const json& d : l["devices"]) {
    if (d["address"] == "0000:03:00.0") {
      EXPECT_EQ(d["state"], "unavailable");  // its VFs are held
    }
    if (d["address"] == "0000:01:00.0") {
      EXPECT_EQ(d["state"], "reserved");  // eth0 is the host's
    }
  }

  CliRun other = Pcipass({"release", "--instance", "vm-2"});
  EXPECT_EQ(other.code, 1);
  CliRun rel = Pcipass({"release", "--json", "--instance", "vm-1"});
  ASSERT_EQ(rel.code, 0) << rel.err;
  EXPECT_EQ(Json(rel)["released"].size(), 2u);

  CliRun hist = Pcipass({"history", "--json", "--device", "0000:03:10.0"});
  ASSERT_EQ(hist.code, 0);
  std::vector<std::string> kinds;
  json events = Json(hist)["events"];
  for (const json& e : events) {
    if (e["kind"] != "state" && e["kind"] != "drift") {
      kinds.push_back(e["kind"]);
    }
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"claim", "release"}));

  CliRun usage = Pcipass({"usage", "--json", "--since", "1h"});
  ASSERT_EQ(usage.code, 0) << usage.err;
  EXPECT_TRUE(Json(usage).contains("by_alias"));
}

TEST_F(ClaimsCliTest, FailedHandOffRollsBackTheClaim) {
  // The fixture is not a kernel: binding to vfio-pci cannot succeed, so the
  // hand-off fails and the claim must leave nothing behind.
  CliRun claim = Pcipass({"claim", "--json", "--instance", "vm-1", "nic:1"});
  EXPECT_EQ(claim.code, 1) << claim.out << claim.err;
  json c = Json(claim);
  EXPECT_FALSE(c["claimed"].get<bool>());
  EXPECT_FALSE(c["error"].is_null());
  CliRun list = Pcipass({"claims", "--json"});
  EXPECT_TRUE(Json(list)["claims"].empty());
  CliRun hist = Pcipass({"history", "--json", "--device", "0000:02:00.0"});
  bool rollback = false;
  json events = Json(hist)["events"];
  for (const json& e : events) {
    rollback = rollback || e["kind"] == "rollback";
  }
  EXPECT_TRUE(rollback);
}

// A claim SIGKILLed in the middle of its hand-off leaves its claims and a
// detach journal (here: killed right after journaling the override step of
// 0000:02:00.0, which was unbound before). `release` must finish that
// journal even without [claims] reattach_on_release (which only concerns
// finished hand-offs); before, it freed the ledger rows and left the
// journal, so the ledger called the device available while the host still
// had a half-done detach. (The fixture is not a kernel: a sysfs write does
// not truncate, so the host side of the rollback is proven in the lab,
// tests/lab/guest/crash-midwrite.sh.)
TEST_F(ClaimsCliTest, ReleaseAfterAKilledClaimRollsBackItsHandOff) {
  ASSERT_EQ(
      Pcipass({"claim", "--no-detach", "--instance", "vm-1", "nic:1"}).code, 0);
  const std::string override_file =
      "sys/bus/pci/devices/0000:02:00.0/driver_override";
  Journal j;
  j.op = "detach";
  j.pid = 999999;
  j.started = "2026-12-06T05:00:00Z";
  JournalDevice d;
  d.record = {*PciAddress::Parse("0000:02:00.0"), std::nullopt, std::nullopt};
  d.step = JournalStep::kOverrideSet;
  j.devices.push_back(d);
  ASSERT_TRUE(WriteJournal(tree_.Abs("state").string(), j).ok());

  CliRun rel = Pcipass({"release", "--json", "--instance", "vm-1"});
  ASSERT_EQ(rel.code, 0) << rel.out << rel.err;
  json r = Json(rel);
  EXPECT_EQ(r["released"].size(), 1u);
  ASSERT_FALSE(r["notes"].empty()) << rel.out;
  EXPECT_NE(r["notes"][0].get<std::string>().find(
                "recovered an unfinished detach (pid 999999"),
            std::string::npos)
      << rel.out;
  EXPECT_FALSE(std::filesystem::exists(tree_.Abs("state/journal.json")));
  EXPECT_EQ(sysfs::ReadText(tree_.Abs(override_file)).value_or("?"), "(null)");
  EXPECT_TRUE(Json(Pcipass({"claims", "--json"}))["claims"].empty());
}

// The same killed claim, then the operator runs the claim again: it is
// refused (the instance holds the claim rows; release first) but the host
// is rolled back before anything is decided.
TEST_F(ClaimsCliTest, ClaimAgainAfterAKilledClaimRecoversTheHostFirst) {
  ASSERT_EQ(
      Pcipass({"claim", "--no-detach", "--instance", "vm-1", "nic:1"}).code, 0);
  const std::string override_file =
      "sys/bus/pci/devices/0000:02:00.0/driver_override";
  Journal j;
  j.op = "detach";
  j.pid = 999999;
  j.started = "2026-12-06T05:00:00Z";
  JournalDevice d;
  d.record = {*PciAddress::Parse("0000:02:00.0"), std::nullopt, std::nullopt};
  d.step = JournalStep::kOverrideSet;
  j.devices.push_back(d);
  ASSERT_TRUE(WriteJournal(tree_.Abs("state").string(), j).ok());

  CliRun again = Pcipass({"claim", "--instance", "vm-1", "nic:1"});
  EXPECT_EQ(again.code, 1) << again.out << again.err;
  EXPECT_NE(again.err.find("release it first"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("recovered an unfinished detach"), std::string::npos)
      << again.err;
  EXPECT_FALSE(std::filesystem::exists(tree_.Abs("state/journal.json")));
  EXPECT_EQ(sysfs::ReadText(tree_.Abs(override_file)).value_or("?"), "(null)");
}

TEST_F(ClaimsCliTest, VanishedWhileHeldIsReportedAndKept) {
  ASSERT_EQ(
      Pcipass({"claim", "--no-detach", "--instance", "vm-1", "nic-vf:1"}).code,
      0);
  tree_.Remove("sys/bus/pci/devices/0000:03:10.0");
  CliRun rec = Pcipass({"reconcile", "--json"});
  ASSERT_EQ(rec.code, 0) << rec.err;
  json d = Json(rec)["drift"];
  ASSERT_EQ(d.size(), 1u) << d.dump();
  EXPECT_EQ(d[0]["kind"], "vanished_while_held");
  json claims = Json(Pcipass({"claims", "--json"}))["claims"];
  EXPECT_EQ(claims[0]["state"], "removed");
  CliRun second = Pcipass({"reconcile"});
  EXPECT_NE(second.out.find("no drift"), std::string::npos) << second.out;
}

// The hand-off commands ask the ledger: a claimed VF is neither given back
// to the host by reattach nor destroyed by a VF-count change.
TEST_F(ClaimsCliTest, HandOffCommandsRespectClaims) {
  CliRun claim = Pcipass(
      {"claim", "--json", "--no-detach", "--instance", "vm-1", "nic-vf:1"});
  ASSERT_EQ(claim.code, 0) << claim.out << claim.err;
  std::string vf = Json(claim)["devices"][0]["address"];

  CliRun sriov =
      Pcipass({"sriov", "0000:03:00.0", "--numvfs", "0", "--dry-run"});
  EXPECT_EQ(sriov.code, 1) << sriov.out << sriov.err;
  EXPECT_NE(sriov.err.find(vf), std::string::npos) << sriov.err;
  EXPECT_NE(sriov.err.find("vm-1"), std::string::npos) << sriov.err;

  CliRun back = Pcipass({"reattach", vf, "--dry-run"});
  EXPECT_EQ(back.code, 1) << back.out << back.err;
  EXPECT_NE(back.err.find("claimed in the ledger: " + vf + " (instance vm-1)"),
            std::string::npos)
      << back.err;
  EXPECT_NE(back.err.find("pcipass release --instance"), std::string::npos);

  CliRun forced =
      Pcipass({"reattach", vf, "--dry-run", "--force", "guest is gone"});
  EXPECT_EQ(forced.code, 0) << forced.out << forced.err;
  EXPECT_NE(forced.err.find("--force \"guest is gone\""), std::string::npos)
      << forced.err;

  // The other VF is free: reattach is not refused for it.
  std::string other = vf == "0000:03:10.0" ? "0000:03:10.2" : "0000:03:10.0";
  EXPECT_EQ(Pcipass({"reattach", other, "--dry-run"}).code, 0);

  // A ledger that cannot be read: the commands refuse, naming the file,
  // because they cannot prove a device is free.
  for (const char* f : {"ledger.sqlite-wal", "ledger.sqlite-shm"}) {
    std::filesystem::remove(tree_.Abs(std::string("state/") + f));
  }
  tree_.WriteFile("state/ledger.sqlite", "not a database\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"reattach", other, "--dry-run"},
        std::vector<std::string>{"sriov", "0000:03:00.0", "--numvfs", "0",
                                 "--dry-run"}}) {
    CliRun bad = Pcipass(args);
    EXPECT_EQ(bad.code, 1) << args[0] << ": " << bad.err;
    EXPECT_NE(bad.err.find("cannot tell which"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("state/ledger.sqlite"), std::string::npos)
        << bad.err;
  }
}

TEST_F(ClaimsCliTest, BadInputsAreClearErrors) {
  struct Case {
    std::vector<std::string> args;
    int code;
    const char* needle;
  } cases[] = {
      {{"fit", "nic:1", "--numa-cells", "0,x"}, 2, "'x'"},
      {{"fit", "nic:1", "--numa-policy", "strict"}, 2, "strict"},
      {{"fit", "nic:1", "--placement", "random"}, 2, "'random'"},
      {{"fit", "nope:1"}, 1, "nope"},
      {{"fit", "nic:0"}, 2, "nic:0"},
      {{"claim", "nic:1"}, 2, "instance"},
      {{"usage", "--since", "yesterday"}, 2, "'yesterday'"},
      {{"usage", "--since", "1h", "--until", "2h"}, 2, "is not after"},
      {{"history", "--device", "0000:zz:00.0"}, 2, "0000:zz:00.0"},
      {{"history", "--since", "2026-13-45"}, 2, "2026-13-45"},
  };
  for (const Case& c : cases) {
    CliRun r = Pcipass(c.args);
    std::string all = r.out + r.err;
    EXPECT_EQ(r.code, c.code) << c.args[0] << " " << c.args[1] << ": " << all;
    EXPECT_NE(all.find(c.needle), std::string::npos)
        << c.args[0] << " " << c.args[1] << ": " << all;
  }
}

TEST_F(ClaimsCliTest, InvalidClaimsSettingsAreRefused) {
  tree_.WriteFile("etc/bad.conf", "[claims]\nplacement = random\n");
  std::vector<std::string> all = {"pcipass",
                                  "--root",
                                  tree_.root().string(),
                                  "--config",
                                  tree_.Abs("etc/bad.conf").string(),
                                  "fit",
                                  "nic:1"};
  std::vector<const char*> argv;
  argv.reserve(all.size());
  for (const std::string& a : all) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = cli::RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.str().find("'random'"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace pcipass::claims
