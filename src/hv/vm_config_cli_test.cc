// pcipass vm-config end to end: a real SQLite ledger in a temporary state
// directory, claims written through the Ledger API, the command run through
// the CLI entry point, and the libvirt output checked by libvirt's schema.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>  // environ (_GNU_SOURCE, always on in C++)

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "store/ledger.h"
#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

struct CliRun {
  int rc;
  std::string out;
  std::string err;
};

class VmConfigCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Ledger>> ledger =
        Ledger::OpenSqlite(tree_.Abs("state/ledger.sqlite"));
    ASSERT_TRUE(ledger.ok()) << ledger.status().message();
    ledger_ = std::move(*ledger);
  }

  void AddClaim(const std::string& instance, const char* addr, DeviceType type,
                std::map<std::string, std::optional<std::string>> tags = {},
                const char* state = "allocated") {
    ClaimRecord c;
    c.instance = instance;
    c.address = *PciAddress::Parse(addr);
    c.alias_name = "a1";
    c.request_id = instance + "/0";
    c.dev_type = type;
    c.tags = std::move(tags);
    c.claimed_at_unix = 1;
    c.state = state;
    Status s =
        ledger_->Transact([&](LedgerTxn& txn) { return txn.AddClaim(c); });
    ASSERT_TRUE(s.ok()) << s.message();
  }

  CliRun Run(std::vector<std::string> args) {
    std::vector<std::string> argv = {"pcipass", "--state",
                                     tree_.Abs("state").string(), "vm-config"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<const char*> cargv;
    cargv.reserve(argv.size());
    for (const std::string& a : argv) cargv.push_back(a.c_str());
    std::ostringstream out, err;
    int rc =
        cli::RunCli(static_cast<int>(cargv.size()), cargv.data(), out, err);
    return {rc, out.str(), err.str()};
  }

  testing::FixtureTree tree_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(VmConfigCliTest, QemuArgs) {
  AddClaim("vm-1", "0000:06:00.0", DeviceType::kPci);
  AddClaim("vm-2", "0000:07:00.0", DeviceType::kPci);
  CliRun r = Run({"--instance", "vm-1", "--format", "qemu"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "-device vfio-pci,host=0000:06:00.0,id=hostdev0\n")
      << "only vm-1's device";
  r = Run({"--instance", "vm-1", "--format", "qemu", "--pin",
           "0000:06:00.0=00:05.0"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            "-device vfio-pci,host=0000:06:00.0,id=hostdev0,bus=pcie.0,"
            "addr=0x05.0\n");
}

TEST_F(VmConfigCliTest, LibvirtDomainValidates) {
  AddClaim("vm-1", "0000:81:00.1", DeviceType::kPci, {{"managed", "no"}});
  AddClaim("vm-1", "0000:0a:00.1", DeviceType::kVf,
           {{"physical_network", "physnet1"}});
  CliRun r = Run({"--instance", "vm-1", "--domain-xml", "--vlan",
                  "0000:0a:00.1=100", "--mac", "0000:0a:00.1=52:54:00:12:34:56",
                  "--pin", "0000:81:00.1=00:05.0"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("managed=\"no\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<interface type=\"hostdev\" managed=\"no\">"),
            std::string::npos)
      << "no managed tag: pcipass owns the binding\n"
      << r.out;
  EXPECT_NE(r.out.find("<tag id=\"100\" />"), std::string::npos) << r.out;
  tree_.WriteFile("domain.xml", r.out);
  std::string cmd = "virt-xml-validate '" + tree_.Abs("domain.xml").string() +
                    "' domain 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string log;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) log.append(buf, n);
  int st = pclose(p);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 127)
      << "virt-xml-validate missing: install Debian package libvirt-clients";
  EXPECT_EQ(WEXITSTATUS(st), 0) << log << "\n" << r.out;
}

TEST_F(VmConfigCliTest, ManagedOverride) {
  AddClaim("vm-1", "0000:06:00.0", DeviceType::kPci);
  CliRun r = Run({"--instance", "vm-1", "--managed", "yes"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("managed=\"yes\""), std::string::npos) << r.out;
  r = Run({"--instance", "vm-1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("managed=\"no\""), std::string::npos)
      << "default without a tag: pcipass detached it\n"
      << r.out;
  r = Run({"--instance", "vm-1", "--managed", "maybe"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("maybe"), std::string::npos) << r.err;
}

TEST_F(VmConfigCliTest, Json) {
  AddClaim("vm-1", "0000:0a:00.1", DeviceType::kVf);
  CliRun r = Run({"--instance", "vm-1", "--format", "json", "--interface",
                  "0000:0a:00.1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["devices"][0]["form"], "interface");
  EXPECT_EQ(j["devices"][0]["dev_type"], "type-VF");
  EXPECT_EQ(j["devices"][0]["pci_alias"], "a1");
  EXPECT_TRUE(j["domain_xml"].is_null());
}

TEST_F(VmConfigCliTest, Errors) {
  AddClaim("vm-1", "0000:06:00.0", DeviceType::kPci);
  AddClaim("vm-gone", "0000:08:00.0", DeviceType::kPci, {}, "removed");
  struct Case {
    std::vector<std::string> args;
    int rc;
    const char* want;  // in stderr
  } cases[] = {
      {{"--instance", "vm-9"}, 1, "instance vm-9 holds no devices"},
      {{"--instance", "vm-gone"}, 1, "0000:08:00.0"},
      {{"--instance", "vm-1", "--pin", "0000:06:00.0=00:00.0"},
       2,
       "host bridge"},
      {{"--instance", "vm-1", "--pin", "0000:09:00.0=00:05.0"},
       2,
       "does not hold 0000:09:00.0"},
      {{"--instance", "vm-1", "--mac", "0000:06:00.0=52:54:00:12:34:56"},
       2,
       "only SR-IOV VFs"},
      {{"--instance", "vm-1", "--format", "qemu", "--domain-xml"},
       2,
       "--domain-xml"},
      {{"--instance", "vm-1", "--format", "yaml"}, 2, "yaml"},
      {{"--format", "qemu"}, 2, "instance"},
  };
  for (const Case& c : cases) {
    CliRun r = Run(c.args);
    EXPECT_EQ(r.rc, c.rc) << c.want << "\n" << r.err;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(VmConfigCliNoLedgerTest, MissingLedgerIsNotCreated) {
  testing::FixtureTree tree;
  std::string state = tree.Abs("state").string();
  std::vector<const char*> argv = {"pcipass",   "--state",    state.c_str(),
                                   "vm-config", "--instance", "vm-1"};
  std::ostringstream out, err;
  int rc = cli::RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.str().find("no claims ledger"), std::string::npos) << err.str();
  EXPECT_FALSE(std::filesystem::exists(tree.Abs("state")));
}

}  // namespace
}  // namespace pcipass

namespace pcipass {
namespace {

// pcipass hotplug against a real paused QEMU with one root port. This host
// has no IOMMU, so QEMU must refuse the vfio-pci device_add; the command
// reports QEMU's reason and that nothing was plugged. (The successful
// hot-plug runs in the lab, on a real kernel.)
class HotplugCliTest : public VmConfigCliTest {
 protected:
  void StartQemu() {
    sock_ = tree_.Abs("q.sock").string();
    std::vector<std::string> args = {"qemu-system-x86_64",
                                     "-machine",
                                     "q35",
                                     "-accel",
                                     "tcg",
                                     "-S",
                                     "-nodefaults",
                                     "-display",
                                     "none",
                                     "-m",
                                     "64M",
                                     "-qmp",
                                     "unix:" + sock_ + ",server=on,wait=off",
                                     "-device",
                                     "pcie-root-port,id=rp1,chassis=1"};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(
        posix_spawnp(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0)
        << "install the Debian package qemu-system-x86";
    for (int i = 0; i < 200 && !std::filesystem::exists(sock_); ++i) {
      usleep(50000);
    }
    usleep(200000);
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  CliRun Hotplug(std::vector<std::string> args) {
    std::vector<std::string> argv = {"pcipass", "--state",
                                     tree_.Abs("state").string(), "hotplug"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<const char*> cargv;
    cargv.reserve(argv.size());
    for (const std::string& a : argv) cargv.push_back(a.c_str());
    std::ostringstream out, err;
    int rc =
        cli::RunCli(static_cast<int>(cargv.size()), cargv.data(), out, err);
    return {rc, out.str(), err.str()};
  }
  std::string sock_;
  pid_t pid_ = -1;
};

TEST_F(HotplugCliTest, QemuRefusalIsReported) {
  AddClaim("vm-1", "0000:81:00.1", DeviceType::kPci);
  StartQemu();
  CliRun r = Hotplug({"--instance", "vm-1", "--qmp", sock_, "--bus", "rp1"});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("stopped at 0000:81:00.1; nothing was plugged"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("QMP device_add"), std::string::npos) << r.err;
  r = Hotplug(
      {"--instance", "vm-1", "--qmp", sock_, "--unplug", "--timeout", "300"});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("DeviceNotFound"), std::string::npos) << r.err;
}

TEST_F(HotplugCliTest, NoQemu) {
  AddClaim("vm-1", "0000:81:00.1", DeviceType::kPci);
  CliRun r =
      Hotplug({"--instance", "vm-1", "--qmp", tree_.Abs("none.sock").string()});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  r = Hotplug({"--instance", "vm-2", "--qmp", "x"});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("holds no devices"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pcipass
