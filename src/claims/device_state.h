// DeviceTable: the one place where ledger device states change.
//
// States (store/ledger.h DeviceState) split in two kinds:
// - OWN states, entered only through an operation here: claimed, allocated
//   (an instance owns the device), reserved (the host uses it), removed
//   (vanished from sysfs; keeps its owner when it vanished while owned).
// - DERIVED states, never set directly: available and unavailable. After
//   every operation Recompute() derives them from the relatives, so they can
//   never drift (this replaces Nova's side effects on relatives and its
//   "inconsistent state" warning, bug 1969496, row 53):
//     a PF is unavailable while any of its VFs is held;
//     a VF is unavailable while its PF is held;
//     a device is unavailable while another member of its IOMMU group is
//     held by an instance or reserved for the host (VFIO gives a group to
//     one VM as a whole).
//   "Held" = claimed, allocated, or removed with an owner.
//
// Operations follow Nova's PciDevice state machine (nova-pci-semantics.md
// section 6, acceptance rows 51-56) with its bugs fixed: the PF error names
// the PF's own status (B12); freeing a device the instance does not hold is
// a clean error, never a crash (B17); freeing a device that vanished while
// held drops the ownership but keeps it removed, and its relatives ARE
// re-derived (B9).
//
// Every change is recorded as a Transition so the caller can write one event
// per change into the ledger's history.
#ifndef PCIPASS_CLAIMS_DEVICE_STATE_H_
#define PCIPASS_CLAIMS_DEVICE_STATE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/status.h"
#include "store/ledger.h"

namespace pcipass::claims {

struct Transition {
  PciAddress address;
  DeviceState from;
  DeviceState to;
  std::optional<std::string> owner;  // owner after (or before, for a free)
  std::string why;
};

class DeviceTable {
 public:
  DeviceTable() = default;
  // Takes the ledger's devices and derives available/unavailable at once
  // (transitions of that first derivation are recorded too).
  explicit DeviceTable(std::vector<LedgerDevice> devices);

  const std::map<PciAddress, LedgerDevice>& devices() const { return devices_; }
  const LedgerDevice* Find(const PciAddress& addr) const;
  // The changes made since construction or the last TakeTransitions().
  std::vector<Transition> TakeTransitions();
  const std::vector<Transition>& transitions() const { return transitions_; }

  // available -> claimed by |instance|.
  // Errors (the table is unchanged): NotFound for an unknown address;
  // FailedPrecondition "Not all Virtual Functions of PF <pf> are free: VF
  // <vf> is <state> by <owner>" (PF with a held VF, row 52); "Physical
  // Function <pf>, related to VF <vf>, is <PF state> by <owner> instead of
  // available" (row 54, B12 fixed); "<addr> is unavailable: IOMMU group <n>
  // member <m> is <state> ..." for a group held by someone else;
  // "PCI device <addr> is <state> instead of available" otherwise (row 51).
  Status Claim(const PciAddress& addr, const std::string& instance,
               const std::string& why);
  // claimed by |instance| -> allocated, or available -> allocated (the
  // claim step may be skipped, with the same checks as Claim).
  // Errors: Conflict "PCI device <addr> is owned by <a> instead of <b>"
  // (row 56); FailedPrecondition as for Claim.
  Status Allocate(const PciAddress& addr, const std::string& instance,
                  const std::string& why);
  // claimed/allocated by |instance| -> available (relatives re-derived);
  // removed and held by |instance| -> removed without owner (never
  // re-pooled). Errors: NotFound for an unknown address; Conflict when
  // another instance holds it; FailedPrecondition "PCI device <addr> is
  // <state> instead of claimed, allocated" (row 51).
  Status Free(const PciAddress& addr, const std::string& instance,
              const std::string& why);
  // Unowned device -> removed (a device no longer in sysfs or no longer
  // allowed). Errors: FailedPrecondition for claimed/allocated devices
  // (row 56: use Vanish for a held device that disappeared).
  Status Remove(const PciAddress& addr, const std::string& why);
  // The device disappeared from sysfs: held devices become removed and
  // keep their owner (never silently freed); others as Remove.
  Status Vanish(const PciAddress& addr, const std::string& why);
  // available/unavailable -> reserved (host use), and back with Unreserve.
  Status Reserve(const PciAddress& addr, const std::string& why);
  Status Unreserve(const PciAddress& addr, const std::string& why);
  // Adds a device that is new to the ledger (state derived), or brings
  // back an unowned removed device that reappeared. AlreadyExists if it is
  // present and not removed; FailedPrecondition if it is removed but still
  // owned (the instance must release it first).
  Status Add(LedgerDevice record, const std::string& why);
  // Replaces the identity fields (ids, type, parent, NUMA, group, driver)
  // of a present device; state and owner are kept.
  Status UpdateIdentity(const LedgerDevice& seen);

  // Whether an instance holds |d| (claimed, allocated, or removed with an
  // owner).
  static bool Held(const LedgerDevice& d);

  // Whether |instance| could claim |addr| now: OK, or FailedPrecondition
  // with the Claim messages above. |step| (if given) receives the kind of
  // obstacle: "in_use" (held, reserved or removed), "dependency" (PF/VF
  // relative held) or "group" (IOMMU group mate held by another instance
  // or reserved for the host). Group mates held by |instance| itself do
  // not block: one VM may hold a whole group.
  Status CheckTakeable(const PciAddress& addr, const std::string& instance,
                       std::string* step = nullptr) const;

 private:
  // Why |d| must be unavailable now, or "" if it may be available. Group
  // mates held by |instance| (if given) are ignored.
  std::string DependencyReason(const LedgerDevice& d,
                               const std::string* instance = nullptr) const;
  void Set(LedgerDevice& d, DeviceState to, std::optional<std::string> owner,
           std::string reason, const std::string& why);
  // Derives |d| from its relatives if it is available or unavailable.
  void Derive(LedgerDevice& d, const std::string& why);
  // Re-derives every available/unavailable device (the constructor).
  void Recompute(const std::string& why);
  // Re-derives only |addrs| (sorted, unique). Derived states depend only on
  // a device's PF, VFs and IOMMU group mates, and Recompute never changes
  // what they read (held and reserved states), so after a change to one
  // device re-deriving it and its relatives gives exactly what a full
  // Recompute would, with the same transitions in the same (address)
  // order, in O(relatives) instead of O(table).
  void RecomputeSome(const std::vector<PciAddress>& addrs,
                     const std::string& why);
  // |addr| itself, its PF, its VFs and its IOMMU group mates, as the index
  // holds them now.
  void CollectRelatives(const PciAddress& addr,
                        std::vector<PciAddress>* out) const;
  // Re-derives |addr| and its relatives (the end of every operation).
  void RecomputeAround(const PciAddress& addr, const std::string& why);
  // Rebuilds children_ and group_members_ from devices_.
  void Reindex();
  // Adds |d| to / removes it from children_ and group_members_, keeping
  // each list in address order (as Reindex builds it).
  void IndexInsert(const LedgerDevice& d);
  void IndexErase(const LedgerDevice& d);

  std::map<PciAddress, LedgerDevice> devices_;
  // PF -> its VFs, IOMMU group -> members: keep the relative checks O(k).
  std::map<PciAddress, std::vector<PciAddress>> children_;
  std::map<int, std::vector<PciAddress>> group_members_;
  std::vector<Transition> transitions_;
};

}  // namespace pcipass::claims

#endif  // PCIPASS_CLAIMS_DEVICE_STATE_H_
