// The pre-flight of a detach (see handoff.h): which devices change, and
// every refusal, computed on a discovered inventory without I/O.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "binding/handoff.h"
#include "core/inventory.h"
#include "core/iommu.h"

namespace pcipass {
namespace {

constexpr char kVfioPci[] = "vfio-pci";

std::string Join(const std::vector<std::string>& parts,
                 const std::string& sep = ", ") {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string JoinAddrs(const std::vector<PciAddress>& addrs) {
  std::vector<std::string> parts;
  parts.reserve(addrs.size());
  for (const auto& a : addrs) parts.push_back(a.ToString());
  return Join(parts);
}

std::string DriverName(const std::optional<std::string>& d) {
  return d ? *d : "no driver";
}

void AddUnique(std::vector<PciAddress>& v, const PciAddress& a) {
  if (std::find(v.begin(), v.end(), a) == v.end()) v.push_back(a);
}

Status CheckDetachable(const Inventory& inv, const PciDevice& dev) {
  const std::string a = dev.address.ToString();
  if (dev.IsBridge()) {
    return Status::FailedPrecondition(
        a +
        " is a bridge: bridges stay with the host (pcieport) and "
        "vfio-pci cannot take them; detach the devices behind it");
  }
  if (!dev.iommu_group) {
    return Status::FailedPrecondition(
        a +
        " has no IOMMU group: the IOMMU is off or does not cover it "
        "(see `pcipass check`; boot with intel_iommu=on or amd_iommu=on)");
  }
  const IommuGroup* g = inv.FindGroup(*dev.iommu_group);
  if (g && g->noiommu) {
    return Status::FailedPrecondition(
        a + " is in a no-IOMMU group (" + std::to_string(g->id) +
        "): vfio noiommu mode gives no isolation; refusing");
  }
  if (g && g->has_direct_region) {
    return Status::FailedPrecondition(
        a + ": IOMMU group " + std::to_string(g->id) +
        " has a \"direct\" reserved region (firmware RMRR): the device "
        "cannot be isolated for a VM");
  }
  if (dev.sriov_numvfs.value_or(0) > 0) {
    return Status::FailedPrecondition(
        a + " is an SR-IOV PF with " + std::to_string(*dev.sriov_numvfs) +
        " VFs enabled (" + JoinAddrs(dev.virtfns) +
        "); vfio-pci refuses such a PF: run `pcipass sriov " + a +
        " --numvfs 0` first");
  }
  return Status::Ok();
}

std::vector<std::string> HostUseReasons(const PciDevice& dev,
                                        bool ignore_bridge) {
  std::vector<std::string> out;
  for (const HostUse& u : dev.host_use) {
    if (ignore_bridge && u.kind == "bridge") continue;
    out.push_back(dev.address.ToString() + ": " + u.reason);
  }
  return out;
}

Status Refuse(const std::string& msg) {
  return Status::FailedPrecondition(msg);
}

}  // namespace

Result<DetachSet> PlanDetachSet(const Inventory& inv,
                                const std::vector<PciAddress>& devices,
                                const HandOffOptions& opts) {
  if (devices.empty()) {
    return Status::InvalidArgument(
        "no device given; name at least one "
        "address (dddd:bb:ss.f)");
  }
  DetachSet set;
  std::vector<PciAddress> want;
  for (const PciAddress& a : devices) {
    const PciDevice* dev = inv.Find(a);
    if (!dev) {
      return Status::NotFound("no PCI device " + a.ToString() +
                              " on this host (see `pcipass list`)");
    }
    if (dev->driver == kVfioPci) {
      AddUnique(set.already_done, a);
      continue;
    }
    PCIPASS_RETURN_IF_ERROR(CheckDetachable(inv, *dev));
    AddUnique(want, a);
  }

  // Group rule: every group touched must be viable once the set is on
  // vfio-pci. Already-detached devices count as vfio-pci.
  std::set<int> groups;
  for (const PciAddress& a : want) groups.insert(*inv.Find(a)->iommu_group);
  for (int gid : groups) {
    const IommuGroup* g = inv.FindGroup(gid);
    if (!g) {
      return Refuse("IOMMU group " + std::to_string(gid) +
                    " is not listed in sys/kernel/iommu_groups");
    }
    std::map<PciAddress, std::optional<std::string>> moved;
    for (const PciAddress& a : want) moved[a] = std::string(kVfioPci);
    IommuGroup after = EvaluateGroup(*g, inv, moved);
    if (!after.viable && opts.whole_group) {
      for (const PciAddress& m : g->members) {
        const PciDevice* md = inv.Find(m);
        if (!md || moved.count(m)) continue;
        if (DriverKeepsGroupViable(md->driver, md->driver == kVfioPci)) {
          continue;
        }
        if (md->IsBridge()) {
          return Refuse("IOMMU group " + std::to_string(gid) +
                        " cannot be made viable: bridge " + m.ToString() +
                        " is bound to " + DriverName(md->driver) +
                        ", which does kernel DMA; unbind it first");
        }
        PCIPASS_RETURN_IF_ERROR(CheckDetachable(inv, *md).WithContext(
            "--group: member of IOMMU group " + std::to_string(gid)));
        AddUnique(want, m);
        moved[m] = std::string(kVfioPci);
      }
      after = EvaluateGroup(*g, inv, moved);
    }
    if (!after.viable) {
      std::string msg =
          "IOMMU group " + std::to_string(gid) +
          " would not be viable for VFIO: " + Join(after.blockers) +
          " would stay on host drivers";
      if (!opts.whole_group) {
        msg +=
            "; detach the whole group with --group (bridges stay on "
            "pcieport) or name those devices too";
      }
      return Refuse(msg);
    }
  }

  // Host use: the devices moved and every member of their groups.
  std::vector<std::string> reasons;
  std::set<PciAddress> checked;
  for (const PciAddress& a : want) {
    const PciDevice* dev = inv.Find(a);
    for (auto& r : HostUseReasons(*dev, false)) reasons.push_back(r);
    checked.insert(a);
  }
  for (int gid : groups) {
    for (const PciAddress& m : inv.FindGroup(gid)->members) {
      if (checked.count(m)) continue;
      if (const PciDevice* md = inv.Find(m)) {
        for (auto& r : HostUseReasons(*md, true)) {
          reasons.push_back(r + " (group-mate in IOMMU group " +
                            std::to_string(gid) + ")");
        }
      }
    }
  }
  if (!reasons.empty()) {
    if (!opts.force_reason) {
      return Refuse("the host uses " + Join(reasons, "; ") +
                    "; refusing to take it (use --force REASON to override)");
    }
    set.notes.push_back(
        "--force (" + *opts.force_reason +
        "): taking devices the host uses: " + Join(reasons, "; "));
  }
  std::sort(want.begin(), want.end());
  set.to_change = want;
  return set;
}

}  // namespace pcipass
