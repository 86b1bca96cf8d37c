// pcipass check, run in-process against fixture roots: exit codes, the JSON
// shape, the text output and the summary counts from discovery.
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

struct CheckRun {
  int code = -1;
  std::string out, err;
};

CheckRun Check(const FixtureTree& t, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--root", t.root().string(), "check"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<const char*> argv = {"pcipass"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  CheckRun r;
  r.code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// The lab guest, small: VT-d with interrupt remapping, vfio loaded, an
// e1000e alone in group 7, an NVMe PF with one VF on vfio-pci (groups 9,
// 12), no KVM, no hugepages.
void LabHost(const FixtureTree& t) {
  SysfsBuilder b(t);
  b.AddIommu("dmar0");
  t.WriteFile("sys/firmware/acpi/tables/DMAR", "x");
  t.WriteFile("sys/class/iommu/dmar0/intel-iommu/ecap", "f00f4a");
  DeviceSpec nic;
  nic.address = "0000:01:00.0";
  nic.driver = "e1000e";
  nic.iommu_group = 7;
  b.AddDevice(nic);
  DeviceSpec pf;
  pf.address = "0000:03:00.0";
  pf.vendor = 0x1b36;
  pf.device = 0x0010;
  pf.class_code = 0x010802;
  pf.driver = "nvme";
  pf.iommu_group = 9;
  testing::SriovSpec sriov;
  sriov.totalvfs = 4;
  sriov.vf_device = 0x0010;
  b.AddSriovPf(pf, sriov);
  DeviceSpec vf;
  vf.address = "0000:03:00.1";
  vf.vendor = 0x1b36;
  vf.device = 0x0010;
  vf.class_code = 0x010802;
  vf.driver = "vfio-pci";
  vf.iommu_group = 12;
  b.AddVf("0000:03:00.0", 0, vf);
  for (int g : {7, 9, 12}) b.SetGroupType(g, "DMA");
  t.WriteFile("proc/cmdline", "console=ttyS0 intel_iommu=on");
  t.WriteFile("proc/interrupts",
              " 24:  0  IR-PCI-MSI-0000:01:00.0   0-edge  eth0\n");
  t.WriteFile("proc/sys/kernel/osrelease", "6.1.0-56-amd64");
  t.WriteFile("sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N");
  t.WriteFile("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
              "N");
  t.MakeDir("sys/bus/pci/drivers/vfio-pci");
  t.WriteFile("dev/vfio/vfio", "");
  t.WriteFile("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "0");
}

TEST(CheckCliTest, ReadyHostJson) {
  FixtureTree t;
  LabHost(t);
  CheckRun r = Check(t, {"--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["verdict"], "ready for PCI passthrough (2 warnings)");
  EXPECT_EQ(j["kernel_release"], "6.1.0-56-amd64");
  EXPECT_EQ(j["iommu_vendor"], "intel");
  ASSERT_EQ(j["checks"].size(), 14u);
  for (const json& c : j["checks"]) {
    ASSERT_TRUE(c.contains("id") && c.contains("status") &&
                c.contains("detail") && c.contains("fix"))
        << c.dump();
    if (c["status"] == "pass") {
      EXPECT_TRUE(c["fix"].is_null()) << c.dump();
    } else {
      EXPECT_TRUE(c["fix"].is_string()) << c.dump();
    }
  }
  EXPECT_EQ(j["checks"][0]["id"], "firmware_iommu");
  const json& s = j["summary"];
  ASSERT_TRUE(s.is_object()) << r.out;
  EXPECT_EQ(s["devices"], 3) << s.dump();
  EXPECT_EQ(s["iommu_groups"], 3) << s.dump();
  EXPECT_EQ(s["viable_groups"], 1) << s.dump();  // the VF's group
  EXPECT_EQ(s["noiommu_groups"], 0) << s.dump();
  EXPECT_EQ(s["vfio_devices"], 1) << s.dump();
  EXPECT_EQ(s["sriov_pfs"], 1) << s.dump();
  EXPECT_EQ(s["sriov_vfs"], 1) << s.dump();
  EXPECT_TRUE(j["summary_error"].is_null());
}

TEST(CheckCliTest, ReadyHostText) {
  FixtureTree t;
  LabHost(t);
  CheckRun r = Check(t);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("READY: ready for PCI passthrough", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("pass  iommu_driver"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("warn  kvm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix: echo 1024 > "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("summary: 3 PCI functions, 3 IOMMU groups (1 viable "
                       "now), 1 on vfio-pci, 1 SR-IOV PFs with 1 VFs"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(CheckCliTest, NoIommuHostExitsOneAndSaysWhy) {
  FixtureTree t;
  SysfsBuilder b(t);
  DeviceSpec nic;
  nic.address = "0000:00:03.0";
  nic.driver = "virtio-pci";
  b.AddDevice(nic);
  t.WriteFile("sys/firmware/acpi/tables/APIC", "x");
  t.MakeDir("sys/class/iommu");
  t.MakeDir("sys/kernel/iommu_groups");
  t.WriteFile("proc/cmdline", "console=ttyS0 panic=1");
  t.WriteFile("proc/sys/kernel/osrelease", "6.18.44-fc");
  CheckRun r = Check(t, {"--json"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["ready"], false);
  EXPECT_EQ(j["verdict"].get<std::string>().rfind(
                "PCI passthrough is impossible here because this machine has "
                "no IOMMU",
                0),
            0u)
      << j["verdict"];
  EXPECT_EQ(j["summary"]["devices"], 1);
  EXPECT_EQ(j["summary"]["iommu_groups"], 0);

  CheckRun text = Check(t);
  EXPECT_EQ(text.code, 1);
  EXPECT_EQ(text.out.rfind("NOT READY: PCI passthrough is impossible here", 0),
            0u)
      << text.out;
  EXPECT_NE(text.out.find("fail  firmware_iommu"), std::string::npos);
}

TEST(CheckCliTest, NoPciBusStillChecksAndReportsWhyNoSummary) {
  FixtureTree t;
  t.WriteFile("proc/cmdline", "intel_iommu=on");
  CheckRun r = Check(t, {"--json"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  json j = json::parse(r.out);
  EXPECT_TRUE(j["summary"].is_null());
  ASSERT_TRUE(j["summary_error"].is_string());
  EXPECT_NE(j["summary_error"].get<std::string>().find("bus/pci/devices"),
            std::string::npos)
      << j["summary_error"];
  CheckRun text = Check(t);
  EXPECT_NE(text.out.find("summary: unavailable ("), std::string::npos)
      << text.out;
}

TEST(CheckCliTest, RootNotADirectoryIsUsageError) {
  FixtureTree t;
  t.WriteFile("file", "x");
  std::vector<std::string> roots = {t.Abs("missing").string(),
                                    t.Abs("file").string()};
  for (const std::string& root : roots) {
    std::vector<const char*> argv = {"pcipass", "--root", root.c_str(),
                                     "check"};
    std::ostringstream out, err;
    int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
    EXPECT_EQ(code, 2) << root;
    EXPECT_NE(err.str().find("not a directory"), std::string::npos)
        << root << ": " << err.str();
    EXPECT_TRUE(out.str().empty()) << root;
  }
}

TEST(CheckCliTest, UnknownFlagIsUsageError) {
  FixtureTree t;
  CheckRun r = Check(t, {"--no-such-flag"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
}

}  // namespace
}  // namespace pcipass::cli
