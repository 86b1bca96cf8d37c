// A small fixture host for the selection CLI tests (list, show, explain,
// config check), and a helper to run the pcipass CLI in-process.
#ifndef PCIPASS_CLI_CLI_TEST_HOST_H_
#define PCIPASS_CLI_CLI_TEST_HOST_H_

#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "testing/fixture_tree.h"
#include "testing/sysfs_builder.h"

namespace pcipass::cli {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

inline CliRun RunPcipass(const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"pcipass"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  CliRun r;
  r.code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Devices:
//   0000:00:1c.0 bridge (pcieport), group 1
//   0000:01:00.0 8086:10d3 e1000e, eth0 up with 10.0.0.5/24 + default
//                route (host use), group 2
//   0000:02:00.0 8086:10d3 unbound, group 3
//   0000:03:00.0 8086:1528 ixgbe PF, 2 of 8 VFs enabled, group 4
//   0000:03:10.0, 0000:03:10.2 8086:10ed VFs (iavf), groups 5 and 6
// Config etc/pcipass.conf: the 10d3 NICs with physical_network "a", and
// the VFs of the PF (PF address + VF product id); aliases "nic" (10d3)
// and "nic-vf" (10ed, type-VF).
class SelectionHost {
 public:
  SelectionHost() : builder_(tree_) {
    builder_.AddIommu("dmar0");
    builder_.AddBridge("0000:00:1c.0", std::nullopt, 1);
    testing::DeviceSpec nic;
    nic.address = "0000:01:00.0";
    nic.driver = "e1000e";
    nic.iommu_group = 2;
    nic.parent = "0000:00:1c.0";
    builder_.AddDevice(nic);
    testing::NetdevSpec up;
    up.addresses = {"10.0.0.5/24"};
    up.default_route = true;
    builder_.AddNetdev("0000:01:00.0", "eth0", up);
    testing::DeviceSpec free_nic;
    free_nic.address = "0000:02:00.0";
    free_nic.iommu_group = 3;
    builder_.AddDevice(free_nic);
    testing::DeviceSpec pf;
    pf.address = "0000:03:00.0";
    pf.device = 0x1528;
    pf.driver = "ixgbe";
    pf.iommu_group = 4;
    pf.numa_node = 0;
    testing::SriovSpec sriov;
    sriov.totalvfs = 8;
    sriov.vf_device = 0x10ed;
    builder_.AddSriovPf(pf, sriov);
    testing::DeviceSpec vf;
    vf.device = 0x10ed;
    vf.driver = "iavf";
    vf.address = "0000:03:10.0";
    vf.iommu_group = 5;
    builder_.AddVf("0000:03:00.0", 0, vf);
    vf.address = "0000:03:10.2";
    vf.iommu_group = 6;
    builder_.AddVf("0000:03:00.0", 1, vf);
    tree_.WriteFile("etc/pcipass.conf", R"([pci]
device_spec = {"vendor_id": "8086", "product_id": "10d3",
  "physical_network": "a"}
device_spec = {"address": "0000:03:00.0", "product_id": "10ed",
  "trusted": "yes"}
alias = {"name": "nic", "vendor_id": "8086", "product_id": "10d3"}
alias = {"name": "nic-vf", "vendor_id": "8086", "product_id": "10ed",
  "device_type": "type-VF"}
)");
  }

  std::string root() const { return tree_.root().string(); }
  std::string config() const { return tree_.Abs("etc/pcipass.conf").string(); }
  const testing::FixtureTree& tree() const { return tree_; }
  testing::SysfsBuilder& builder() { return builder_; }

  // pcipass --root R [--config C] ARGS...
  CliRun Run(const std::vector<std::string>& args, bool with_config = true) {
    std::vector<std::string> all = {"--root", root()};
    if (with_config) {
      all.push_back("--config");
      all.push_back(config());
    }
    all.insert(all.end(), args.begin(), args.end());
    return RunPcipass(all);
  }

 private:
  testing::FixtureTree tree_;
  testing::SysfsBuilder builder_;
};

}  // namespace pcipass::cli

#endif  // PCIPASS_CLI_CLI_TEST_HOST_H_
