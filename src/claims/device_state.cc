#include "claims/device_state.h"

#include <algorithm>
#include <utility>

namespace pcipass::claims {
namespace {

// Inserts |a| into the sorted |list| (no duplicates).
void SortedInsert(std::vector<PciAddress>& list, const PciAddress& a) {
  auto it = std::lower_bound(list.begin(), list.end(), a);
  if (it == list.end() || *it != a) list.insert(it, a);
}

void SortedErase(std::vector<PciAddress>& list, const PciAddress& a) {
  auto it = std::lower_bound(list.begin(), list.end(), a);
  if (it != list.end() && *it == a) list.erase(it);
}

std::string Describe(const LedgerDevice& d) {
  std::string s(DeviceStateName(d.state));
  if (d.owner) s += " by " + *d.owner;
  return s;
}

}  // namespace

DeviceTable::DeviceTable(std::vector<LedgerDevice> devices) {
  for (LedgerDevice& d : devices) {
    PciAddress a = d.address;
    devices_.emplace(a, std::move(d));
  }
  Reindex();
  Recompute("derived from relatives");
}

void DeviceTable::Reindex() {
  children_.clear();
  group_members_.clear();
  for (const auto& [a, d] : devices_) {
    if (d.parent_addr) children_[*d.parent_addr].push_back(a);
    if (d.iommu_group) group_members_[*d.iommu_group].push_back(a);
  }
}

void DeviceTable::IndexInsert(const LedgerDevice& d) {
  if (d.parent_addr) SortedInsert(children_[*d.parent_addr], d.address);
  if (d.iommu_group) SortedInsert(group_members_[*d.iommu_group], d.address);
}

void DeviceTable::IndexErase(const LedgerDevice& d) {
  if (d.parent_addr) {
    auto it = children_.find(*d.parent_addr);
    if (it != children_.end()) {
      SortedErase(it->second, d.address);
      if (it->second.empty()) children_.erase(it);
    }
  }
  if (d.iommu_group) {
    auto it = group_members_.find(*d.iommu_group);
    if (it != group_members_.end()) {
      SortedErase(it->second, d.address);
      if (it->second.empty()) group_members_.erase(it);
    }
  }
}

void DeviceTable::CollectRelatives(const PciAddress& addr,
                                   std::vector<PciAddress>* out) const {
  out->push_back(addr);
  auto kids = children_.find(addr);
  if (kids != children_.end()) {
    out->insert(out->end(), kids->second.begin(), kids->second.end());
  }
  const LedgerDevice* d = Find(addr);
  if (!d) return;
  if (d->parent_addr) out->push_back(*d->parent_addr);
  if (d->iommu_group) {
    auto mates = group_members_.find(*d->iommu_group);
    if (mates != group_members_.end()) {
      out->insert(out->end(), mates->second.begin(), mates->second.end());
    }
  }
}

void DeviceTable::RecomputeAround(const PciAddress& addr,
                                  const std::string& why) {
  std::vector<PciAddress> affected;
  CollectRelatives(addr, &affected);
  RecomputeSome(affected, why);
}

const LedgerDevice* DeviceTable::Find(const PciAddress& addr) const {
  auto it = devices_.find(addr);
  return it == devices_.end() ? nullptr : &it->second;
}

std::vector<Transition> DeviceTable::TakeTransitions() {
  return std::exchange(transitions_, {});
}

bool DeviceTable::Held(const LedgerDevice& d) {
  return d.state == DeviceState::kClaimed ||
         d.state == DeviceState::kAllocated ||
         (d.state == DeviceState::kRemoved && d.owner.has_value());
}

std::string DeviceTable::DependencyReason(const LedgerDevice& d,
                                          const std::string* instance) const {
  if (d.dev_type == DeviceType::kPf) {
    auto kids = children_.find(d.address);
    if (kids != children_.end()) {
      for (const PciAddress& a : kids->second) {
        const LedgerDevice& other = devices_.at(a);
        if (Held(other)) {
          return "its VF " + a.ToString() + " is " + Describe(other);
        }
      }
    }
  }
  if (d.parent_addr) {
    const LedgerDevice* pf = Find(*d.parent_addr);
    if (pf && Held(*pf)) {
      return "its PF " + pf->address.ToString() + " is " + Describe(*pf);
    }
  }
  if (d.iommu_group) {
    for (const PciAddress& a : group_members_.at(*d.iommu_group)) {
      const LedgerDevice& other = devices_.at(a);
      if (a == d.address || other.iommu_group != d.iommu_group) continue;
      if (instance && Held(other) && other.owner == *instance) continue;
      if (Held(other) || other.state == DeviceState::kReserved) {
        return "IOMMU group " + std::to_string(*d.iommu_group) + " member " +
               a.ToString() + " is " + Describe(other);
      }
    }
  }
  return "";
}

void DeviceTable::Set(LedgerDevice& d, DeviceState to,
                      std::optional<std::string> owner, std::string reason,
                      const std::string& why) {
  if (d.state == to && d.owner == owner && d.reason == reason) return;
  Transition t{d.address, d.state, to,
               to == DeviceState::kAvailable ? d.owner : owner, why};
  d.state = to;
  d.owner = std::move(owner);
  d.reason = std::move(reason);
  d.updated_at_unix = 0;  // the store stamps it
  if (t.from != t.to) transitions_.push_back(std::move(t));
}

void DeviceTable::Derive(LedgerDevice& d, const std::string& why) {
  if (d.state != DeviceState::kAvailable &&
      d.state != DeviceState::kUnavailable) {
    return;
  }
  std::string reason = DependencyReason(d);
  if (reason.empty()) {
    Set(d, DeviceState::kAvailable, std::nullopt, "", why);
  } else {
    Set(d, DeviceState::kUnavailable, std::nullopt, reason, why);
  }
}

void DeviceTable::Recompute(const std::string& why) {
  // Derive every unowned free device from its relatives. Held devices never
  // change here, so one pass is enough.
  for (auto& [a, d] : devices_) Derive(d, why);
}

void DeviceTable::RecomputeSome(const std::vector<PciAddress>& addrs,
                                const std::string& why) {
  std::vector<PciAddress> sorted = addrs;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (const PciAddress& a : sorted) {
    auto it = devices_.find(a);
    if (it != devices_.end()) Derive(it->second, why);
  }
}

Status DeviceTable::CheckTakeable(const PciAddress& address,
                                  const std::string& instance,
                                  std::string* step) const {
  std::string ignored;
  if (!step) step = &ignored;
  const LedgerDevice* found = Find(address);
  if (!found) {
    *step = "in_use";
    return Status::NotFound("PCI device " + address.ToString() +
                            " is not in the ledger");
  }
  const LedgerDevice& d = *found;
  const std::string addr = d.address.ToString();
  if (d.state != DeviceState::kAvailable &&
      d.state != DeviceState::kUnavailable) {
    *step = "in_use";
    return Status::FailedPrecondition("PCI device " + addr + " is " +
                                      Describe(d) + " instead of available");
  }
  *step = "dependency";
  auto kids = children_.find(d.address);
  if (d.dev_type == DeviceType::kPf && kids != children_.end()) {
    for (const PciAddress& a : kids->second) {
      const LedgerDevice& vf = devices_.at(a);
      if (Held(vf)) {
        return Status::FailedPrecondition("Not all Virtual Functions of PF " +
                                          addr + " are free: VF " +
                                          a.ToString() + " is " + Describe(vf));
      }
    }
  }
  if (d.parent_addr) {
    const LedgerDevice* pf = Find(*d.parent_addr);
    // A PF the host uses (its netdev is up) may still lend its VFs: that
    // is the usual SR-IOV set-up. A held or vanished PF may not.
    if (pf && (Held(*pf) || pf->state == DeviceState::kRemoved)) {
      return Status::FailedPrecondition(
          "Physical Function " + pf->address.ToString() + ", related to VF " +
          addr + ", is " + Describe(*pf) +
          " instead of available, unavailable");
    }
  }
  std::string reason = DependencyReason(d, &instance);
  if (!reason.empty()) {
    *step = "group";
    return Status::FailedPrecondition("PCI device " + addr +
                                      " is unavailable: " + reason);
  }
  step->clear();
  return Status::Ok();
}

Status DeviceTable::Claim(const PciAddress& addr, const std::string& instance,
                          const std::string& why) {
  auto it = devices_.find(addr);
  if (it == devices_.end()) {
    return Status::NotFound("PCI device " + addr.ToString() +
                            " is not in the ledger");
  }
  PCIPASS_RETURN_IF_ERROR(CheckTakeable(addr, instance));
  Set(it->second, DeviceState::kClaimed, instance, "", why);
  RecomputeAround(addr,
                  "relative " + addr.ToString() + " claimed by " + instance);
  return Status::Ok();
}

Status DeviceTable::Allocate(const PciAddress& addr,
                             const std::string& instance,
                             const std::string& why) {
  auto it = devices_.find(addr);
  if (it == devices_.end()) {
    return Status::NotFound("PCI device " + addr.ToString() +
                            " is not in the ledger");
  }
  LedgerDevice& d = it->second;
  if (d.state == DeviceState::kClaimed || d.state == DeviceState::kAllocated) {
    if (d.owner != instance) {
      return Status::Conflict("PCI device " + addr.ToString() +
                              " is owned by " + d.owner.value_or("nobody") +
                              " instead of " + instance);
    }
    if (d.state == DeviceState::kAllocated) return Status::Ok();
  } else {
    PCIPASS_RETURN_IF_ERROR(CheckTakeable(addr, instance));
  }
  Set(d, DeviceState::kAllocated, instance, "", why);
  RecomputeAround(addr,
                  "relative " + addr.ToString() + " allocated to " + instance);
  return Status::Ok();
}

Status DeviceTable::Free(const PciAddress& addr, const std::string& instance,
                         const std::string& why) {
  auto it = devices_.find(addr);
  if (it == devices_.end()) {
    return Status::NotFound("PCI device " + addr.ToString() +
                            " is not in the ledger");
  }
  LedgerDevice& d = it->second;
  if (Held(d) && d.owner != instance) {
    return Status::Conflict("PCI device " + addr.ToString() + " is owned by " +
                            *d.owner + " instead of " + instance +
                            "; it is not freed");
  }
  if (d.state == DeviceState::kRemoved && d.owner) {
    // Vanished while held: the owner lets go, but the device is never put
    // back in a pool without being seen again (Nova's
    // to_be_removed_when_freed, with relatives re-derived: B9 fixed).
    Set(d, DeviceState::kRemoved, std::nullopt,
        "vanished while held by " + instance + "; released", why);
    transitions_.push_back(
        {addr, DeviceState::kRemoved, DeviceState::kRemoved, instance, why});
  } else if (d.state == DeviceState::kClaimed ||
             d.state == DeviceState::kAllocated) {
    // Recompute then decides between available and unavailable.
    transitions_.push_back(
        {addr, d.state, DeviceState::kAvailable, d.owner, why});
    d.state = DeviceState::kAvailable;
    d.owner.reset();
    d.reason.clear();
  } else {
    return Status::FailedPrecondition("PCI device " + addr.ToString() + " is " +
                                      Describe(d) +
                                      " instead of claimed, allocated");
  }
  RecomputeAround(addr,
                  "relative " + addr.ToString() + " freed by " + instance);
  return Status::Ok();
}

Status DeviceTable::Remove(const PciAddress& addr, const std::string& why) {
  auto it = devices_.find(addr);
  if (it == devices_.end()) {
    return Status::NotFound("PCI device " + addr.ToString() +
                            " is not in the ledger");
  }
  LedgerDevice& d = it->second;
  if (Held(d)) {
    if (d.state == DeviceState::kRemoved) {
      return Status::Conflict("PCI device " + addr.ToString() +
                              " is owned by " + *d.owner +
                              " instead of nobody");
    }
    return Status::FailedPrecondition(
        "PCI device " + addr.ToString() + " is " + Describe(d) +
        " instead of available, unavailable, reserved");
  }
  if (d.state == DeviceState::kRemoved) return Status::Ok();
  Set(d, DeviceState::kRemoved, std::nullopt, why, why);
  RecomputeAround(addr, "relative " + addr.ToString() + " removed");
  return Status::Ok();
}

Status DeviceTable::Vanish(const PciAddress& addr, const std::string& why) {
  auto it = devices_.find(addr);
  if (it == devices_.end()) {
    return Status::NotFound("PCI device " + addr.ToString() +
                            " is not in the ledger");
  }
  LedgerDevice& d = it->second;
  if (d.state == DeviceState::kClaimed || d.state == DeviceState::kAllocated) {
    std::string owner = *d.owner;
    Set(d, DeviceState::kRemoved, owner,
        "vanished while " + std::string(DeviceStateName(d.state)) + " by " +
            owner,
        why);
    RecomputeAround(addr, "relative " + addr.ToString() + " vanished");
    return Status::Ok();
  }
  if (d.state == DeviceState::kRemoved) return Status::Ok();
  return Remove(addr, why);
}

Status DeviceTable::Reserve(const PciAddress& addr, const std::string& why) {
  auto it = devices_.find(addr);
  if (it == devices_.end()) {
    return Status::NotFound("PCI device " + addr.ToString() +
                            " is not in the ledger");
  }
  LedgerDevice& d = it->second;
  if (d.state == DeviceState::kReserved) {
    d.reason = why;
    return Status::Ok();
  }
  if (d.state != DeviceState::kAvailable &&
      d.state != DeviceState::kUnavailable) {
    return Status::FailedPrecondition("PCI device " + addr.ToString() + " is " +
                                      Describe(d) +
                                      " instead of available, unavailable");
  }
  Set(d, DeviceState::kReserved, std::nullopt, why, why);
  RecomputeAround(addr,
                  "relative " + addr.ToString() + " reserved for the host");
  return Status::Ok();
}

Status DeviceTable::Unreserve(const PciAddress& addr, const std::string& why) {
  auto it = devices_.find(addr);
  if (it == devices_.end()) {
    return Status::NotFound("PCI device " + addr.ToString() +
                            " is not in the ledger");
  }
  LedgerDevice& d = it->second;
  if (d.state != DeviceState::kReserved) {
    return Status::FailedPrecondition("PCI device " + addr.ToString() + " is " +
                                      Describe(d) + " instead of reserved");
  }
  transitions_.push_back(
      {addr, DeviceState::kReserved, DeviceState::kAvailable, {}, why});
  d.state = DeviceState::kAvailable;
  d.reason.clear();
  RecomputeAround(
      addr, "relative " + addr.ToString() + " no longer used by the host");
  return Status::Ok();
}

Status DeviceTable::Add(LedgerDevice record, const std::string& why) {
  auto it = devices_.find(record.address);
  if (it != devices_.end()) {
    LedgerDevice& d = it->second;
    if (d.state != DeviceState::kRemoved) {
      return Status::AlreadyExists("PCI device " + record.address.ToString() +
                                   " is already in the ledger");
    }
    if (d.owner) {
      return Status::FailedPrecondition(
          "PCI device " + record.address.ToString() +
          " reappeared but is still held by " + *d.owner +
          " (it vanished while held); release that instance first");
    }
  }
  PciAddress a = record.address;
  record.owner.reset();
  record.reason.clear();
  record.state = DeviceState::kAvailable;
  DeviceState from =
      it != devices_.end() ? DeviceState::kRemoved : DeviceState::kAvailable;
  // Relatives before and after: a reappearing device may come back with
  // another PF or group. Only they can change (see RecomputeSome), so an
  // Add costs O(relatives), and building a table by Adds is linear.
  std::vector<PciAddress> affected;
  if (it != devices_.end()) {
    CollectRelatives(a, &affected);
    IndexErase(it->second);
  }
  LedgerDevice& stored = devices_[a];
  stored = std::move(record);
  IndexInsert(stored);
  // A new device has no previous state; the caller records its arrival
  // (reconcile's "added" drift). A reappearing one leaves `removed`.
  if (from == DeviceState::kRemoved) {
    transitions_.push_back({a, from, DeviceState::kAvailable, {}, why});
  }
  CollectRelatives(a, &affected);
  RecomputeSome(affected, why);
  return Status::Ok();
}

Status DeviceTable::UpdateIdentity(const LedgerDevice& seen) {
  auto it = devices_.find(seen.address);
  if (it == devices_.end()) {
    return Status::NotFound("PCI device " + seen.address.ToString() +
                            " is not in the ledger");
  }
  LedgerDevice& d = it->second;
  // Old and new relatives (the PF or group may change); see Add.
  std::vector<PciAddress> affected;
  CollectRelatives(d.address, &affected);
  IndexErase(d);
  d.vendor_id = seen.vendor_id;
  d.product_id = seen.product_id;
  d.dev_type = seen.dev_type;
  d.parent_addr = seen.parent_addr;
  d.numa_node = seen.numa_node;
  d.iommu_group = seen.iommu_group;
  d.driver = seen.driver;
  IndexInsert(d);
  CollectRelatives(d.address, &affected);
  RecomputeSome(affected,
                "identity of " + seen.address.ToString() + " changed");
  return Status::Ok();
}

}  // namespace pcipass::claims
