#include "core/host_check.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <sstream>

#include "core/kernel_module.h"
#include "core/sysfs.h"

namespace pcipass {

namespace {

namespace fs = std::filesystem;

// Everything the checks look at, read once.
struct Facts {
  // Firmware tables present (sys/firmware/acpi/tables).
  bool dmar = false, ivrs = false, iort = false;
  std::vector<std::string> iommu_units;  // sys/class/iommu entries
  int real_groups = 0;
  int noiommu_groups = 0;
  std::map<std::string, int> group_types;  // "DMA" -> count
  // Kernel command line tokens that matter (in order), and a few flags.
  std::vector<std::string> cmdline_seen;
  std::map<std::string, std::string> cmdline;  // key -> value ("" if none)
  bool cmdline_read = false;
  bool ir_chips = false;  // "IR-" interrupt chips in proc/interrupts
  bool interrupts_read = false;
  std::optional<bool> ecap_ir;  // Intel: some dmar unit has ecap bit 3
  std::string kernel_release;
};

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> ListOrEmpty(const fs::path& dir) {
  auto r = sysfs::ListDir(dir);
  return r.ok() ? std::move(r).value() : std::vector<std::string>{};
}

// "Y"/"1" -> true, "N"/"0" -> false (module booleans read Y/N).
std::optional<bool> ReadBool(const fs::path& path) {
  auto v = sysfs::ReadOptional(path);
  if (!v || v->empty()) return std::nullopt;
  char c = (*v)[0];
  if (c == 'Y' || c == 'y' || c == '1') return true;
  if (c == 'N' || c == 'n' || c == '0') return false;
  return std::nullopt;
}

// Module parameter names on the command line may use '-' or '_' in the
// module part ("vfio-pci.ids" == "vfio_pci.ids").
std::string NormaliseKey(std::string key) {
  size_t dot = key.find('.');
  for (size_t i = 0; i < key.size() && i < dot; ++i) {
    if (key[i] == '-') key[i] = '_';
  }
  return key;
}

bool Relevant(const std::string& key, const std::string& value) {
  static const char* const kKeys[] = {
      "intel_iommu",
      "amd_iommu",
      "iommu",
      "iommu.passthrough",
      "iommu.strict",
      "intremap",
      "nointremap",
      "vfio_iommu_type1.allow_unsafe_interrupts",
      "iommufd.allow_unsafe_interrupts",
      "vfio.enable_unsafe_noiommu_mode",
      "vfio_pci.ids",
      "pcie_acs_override"};
  for (const char* k : kKeys) {
    if (key == k) return true;
  }
  return key == "pci" && value.find("acs") != std::string::npos;
}

Facts Gather(const HostRoot& host) {
  Facts f;
  fs::path tables = host.Sys("firmware/acpi/tables");
  f.dmar = sysfs::Exists(tables / "DMAR");
  f.ivrs = sysfs::Exists(tables / "IVRS");
  f.iort = sysfs::Exists(tables / "IORT");
  f.iommu_units = ListOrEmpty(host.ClassDir("iommu"));

  for (const std::string& g : ListOrEmpty(host.IommuGroupsDir())) {
    if (!IsDigits(g)) continue;
    fs::path dir = host.IommuGroupsDir() / g;
    if (sysfs::ReadOptional(dir / "name").value_or("") == "vfio-noiommu") {
      ++f.noiommu_groups;
      continue;
    }
    ++f.real_groups;
    if (auto t = sysfs::ReadOptional(dir / "type")) ++f.group_types[*t];
  }

  if (auto cmd = sysfs::ReadOptional(host.Proc("cmdline"))) {
    f.cmdline_read = true;
    std::istringstream in(*cmd);
    std::string tok;
    while (in >> tok) {
      if (tok == "--") break;  // the rest belongs to init
      size_t eq = tok.find('=');
      std::string key = NormaliseKey(tok.substr(0, eq));
      std::string value = eq == std::string::npos ? "" : tok.substr(eq + 1);
      if (!Relevant(key, value)) continue;
      f.cmdline[key] = value;
      f.cmdline_seen.push_back(tok);
    }
  }

  if (auto irq = sysfs::ReadOptional(host.Proc("interrupts"),
                                     sysfs::kMaxHostTableBytes)) {
    f.interrupts_read = true;
    f.ir_chips = irq->find(" IR-") != std::string::npos;
  }
  for (const std::string& unit : f.iommu_units) {
    auto ecap = sysfs::ReadOptional(host.ClassDir("iommu") / unit /
                                    "intel-iommu" / "ecap");
    if (!ecap) continue;
    auto bits = sysfs::ParseHex(*ecap);
    if (!bits) continue;
    bool ir = (*bits & 0x8u) != 0;  // ECAP.IR: interrupt remapping support
    f.ecap_ir = f.ecap_ir.value_or(false) || ir;
  }
  f.kernel_release =
      sysfs::ReadOptional(host.Proc("sys/kernel/osrelease")).value_or("");
  return f;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

bool CmdHas(const Facts& f, const std::string& key, const std::string& value) {
  auto it = f.cmdline.find(key);
  return it != f.cmdline.end() && it->second == value;
}

// Which IOMMU-disabling options are on the command line ("intel_iommu=off").
std::vector<std::string> OffTokens(const Facts& f) {
  std::vector<std::string> off;
  if (CmdHas(f, "intel_iommu", "off")) off.push_back("intel_iommu=off");
  if (CmdHas(f, "amd_iommu", "off")) off.push_back("amd_iommu=off");
  if (CmdHas(f, "iommu", "off")) off.push_back("iommu=off");
  return off;
}

constexpr std::string_view kGrubHow =
    " (Debian: edit GRUB_CMDLINE_LINUX in /etc/default/grub, run "
    "update-grub, reboot)";

HostCheck ModuleCheck(const std::string& id, const ModuleStatus& m,
                      const std::string& modprobe_name) {
  HostCheck c{id, CheckState::kPass, m.detail, ""};
  switch (m.state) {
    case ModuleState::kLoaded:
    case ModuleState::kBuiltin:
      break;
    case ModuleState::kAvailable:
      c.status = CheckState::kWarn;
      c.fix = "modprobe " + modprobe_name +
              " (pcipass detach loads it when needed); to load it at boot: "
              "echo " +
              modprobe_name + " > /etc/modules-load.d/" + modprobe_name +
              ".conf";
      break;
    case ModuleState::kAbsent:
      c.status = CheckState::kFail;
      c.fix =
          "install the modules of the running kernel (Debian: apt-get "
          "install linux-image-$(uname -r)) or boot a kernel built with "
          "the VFIO options (CONFIG_VFIO, CONFIG_VFIO_PCI, "
          "CONFIG_VFIO_IOMMU_TYPE1); then modprobe " +
          modprobe_name;
      break;
  }
  return c;
}

}  // namespace

std::string_view CheckStateName(CheckState state) {
  switch (state) {
    case CheckState::kPass:
      return "pass";
    case CheckState::kWarn:
      return "warn";
    case CheckState::kFail:
      return "fail";
  }
  return "fail";
}

HostReport CheckHost(const HostRoot& host) {
  const Facts f = Gather(host);
  HostReport r;
  r.kernel_release = f.kernel_release;
  r.iommu_vendor = f.dmar ? "intel" : f.ivrs ? "amd" : f.iort ? "arm" : "";
  const bool iommu_on = !f.iommu_units.empty();
  const bool has_table = f.dmar || f.ivrs || f.iort;
  const std::vector<std::string> off = OffTokens(f);
  auto add = [&r](std::string id, CheckState s, std::string detail,
                  std::string fix = "") {
    r.checks.push_back({std::move(id), s, std::move(detail), std::move(fix)});
  };
  const std::string tables = host.Sys("firmware/acpi/tables").string();
  const std::string class_iommu = host.ClassDir("iommu").string();

  // --- firmware_iommu
  if (has_table) {
    add("firmware_iommu", CheckState::kPass,
        std::string(f.dmar   ? "ACPI DMAR table present (Intel VT-d)"
                    : f.ivrs ? "ACPI IVRS table present (AMD-Vi)"
                             : "ACPI IORT table present (ARM SMMU)") +
            " in " + tables);
  } else if (iommu_on) {
    add("firmware_iommu", CheckState::kWarn,
        "no ACPI DMAR, IVRS or IORT table in " + tables +
            ", but an IOMMU driver is active (" + Join(f.iommu_units, ", ") +
            "; device-tree platform?)");
  } else {
    add("firmware_iommu", CheckState::kFail,
        "no ACPI DMAR, IVRS or IORT table in " + tables +
            ": the firmware describes no IOMMU (disabled in the BIOS/UEFI "
            "setup, absent from the hardware, or a VM without a virtual "
            "IOMMU)",
        "enable Intel VT-d or AMD IOMMU/AMD-Vi in the firmware setup; if "
        "this host is a VM, its hypervisor must give it a virtual IOMMU "
        "(QEMU: -machine q35,kernel-irqchip=split -device "
        "intel-iommu,intremap=on,caching-mode=on)");
  }

  // --- iommu_driver
  if (iommu_on) {
    add("iommu_driver", CheckState::kPass,
        "IOMMU driver active: " + Join(f.iommu_units, ", ") + " in " +
            class_iommu);
  } else {
    std::string fix;
    if (!off.empty()) {
      fix = "remove " + Join(off, " and ") + " from the kernel command line";
      if (f.dmar && !CmdHas(f, "intel_iommu", "on")) {
        fix += " and add intel_iommu=on";
      }
      fix += std::string(kGrubHow);
    } else if (f.dmar) {
      fix = "add intel_iommu=on to the kernel command line" +
            std::string(kGrubHow);
    } else if (f.ivrs) {
      fix =
          "AMD-Vi is on by default when the IVRS table exists: check the "
          "kernel log (dmesg | grep AMD-Vi) and the kernel configuration "
          "(CONFIG_AMD_IOMMU)";
    } else if (f.iort) {
      fix = "load or build in the ARM SMMU driver (CONFIG_ARM_SMMU_V3)";
    } else {
      fix = "first give the host an IOMMU (see firmware_iommu)";
    }
    add("iommu_driver", CheckState::kFail,
        class_iommu + " is empty: no IOMMU driver is active in the kernel" +
            (off.empty() ? "" : " (command line has " + Join(off, " ") + ")"),
        fix);
  }

  // --- iommu_groups
  const std::string groups_dir = host.IommuGroupsDir().string();
  if (f.real_groups > 0 && f.noiommu_groups == 0) {
    add("iommu_groups", CheckState::kPass,
        std::to_string(f.real_groups) + " IOMMU groups in " + groups_dir);
  } else if (f.real_groups > 0) {
    add("iommu_groups", CheckState::kWarn,
        std::to_string(f.real_groups) + " IOMMU groups and " +
            std::to_string(f.noiommu_groups) +
            " fake vfio-noiommu groups (no isolation) in " + groups_dir,
        "give the noiommu devices back to the host and turn noiommu mode "
        "off (see noiommu_mode)");
  } else if (f.noiommu_groups > 0) {
    add("iommu_groups", CheckState::kFail,
        "only fake vfio-noiommu groups (" + std::to_string(f.noiommu_groups) +
            ") in " + groups_dir +
            ": devices are handed out with no DMA isolation at all",
        "turn noiommu mode off and enable a real IOMMU (see iommu_driver)");
  } else {
    add("iommu_groups", CheckState::kFail,
        "no IOMMU groups in " + groups_dir +
            ": the kernel has nothing to isolate devices with",
        iommu_on ? "check dmesg for IOMMU errors"
                 : "enable the IOMMU first "
                   "(see iommu_driver)");
  }

  // --- kernel_cmdline (reported; the verdicts come from runtime state)
  {
    std::string seen =
        f.cmdline_read
            ? (f.cmdline_seen.empty()
                   ? "no IOMMU/VFIO options on the command line"
                   : "command line has: " + Join(f.cmdline_seen, " "))
            : host.Proc("cmdline").string() + " unreadable";
    std::vector<std::string> risky;
    if (f.cmdline.count("pcie_acs_override")) {
      risky.push_back(
          "pcie_acs_override splits IOMMU groups without real isolation "
          "(peer-to-peer DMA can bypass the IOMMU)");
    }
    if (CmdHas(f, "intremap", "off") || CmdHas(f, "intremap", "0")) {
      risky.push_back("intremap=off disables interrupt remapping");
    }
    if (f.cmdline.count("nointremap")) {
      risky.push_back("nointremap disables interrupt remapping");
    }
    if (CmdHas(f, "vfio_iommu_type1.allow_unsafe_interrupts", "1") ||
        CmdHas(f, "vfio_iommu_type1.allow_unsafe_interrupts", "Y")) {
      risky.push_back("allow_unsafe_interrupts lets devices forge MSIs");
    }
    if (CmdHas(f, "vfio.enable_unsafe_noiommu_mode", "1") ||
        CmdHas(f, "vfio.enable_unsafe_noiommu_mode", "Y")) {
      risky.push_back(
          "enable_unsafe_noiommu_mode gives devices to "
          "userspace without isolation");
    }
    if (!iommu_on && !off.empty()) {
      add("kernel_cmdline", CheckState::kFail,
          seen + "; " + Join(off, " ") + " switches the IOMMU off",
          "remove " + Join(off, " ") + " from the kernel command line" +
              std::string(kGrubHow));
    } else if (!iommu_on && f.dmar && !CmdHas(f, "intel_iommu", "on")) {
      add("kernel_cmdline", CheckState::kFail,
          seen +
              "; this kernel does not enable Intel VT-d by default "
              "and intel_iommu=on is missing",
          "add intel_iommu=on to the kernel command line" +
              std::string(kGrubHow));
    } else if (!risky.empty()) {
      add("kernel_cmdline", CheckState::kWarn, seen + "; " + Join(risky, "; "),
          "remove these options from the kernel command line" +
              std::string(kGrubHow));
    } else if (!f.cmdline_read) {
      // Unknown is not "fine": unsafe options could be there unseen.
      add("kernel_cmdline", CheckState::kWarn,
          seen + "; cannot tell whether unsafe options are set",
          "make " + host.Proc("cmdline").string() +
              " readable (procfs mounted under --root)");
    } else {
      add("kernel_cmdline", CheckState::kPass, seen);
    }
  }

  // --- interrupt_remapping
  const fs::path unsafe_param = host.ModuleDir("vfio_iommu_type1") /
                                "parameters" / "allow_unsafe_interrupts";
  const bool unsafe_irq = ReadBool(unsafe_param).value_or(false);
  if (f.ir_chips) {
    add("interrupt_remapping", CheckState::kPass,
        "interrupt remapping in use (IR- interrupt chips in " +
            host.Proc("interrupts").string() + ")");
  } else {
    std::string detail = f.interrupts_read
                             ? "no IR- interrupt chips in " +
                                   host.Proc("interrupts").string() +
                                   ": interrupt remapping is off"
                             : host.Proc("interrupts").string() + " unreadable";
    if (f.ecap_ir == true) {
      detail += " although the IOMMU supports it (ecap bit 3)";
    } else if (f.ecap_ir == false) {
      detail += "; the IOMMU does not support it (ecap bit 3 clear)";
    }
    detail += "; vfio_iommu_type1 refuses to attach groups without it (EPERM)";
    std::string fix =
        !iommu_on ? "enable the IOMMU first (see iommu_driver)"
        : f.cmdline.count("nointremap") || f.cmdline.count("intremap")
            ? "remove intremap=off/nointremap from the kernel command line" +
                  std::string(kGrubHow)
            : "enable interrupt remapping / x2APIC in the firmware; on a VM "
              "use a vIOMMU with interrupt remapping (QEMU: "
              "intel-iommu,intremap=on with kernel-irqchip=split)";
    add("interrupt_remapping", CheckState::kFail, detail, fix);
  }

  // --- vfio modules
  const std::string vfio_pci_dir = host.PciDriverDir("vfio-pci").string();
  ModuleStatus vfio =
      ProbeKernelModule(host, f.kernel_release, "vfio",
                        sysfs::Exists(host.ModuleDir("vfio")) ||
                            sysfs::Exists(host.VfioContainerNode()),
                        host.ModuleDir("vfio").string());
  ModuleStatus vfio_pci = ProbeKernelModule(
      host, f.kernel_release, "vfio_pci",
      sysfs::Exists(host.PciDriverDir("vfio-pci")), vfio_pci_dir + " exists");
  ModuleStatus type1 =
      ProbeKernelModule(host, f.kernel_release, "vfio_iommu_type1",
                        sysfs::Exists(host.ModuleDir("vfio_iommu_type1")),
                        host.ModuleDir("vfio_iommu_type1").string());
  r.checks.push_back(ModuleCheck("vfio", vfio, "vfio"));
  r.checks.push_back(ModuleCheck("vfio_pci", vfio_pci, "vfio-pci"));
  r.checks.push_back(
      ModuleCheck("vfio_iommu_type1", type1, "vfio_iommu_type1"));

  // --- vfio_container
  const std::string container = host.VfioContainerNode().string();
  if (sysfs::Exists(host.VfioContainerNode())) {
    add("vfio_container", CheckState::kPass, container + " exists");
  } else if (sysfs::Exists(host.Dev("iommu"))) {
    add("vfio_container", CheckState::kPass,
        container + " is missing, but " + host.Dev("iommu").string() +
            " (iommufd) exists: use QEMU's iommufd backend");
  } else if (vfio.state == ModuleState::kLoaded ||
             vfio.state == ModuleState::kBuiltin) {
    add("vfio_container", CheckState::kFail,
        container + " is missing although vfio is present",
        "check that devtmpfs is mounted on dev and that the kernel has "
        "CONFIG_VFIO_CONTAINER (or CONFIG_IOMMUFD_VFIO_CONTAINER)");
  } else {
    add("vfio_container", CheckState::kWarn,
        container + " is missing (it appears when vfio is loaded)",
        "modprobe vfio");
  }

  // --- unsafe_interrupts
  {
    fs::path iommufd_param =
        host.ModuleDir("iommufd") / "parameters" / "allow_unsafe_interrupts";
    bool unsafe_fd = ReadBool(iommufd_param).value_or(false);
    std::vector<std::string> on;
    if (unsafe_irq) on.push_back(unsafe_param.string() + "=Y");
    if (unsafe_fd) on.push_back(iommufd_param.string() + "=Y");
    std::string fix;
    if (unsafe_irq) fix = "echo N > " + unsafe_param.string();
    if (unsafe_fd) {
      fix += (fix.empty() ? "" : "; ") + ("echo N > " + iommufd_param.string());
    }
    fix +=
        "; remove allow_unsafe_interrupts from the kernel command line and "
        "/etc/modprobe.d";
    if (on.empty()) {
      add("unsafe_interrupts", CheckState::kPass,
          "allow_unsafe_interrupts is off" +
              std::string(sysfs::Exists(unsafe_param)
                              ? " (" + unsafe_param.string() + "=N)"
                              : ""));
    } else if (f.ir_chips) {
      add("unsafe_interrupts", CheckState::kWarn,
          Join(on, ", ") +
              ": has no effect while interrupt remapping is on, but would "
              "silently allow unsafe assignment if it were turned off",
          fix);
    } else {
      add("unsafe_interrupts", CheckState::kFail,
          Join(on, ", ") +
              " without interrupt remapping: an assigned device can forge "
              "MSIs and inject interrupts into the host",
          fix);
    }
  }

  // --- noiommu_mode
  {
    fs::path param =
        host.ModuleDir("vfio") / "parameters" / "enable_unsafe_noiommu_mode";
    if (ReadBool(param).value_or(false)) {
      add("noiommu_mode", CheckState::kFail,
          param.string() +
              "=Y: devices without an IOMMU group can be given to userspace "
              "with no DMA isolation (taints the kernel)",
          "echo N > " + param.string() +
              "; remove vfio.enable_unsafe_noiommu_mode from the kernel "
              "command line and /etc/modprobe.d");
    } else {
      add("noiommu_mode", CheckState::kPass,
          "unsafe noiommu mode is off" +
              std::string(sysfs::Exists(param) ? " (" + param.string() + "=N)"
                                               : ""));
    }
  }

  // --- default_domain
  if (f.group_types.empty()) {
    add("default_domain", CheckState::kWarn,
        "no IOMMU group reports a type: default domain unknown");
  } else {
    std::vector<std::string> parts;
    for (const auto& [type, n] : f.group_types) {
      parts.push_back(type + " (" + std::to_string(n) + " groups)");
    }
    bool identity = f.group_types.count("identity") > 0;
    add("default_domain", CheckState::kPass,
        "group types: " + Join(parts, ", ") +
            (identity ? "; identity = iommu=pt: host drivers DMA "
                        "untranslated, assigned devices are still isolated"
                      : "; host drivers DMA through translation"));
  }

  // --- kvm
  if (sysfs::Exists(host.Dev("kvm"))) {
    add("kvm", CheckState::kPass, host.Dev("kvm").string() + " exists");
  } else {
    add("kvm", CheckState::kWarn,
        host.Dev("kvm").string() +
            " is missing: VMs run without acceleration (QEMU TCG)",
        "enable VT-x/AMD-V in the firmware and modprobe kvm_intel (or "
        "kvm_amd)");
  }

  // --- hugepages
  {
    fs::path dir = host.Sys("kernel/mm/hugepages");
    std::vector<std::string> parts;
    long total = 0;
    for (const std::string& size : ListOrEmpty(dir)) {
      auto n = sysfs::ReadOptional(dir / size / "nr_hugepages");
      long v = n ? sysfs::ParseInt(*n).value_or(0) : 0;
      total += v;
      std::string label = size.rfind("hugepages-", 0) == 0
                              ? size.substr(std::string("hugepages-").size())
                              : size;
      parts.push_back(label + ": " + std::to_string(v));
    }
    std::string fix = "echo 1024 > " +
                      (dir / "hugepages-2048kB" / "nr_hugepages").string() +
                      " (or boot with hugepagesz=1G hugepages=N); needed "
                      "only for DPDK/vhost-user or hugepage-backed guests";
    if (parts.empty()) {
      add("hugepages", CheckState::kWarn,
          dir.string() + " is missing: no hugepage support", fix);
    } else if (total == 0) {
      add("hugepages", CheckState::kWarn,
          "no hugepages reserved (" + Join(parts, ", ") + ")", fix);
    } else {
      add("hugepages", CheckState::kPass,
          "hugepages reserved: " + Join(parts, ", "));
    }
  }

  // --- verdict
  std::vector<const HostCheck*> failed;
  int warnings = 0;
  for (const HostCheck& c : r.checks) {
    if (c.status == CheckState::kFail) failed.push_back(&c);
    if (c.status == CheckState::kWarn) ++warnings;
  }
  r.ready = failed.empty();
  if (r.ready) {
    r.verdict = "ready for PCI passthrough";
    if (warnings > 0) {
      r.verdict += " (" + std::to_string(warnings) + " warning" +
                   (warnings > 1 ? "s" : "") + ")";
    }
  } else if (!has_table && !iommu_on && f.real_groups == 0) {
    r.verdict =
        "PCI passthrough is impossible here because this machine has no "
        "IOMMU: the firmware has no DMAR/IVRS/IORT table, no IOMMU driver "
        "is active and there are no IOMMU groups, so no device can be "
        "isolated for a VM";
  } else if (!iommu_on || f.real_groups == 0) {
    r.verdict =
        "PCI passthrough is impossible here because the IOMMU is not "
        "active: " +
        failed.front()->detail;
  } else {
    std::vector<std::string> ids;
    ids.reserve(failed.size());
    for (const HostCheck* c : failed) ids.push_back(c->id);
    r.verdict = "PCI passthrough is not ready: fix " + Join(ids, ", ");
  }
  return r;
}

HostSummary SummarizeInventory(const Inventory& inv) {
  HostSummary s;
  s.devices = static_cast<int>(inv.devices().size());
  for (const PciDevice& d : inv.devices()) {
    if (d.driver && *d.driver == "vfio-pci") ++s.vfio_devices;
    if (d.type == DeviceType::kPf) ++s.pfs;
    if (d.type == DeviceType::kVf) ++s.vfs;
    if (d.IsBridge()) {
      ++s.bridges;
      continue;
    }
    for (const HostUse& use : d.host_use) {
      if (use.kind != "bridge") {
        ++s.host_used;
        break;
      }
    }
  }
  for (const auto& [id, g] : inv.groups()) {
    if (g.noiommu) {
      ++s.noiommu_groups;
      continue;
    }
    ++s.groups;
    if (g.viable) ++s.viable_groups;
  }
  return s;
}

}  // namespace pcipass
