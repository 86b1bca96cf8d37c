#include "core/host_check.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

using testing::FixtureTree;

const char* const kKernel = "6.1.0-56-amd64";
const char* const kIrInterrupts =
    "           CPU0\n"
    "  0:         45   IR-IO-APIC    2-edge      timer\n"
    " 24:          0   IR-PCI-MSI-0000:01:00.0   0-edge      eth0\n";
const char* const kPlainInterrupts =
    "           CPU0       CPU1\n"
    " 24:          1          0  IO-APIC   5-edge      ACPI:Ged\n"
    " 28:          0          0 PCI-MSIX-0000:00:01.0   0-edge  virtio0\n";
const char* const kModulesDep =
    "kernel/drivers/vfio/vfio.ko: kernel/drivers/iommu/iommufd/iommufd.ko\n"
    "kernel/drivers/vfio/vfio_iommu_type1.ko: kernel/drivers/vfio/vfio.ko\n"
    "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/"
    "vfio-pci-core.ko kernel/drivers/vfio/vfio.ko\n"
    "kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko:\n";

// This very machine: a Firecracker VM with ACPI but no IOMMU at all.
void ThisVm(const FixtureTree& t) {
  for (const char* table : {"APIC", "DSDT", "FACP", "MCFG"}) {
    t.WriteFile(std::string("sys/firmware/acpi/tables/") + table, "x");
  }
  t.MakeDir("sys/class/iommu");
  t.MakeDir("sys/kernel/iommu_groups");
  t.MakeDir("sys/bus/pci/drivers/virtio-pci");
  t.WriteFile("proc/cmdline",
              "console=ttyS0 quiet reboot=k panic=1 nomodule -- "
              "--firecracker-init intel_iommu=on");
  t.WriteFile("proc/interrupts", kPlainInterrupts);
  t.WriteFile("proc/sys/kernel/osrelease", "6.18.44-fc-v669");
  t.WriteFile("dev/kvm", "");
  t.WriteFile("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "0");
  t.WriteFile("sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0");
}

// The QEMU lab guest: q35 + emulated VT-d, vfio modules loaded, no KVM,
// no hugepages (see tests/lab).
void LabIntel(const FixtureTree& t) {
  t.WriteFile("sys/firmware/acpi/tables/DMAR", "x");
  t.WriteFile("sys/class/iommu/dmar0/intel-iommu/ecap", "f00f4a");
  t.WriteFile("sys/class/iommu/dmar0/intel-iommu/version", "1:0");
  for (int g = 0; g < 12; ++g) {
    t.WriteFile("sys/kernel/iommu_groups/" + std::to_string(g) + "/type",
                "DMA");
  }
  t.WriteFile("proc/cmdline",
              "console=ttyS0 intel_iommu=on panic=-1 lab.timeout=120");
  t.WriteFile("proc/interrupts", kIrInterrupts);
  t.WriteFile("proc/sys/kernel/osrelease", kKernel);
  t.WriteFile("sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N");
  t.WriteFile("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
              "N");
  t.WriteFile("sys/module/vfio_pci/parameters/enable_sriov", "N");
  t.MakeDir("sys/bus/pci/drivers/vfio-pci");
  t.WriteFile("dev/vfio/vfio", "");
  t.WriteFile(std::string("lib/modules/") + kKernel + "/modules.dep",
              kModulesDep);
  t.WriteFile("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "0");
}

// An AMD host with iommu=pt, KVM and hugepages.
void AmdPt(const FixtureTree& t) {
  LabIntel(t);
  t.Remove("sys/firmware/acpi/tables/DMAR");
  t.WriteFile("sys/firmware/acpi/tables/IVRS", "x");
  t.Remove("sys/class/iommu/dmar0");
  t.MakeDir("sys/class/iommu/ivhd0");
  for (int g = 0; g < 12; ++g) {
    t.WriteFile("sys/kernel/iommu_groups/" + std::to_string(g) + "/type",
                "identity");
  }
  t.WriteFile("proc/cmdline", "root=/dev/sda1 iommu=pt");
  t.WriteFile("dev/kvm", "");
  t.WriteFile("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "512");
}

void VfioUnloaded(const FixtureTree& t) {
  t.Remove("sys/module/vfio");
  t.Remove("sys/module/vfio_iommu_type1");
  t.Remove("sys/module/vfio_pci");
  t.Remove("sys/bus/pci/drivers/vfio-pci");
  t.Remove("dev/vfio");
}

struct Case {
  std::string name;
  std::function<void(const FixtureTree&)> setup;
  bool ready;
  std::map<std::string, CheckState> states;  // checks to assert
  std::vector<std::string> verdict_has;      // substrings of the verdict
  std::vector<std::pair<std::string, std::string>> fix_has;     // id, in fix
  std::vector<std::pair<std::string, std::string>> detail_has;  // id, text
};

using S = CheckState;

std::vector<Case> Cases() {
  return {
      {"this_vm_no_iommu",
       ThisVm,
       false,
       {{"firmware_iommu", S::kFail},
        {"iommu_driver", S::kFail},
        {"iommu_groups", S::kFail},
        {"kernel_cmdline", S::kPass},  // init args after "--" ignored
        {"interrupt_remapping", S::kFail},
        {"vfio", S::kFail},
        {"vfio_pci", S::kFail},
        {"vfio_container", S::kWarn},
        {"kvm", S::kPass},
        {"hugepages", S::kWarn}},
       {"PCI passthrough is impossible here because this machine has no "
        "IOMMU",
        "no DMAR/IVRS/IORT table"},
       {{"firmware_iommu", "intel-iommu,intremap=on"},
        {"vfio_pci", "apt-get install linux-image-$(uname -r)"}},
       {{"firmware_iommu", "no ACPI DMAR, IVRS or IORT table"},
        {"iommu_driver", "class/iommu is empty"},
        {"vfio_pci", "lib/modules/6.18.44-fc-v669 does not exist"}}},
      {"lab_intel_ready",
       LabIntel,
       true,
       {{"firmware_iommu", S::kPass},
        {"iommu_driver", S::kPass},
        {"iommu_groups", S::kPass},
        {"kernel_cmdline", S::kPass},
        {"interrupt_remapping", S::kPass},
        {"vfio", S::kPass},
        {"vfio_pci", S::kPass},
        {"vfio_iommu_type1", S::kPass},
        {"vfio_container", S::kPass},
        {"unsafe_interrupts", S::kPass},
        {"noiommu_mode", S::kPass},
        {"default_domain", S::kPass},
        {"kvm", S::kWarn},
        {"hugepages", S::kWarn}},
       {"ready for PCI passthrough (2 warnings)"},
       {{"hugepages", "hugepages-2048kB/nr_hugepages"}},
       {{"iommu_driver", "dmar0"},
        {"iommu_groups", "12 IOMMU groups"},
        {"kernel_cmdline", "intel_iommu=on"},
        {"firmware_iommu", "Intel VT-d"},
        {"default_domain", "DMA (12 groups)"}}},
      {"amd_iommu_pt",
       AmdPt,
       true,
       {{"firmware_iommu", S::kPass},
        {"iommu_driver", S::kPass},
        {"default_domain", S::kPass},
        {"kvm", S::kPass},
        {"hugepages", S::kPass}},
       {"ready for PCI passthrough"},
       {},
       {{"firmware_iommu", "AMD-Vi"},
        {"kernel_cmdline", "iommu=pt"},
        {"default_domain", "identity = iommu=pt"},
        {"hugepages", "2048kB: 512"}}},
      {"noiommu_mode",
       [](const FixtureTree& t) {
         ThisVm(t);
         t.WriteFile("sys/kernel/iommu_groups/0/name", "vfio-noiommu");
         t.WriteFile("sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
                     "Y");
         t.WriteFile("dev/vfio/vfio", "");
       },
       false,
       {{"iommu_groups", S::kFail},
        {"noiommu_mode", S::kFail},
        {"vfio", S::kPass},
        {"vfio_container", S::kPass}},
       {"impossible here"},
       {{"noiommu_mode", "echo N > "}},
       {{"iommu_groups", "only fake vfio-noiommu groups (1)"}}},
      {"noiommu_group_beside_real_groups",
       [](const FixtureTree& t) {
         LabIntel(t);
         t.WriteFile("sys/kernel/iommu_groups/12/name", "vfio-noiommu");
       },
       true,
       {{"iommu_groups", S::kWarn}},
       {},
       {},
       {{"iommu_groups", "12 IOMMU groups and 1 fake vfio-noiommu"}}},
      {"allow_unsafe_interrupts_with_ir",
       [](const FixtureTree& t) {
         LabIntel(t);
         t.WriteFile(
             "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
             "Y");
       },
       true,
       {{"unsafe_interrupts", S::kWarn}},
       {},
       {{"unsafe_interrupts", "echo N > "}},
       {{"unsafe_interrupts", "allow_unsafe_interrupts=Y"}}},
      {"allow_unsafe_interrupts_without_ir",
       [](const FixtureTree& t) {
         LabIntel(t);
         t.WriteFile("proc/interrupts", kPlainInterrupts);
         t.WriteFile(
             "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
             "Y");
         t.WriteFile(
             "proc/cmdline",
             "intel_iommu=on vfio_iommu_type1.allow_unsafe_interrupts=1");
       },
       false,
       {{"unsafe_interrupts", S::kFail},
        {"interrupt_remapping", S::kFail},
        {"kernel_cmdline", S::kWarn}},
       {"PCI passthrough is not ready: fix interrupt_remapping, "
        "unsafe_interrupts"},
       {},
       {{"unsafe_interrupts", "forge MSIs"},
        {"kernel_cmdline", "allow_unsafe_interrupts lets devices forge"}}},
      {"intremap_off",
       [](const FixtureTree& t) {
         LabIntel(t);
         t.WriteFile("proc/interrupts", kPlainInterrupts);
         t.WriteFile("proc/cmdline", "intel_iommu=on intremap=off");
       },
       false,
       {{"interrupt_remapping", S::kFail}, {"kernel_cmdline", S::kWarn}},
       {"not ready: fix interrupt_remapping"},
       {{"interrupt_remapping", "remove intremap=off/nointremap"}},
       {{"interrupt_remapping", "although the IOMMU supports it"},
        {"kernel_cmdline", "intremap=off disables interrupt remapping"}}},
      {"ir_unsupported_by_hardware",
       [](const FixtureTree& t) {
         LabIntel(t);
         t.WriteFile("proc/interrupts", kPlainInterrupts);
         t.WriteFile("sys/class/iommu/dmar0/intel-iommu/ecap", "f00f42");
       },
       false,
       {{"interrupt_remapping", S::kFail}},
       {},
       {{"interrupt_remapping", "firmware"}},
       {{"interrupt_remapping", "does not support it (ecap bit 3 clear)"}}},
      {"vfio_unloaded_but_available",
       [](const FixtureTree& t) {
         LabIntel(t);
         VfioUnloaded(t);
       },
       true,
       {{"vfio", S::kWarn},
        {"vfio_pci", S::kWarn},
        {"vfio_iommu_type1", S::kWarn},
        {"vfio_container", S::kWarn}},
       {"ready"},
       {{"vfio_pci", "modprobe vfio-pci"},
        {"vfio_iommu_type1", "/etc/modules-load.d/vfio_iommu_type1.conf"}},
       {{"vfio_pci", "not loaded but is installed for kernel 6.1.0-56-amd64"}}},
      {"vfio_builtin",
       [](const FixtureTree& t) {
         LabIntel(t);
         VfioUnloaded(t);
         t.WriteFile(std::string("lib/modules/") + kKernel + "/modules.builtin",
                     "kernel/drivers/vfio/vfio.ko\n"
                     "kernel/drivers/vfio/pci/vfio-pci.ko\n");
       },
       false,
       {{"vfio", S::kPass},
        {"vfio_pci", S::kPass},
        {"vfio_iommu_type1", S::kWarn},
        {"vfio_container", S::kFail}},  // built-in vfio without the node
       {},
       {},
       {{"vfio_pci", "built into kernel"}}},
      {"iommufd_without_container_node",
       [](const FixtureTree& t) {
         LabIntel(t);
         t.Remove("dev/vfio");
         t.WriteFile("dev/iommu", "");
       },
       true,
       {{"vfio_container", S::kPass}},
       {},
       {},
       {{"vfio_container", "(iommufd) exists"}}},
      {"compressed_modules_count_as_installed",
       [](const FixtureTree& t) {
         LabIntel(t);
         VfioUnloaded(t);
         t.WriteFile(std::string("lib/modules/") + kKernel + "/modules.dep",
                     "kernel/drivers/vfio/vfio.ko.xz:\n"
                     "kernel/drivers/vfio/vfio_iommu_type1.ko.zst: x\n"
                     "kernel/drivers/vfio/pci/vfio-pci.ko.gz: x\n");
       },
       true,
       {{"vfio", S::kWarn},
        {"vfio_pci", S::kWarn},
        {"vfio_iommu_type1", S::kWarn}},
       {},
       {},
       {}},
      {"vfio_absent",
       [](const FixtureTree& t) {
         LabIntel(t);
         VfioUnloaded(t);
         t.WriteFile(std::string("lib/modules/") + kKernel + "/modules.dep",
                     "kernel/drivers/net/e1000e.ko:\n");
       },
       false,
       {{"vfio", S::kFail},
        {"vfio_pci", S::kFail},
        {"vfio_iommu_type1", S::kFail}},
       {"not ready: fix vfio, vfio_pci, vfio_iommu_type1"},
       {{"vfio_pci", "CONFIG_VFIO_PCI"}},
       {{"vfio_pci", "not in "}}},
      {"dmar_but_intel_iommu_not_on",
       [](const FixtureTree& t) {
         LabIntel(t);
         t.Remove("sys/class/iommu/dmar0");
         t.Remove("sys/kernel/iommu_groups");
         t.WriteFile("proc/cmdline", "root=/dev/sda1 quiet");
         t.WriteFile("proc/interrupts", kPlainInterrupts);
       },
       false,
       {{"firmware_iommu", S::kPass},
        {"iommu_driver", S::kFail},
        {"iommu_groups", S::kFail},
        {"kernel_cmdline", S::kFail}},
       {"impossible here because the IOMMU is not active"},
       {{"iommu_driver", "add intel_iommu=on"},
        {"kernel_cmdline", "add intel_iommu=on"}},
       {}},
      {"intel_iommu_off",
       [](const FixtureTree& t) {
         LabIntel(t);
         t.Remove("sys/class/iommu/dmar0");
         t.WriteFile("proc/cmdline", "root=/dev/sda1 intel_iommu=off");
       },
       false,
       {{"iommu_driver", S::kFail}, {"kernel_cmdline", S::kFail}},
       {},
       {{"iommu_driver",
         "remove intel_iommu=off from the kernel command "
         "line and add intel_iommu=on"},
        {"kernel_cmdline", "remove intel_iommu=off"}},
       {{"iommu_driver", "(command line has intel_iommu=off)"}}},
      {"acs_override_and_module_dash_names",
       [](const FixtureTree& t) {
         LabIntel(t);
         t.WriteFile("proc/cmdline",
                     "intel_iommu=on pcie_acs_override=downstream,multifunction"
                     " vfio-pci.ids=8086:10d3");
       },
       true,
       {{"kernel_cmdline", S::kWarn}},
       {},
       {},
       {{"kernel_cmdline", "vfio-pci.ids=8086:10d3"},
        {"kernel_cmdline", "pcie_acs_override splits IOMMU groups"}}},
      {"empty_root",
       [](const FixtureTree&) {},
       false,
       {{"firmware_iommu", S::kFail},
        {"kernel_cmdline", S::kWarn},  // unknown is not "pass"
        {"vfio", S::kFail},
        {"hugepages", S::kWarn}},
       {"impossible here"},
       {},
       {{"vfio", "kernel release is unknown"},
        {"kernel_cmdline", "unreadable"}}},
  };
}

TEST(HostCheckTest, Table) {
  for (const Case& c : Cases()) {
    FixtureTree t;
    c.setup(t);
    HostReport r = CheckHost(t.host());
    EXPECT_EQ(r.ready, c.ready) << c.name << ": " << r.verdict;
    std::map<std::string, const HostCheck*> by_id;
    for (const HostCheck& h : r.checks) by_id[h.id] = &h;
    for (const auto& [id, want] : c.states) {
      ASSERT_TRUE(by_id.count(id)) << c.name << ": no check " << id;
      EXPECT_EQ(CheckStateName(by_id[id]->status), CheckStateName(want))
          << c.name << ": " << id << ": " << by_id[id]->detail;
    }
    for (const std::string& s : c.verdict_has) {
      EXPECT_NE(r.verdict.find(s), std::string::npos)
          << c.name << ": verdict '" << r.verdict << "' lacks '" << s << "'";
    }
    for (const auto& [id, s] : c.fix_has) {
      EXPECT_NE(by_id[id]->fix.find(s), std::string::npos)
          << c.name << ": " << id << " fix '" << by_id[id]->fix << "' lacks '"
          << s << "'";
    }
    for (const auto& [id, s] : c.detail_has) {
      EXPECT_NE(by_id[id]->detail.find(s), std::string::npos)
          << c.name << ": " << id << " detail '" << by_id[id]->detail
          << "' lacks '" << s << "'";
    }
    // Every failing or warning check says how to fix it, except the
    // informational default_domain.
    for (const HostCheck& h : r.checks) {
      if (h.status != CheckState::kPass && h.id != "default_domain") {
        EXPECT_FALSE(h.fix.empty()) << c.name << ": " << h.id << " has no fix";
      }
      EXPECT_FALSE(h.detail.empty()) << c.name << ": " << h.id;
    }
  }
}

TEST(HostCheckTest, FixedOrderOfChecks) {
  FixtureTree t;
  LabIntel(t);
  HostReport r = CheckHost(t.host());
  std::vector<std::string> ids;
  for (const HostCheck& h : r.checks) ids.push_back(h.id);
  EXPECT_EQ(ids,
            (std::vector<std::string>{
                "firmware_iommu", "iommu_driver", "iommu_groups",
                "kernel_cmdline", "interrupt_remapping", "vfio", "vfio_pci",
                "vfio_iommu_type1", "vfio_container", "unsafe_interrupts",
                "noiommu_mode", "default_domain", "kvm", "hugepages"}));
  EXPECT_EQ(r.kernel_release, kKernel);
  EXPECT_EQ(r.iommu_vendor, "intel");
}

TEST(HostCheckTest, StateNames) {
  EXPECT_EQ(CheckStateName(CheckState::kPass), "pass");
  EXPECT_EQ(CheckStateName(CheckState::kWarn), "warn");
  EXPECT_EQ(CheckStateName(CheckState::kFail), "fail");
}

TEST(HostCheckTest, SummarizeInventory) {
  PciDevice pf;
  pf.address = *PciAddress::Parse("0000:03:00.0");
  pf.type = DeviceType::kPf;
  pf.driver = "nvme";
  pf.host_use.push_back({"storage", "nvme0n1 mounted on /"});
  PciDevice vf;
  vf.address = *PciAddress::Parse("0000:03:00.1");
  vf.type = DeviceType::kVf;
  vf.driver = "vfio-pci";
  PciDevice nic;
  nic.address = *PciAddress::Parse("0000:01:00.0");
  PciDevice port;  // a root port: counted as a bridge, not as host use
  port.address = *PciAddress::Parse("0000:00:01.0");
  port.class_code = 0x060400;
  port.driver = "pcieport";
  port.host_use.push_back({"bridge", "PCI bridge"});
  std::map<int, IommuGroup> groups;
  auto group = [&groups](int id, std::vector<PciAddress> members, bool viable,
                         bool noiommu) {
    IommuGroup g;
    g.id = id;
    g.members = std::move(members);
    g.viable = viable;
    g.noiommu = noiommu;
    groups[id] = g;
  };
  group(7, {nic.address}, true, false);
  group(9, {pf.address}, false, false);
  group(12, {vf.address}, true, false);
  group(13, {}, false, true);
  Inventory inv({port, nic, pf, vf}, groups, {});
  HostSummary s = SummarizeInventory(inv);
  EXPECT_EQ(s.devices, 4);
  EXPECT_EQ(s.bridges, 1);
  EXPECT_EQ(s.groups, 3);
  EXPECT_EQ(s.viable_groups, 2);
  EXPECT_EQ(s.noiommu_groups, 1);
  EXPECT_EQ(s.vfio_devices, 1);
  EXPECT_EQ(s.pfs, 1);
  EXPECT_EQ(s.vfs, 1);
  EXPECT_EQ(s.host_used, 1);
}

}  // namespace
}  // namespace pcipass
