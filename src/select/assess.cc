#include "select/assess.h"

namespace pcipass {

namespace {

std::string Hex4(const std::optional<uint16_t>& v) {
  if (!v) return "????";
  char buf[8];
  snprintf(buf, sizeof buf, "%04x", *v);
  return buf;
}

}  // namespace

Assessment Assess(const Inventory& inv, const PciDevice& dev,
                  const std::vector<DeviceSpec>& specs,
                  const AssessOptions& options) {
  Assessment a;
  const std::string addr = dev.address.ToString();
  auto add = [&](std::string code, std::string severity, std::string message,
                 std::string fix) {
    a.reasons.push_back({std::move(code), std::move(severity),
                         std::move(message), std::move(fix)});
  };

  if (!options.have_config) {
    add("no_config", "error", "no config was given, so no device is allowed",
        "pass --config FILE (or set PCIPASS_CONFIG) with [pci]device_spec "
        "entries");
  } else {
    AllowDecision d = DecideAllowed(specs, dev, options.vpd);
    a.allowed = d.allowed;
    a.spec_index = d.spec_index;
    a.tags = d.tags;
    if (d.spec_index) a.spec_where = specs[*d.spec_index].where();
    if (!d.allowed) {
      add("not_allowed", "error",
          addr + " is not selected by any [pci]device_spec entry",
          "add [pci]device_spec = {\"vendor_id\": \"" + Hex4(dev.vendor_id) +
              "\", \"product_id\": \"" + Hex4(dev.product_id) +
              "\", \"address\": \"" + addr + "\"} (run 'pcipass explain " +
              addr + "' to see why each entry does not match)");
    }
  }

  if (dev.IsBridge()) {
    add("bridge", "error",
        addr +
            " is a PCI bridge; bridges are never given "
            "to a VM",
        "assign the endpoint devices behind the bridge instead");
  }

  const IommuGroup* group = inv.GroupOf(dev);
  if (!dev.iommu_group || group == nullptr) {
    add("no_iommu_group", "error",
        addr +
            " has no IOMMU group: the IOMMU is off or absent, so the "
            "device cannot be isolated",
        "enable VT-d/AMD-Vi in the firmware and boot with intel_iommu=on "
        "(Intel) or amd_iommu=on (AMD); then run 'pcipass check'");
  } else {
    const std::string g = std::to_string(group->id);
    if (group->noiommu) {
      add("noiommu_group", "error",
          "IOMMU group " + g + " of " + addr +
              " is a vfio no-IOMMU group: no DMA isolation, unsafe for VMs",
          "enable a real IOMMU (intel_iommu=on / amd_iommu=on) and unset "
          "vfio enable_unsafe_noiommu_mode");
    }
    if (group->has_direct_region) {
      add("rmrr", "error",
          "IOMMU group " + g + " of " + addr +
              " has a 'direct' reserved memory region (RMRR): firmware "
              "keeps using the device's memory, and VFIO refuses it",
          "move the card to another slot or disable the firmware feature "
          "that uses it (e.g. shared-memory graphics, iLO/IPMI sharing)");
    }
    std::vector<std::string> others;
    for (const PciAddress& m : group->members) {
      if (m == dev.address) continue;
      const PciDevice* md = inv.Find(m);
      if (md == nullptr) continue;
      if (md->IsBridge()) continue;
      others.push_back(m.ToString());
      // VFIO hands the whole group to one VM, so a member the rules do not
      // allow makes the device unassignable (claims/fit.h refuses it at its
      // "group" step; list and explain must say the same).
      if (options.have_config &&
          !DecideAllowed(specs, *md, options.vpd).allowed) {
        std::string what = "IOMMU group " + g + " member " + m.ToString() +
                           " (" + md->driver.value_or("no driver") +
                           ") is not selected by any [pci]device_spec entry; "
                           "the whole group goes to one VM, so ";
        what += addr;
        what += " cannot be assigned without it";
        add("group_member_not_allowed", "error", std::move(what),
            "allow it too: [pci]device_spec = {\"address\": \"" + m.ToString() +
                "\"} (it will go to the same VM), or move " + addr +
                " to a slot with its own group");
      }
      for (const HostUse& u : md->host_use) {
        if (u.kind == "bridge") continue;
        std::string what = "IOMMU group " + g + " member " + m.ToString() +
                           " is used by the host (" + u.kind + ": " + u.reason +
                           "); the whole group goes to the VM, so ";
        what += addr;
        what += " cannot be taken";
        add("group_member_host_use", "error", std::move(what),
            "stop the host's use of " + m.ToString() + " (" + u.reason +
                "), or move " + addr + " to a slot with its own group");
      }
    }
    if (!group->viable && !group->blockers.empty()) {
      std::string list;
      for (const std::string& b : group->blockers) {
        list += list.empty() ? b : ", " + b;
      }
      add("group_not_viable", "warning",
          "IOMMU group " + g + " is not viable for VFIO yet: " + list +
              " still on host drivers",
          "pcipass detach --group " + addr);
    } else if (!others.empty()) {
      std::string list;
      for (const std::string& o : others) list += list.empty() ? o : ", " + o;
      add("group_shared", "warning",
          "IOMMU group " + g + " also holds " + list +
              "; they go to the same VM or stay unused",
          "pcipass detach --group " + addr);
    }
  }

  for (const HostUse& u : dev.host_use) {
    if (u.kind == "bridge") continue;  // the "bridge" reason covers it
    add("host_uses_device", "error",
        addr + " is used by the host (" + u.kind + "): " + u.reason,
        "stop using it on the host first (" + u.reason +
            "); 'pcipass detach --force REASON' overrides at your own risk");
  }

  if (dev.type == DeviceType::kPf && dev.sriov_numvfs.value_or(0) > 0) {
    add("pf_has_vfs", "error",
        addr + " is an SR-IOV PF with " + std::to_string(*dev.sriov_numvfs) +
            " VFs enabled; vfio-pci refuses a PF whose VFs are enabled",
        "pcipass sriov " + addr + " --numvfs 0 (or assign its VFs instead)");
  }
  if (dev.type == DeviceType::kVf && dev.physfn) {
    const PciDevice* pf = inv.Find(*dev.physfn);
    if (pf && pf->driver && pf->driver->rfind("vfio", 0) == 0) {
      add("vf_of_vfio_pf", "warning",
          addr + " is a VF of " + dev.physfn->ToString() + ", which is on " +
              *pf->driver + "; its VFs need the PF owner's VF token",
          "give the VF to the VM that owns the PF, or reattach the PF to "
          "its host driver ('pcipass reattach " +
              dev.physfn->ToString() + "')");
    }
  }
  if (dev.reset_method_known && dev.reset_methods.empty()) {
    add("no_reset_method", "warning",
        addr + " has no reset method: state may leak between VMs",
        "prefer a device that supports FLR; if you must use it, give it to "
        "one VM for its lifetime");
  }
  if (dev.address.domain > 0xffff) {
    add("vmd_domain", "warning",
        addr +
            " is behind an Intel VMD controller (domain above ffff); "
            "Nova cannot track such devices",
        "disable VMD for this root port in the firmware if the device must "
        "go to a VM managed by Nova");
  }
  bool error = false;
  for (const Reason& r : a.reasons) {
    if (r.severity == "error") error = true;
  }
  a.assignable = a.allowed && !error;
  return a;
}

}  // namespace pcipass
