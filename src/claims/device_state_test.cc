// The ledger state machine: nova-pci-semantics.md section 6, rows 51-56,
// with B9/B12/B17 fixed and IOMMU group coupling added.
#include "claims/device_state.h"

#include <gtest/gtest.h>

namespace pcipass::claims {
namespace {

PciAddress A(const char* s) { return *PciAddress::Parse(s); }

LedgerDevice Rec(const char* addr, DeviceType type,
                 std::optional<const char*> parent = std::nullopt,
                 std::optional<int> group = std::nullopt) {
  LedgerDevice d;
  d.address = A(addr);
  d.vendor_id = 0x8086;
  d.product_id = type == DeviceType::kPf ? 0x1528 : 0x1515;
  d.dev_type = type;
  if (parent) d.parent_addr = A(*parent);
  d.iommu_group = group;
  return d;
}

// One PF 0000:0a:00.0 with four VFs .1-.4 (each in its own group).
DeviceTable PfWithVfs() {
  std::vector<LedgerDevice> v = {Rec("0000:0a:00.0", DeviceType::kPf, {}, 10)};
  for (int i = 1; i <= 4; ++i) {
    std::string a = "0000:0a:00." + std::to_string(i);
    v.push_back(Rec(a.c_str(), DeviceType::kVf, "0000:0a:00.0", 10 + i));
  }
  return DeviceTable(v);
}

DeviceState StateOf(const DeviceTable& t, const char* a) {
  return t.Find(A(a))->state;
}

TEST(DeviceTableTest, Row51ClaimAllocatedAndFreeRemovedAreInvalid) {
  DeviceTable t({Rec("0000:01:00.0", DeviceType::kPci)});
  ASSERT_TRUE(t.Allocate(A("0000:01:00.0"), "vm-a", "").ok());
  Status s = t.Claim(A("0000:01:00.0"), "vm-b", "");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "PCI device 0000:01:00.0 is allocated by vm-a instead of "
            "available");

  DeviceTable r({Rec("0000:01:00.0", DeviceType::kPci)});
  ASSERT_TRUE(r.Remove(A("0000:01:00.0"), "gone").ok());
  Status f = r.Free(A("0000:01:00.0"), "vm-a", "");
  EXPECT_EQ(f.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(f.message().find("is removed instead of claimed, allocated"),
            std::string::npos)
      << f.message();
}

TEST(DeviceTableTest, Row52ClaimPfWithClaimedChildChangesNothing) {
  DeviceTable t = PfWithVfs();
  ASSERT_TRUE(t.Claim(A("0000:0a:00.2"), "vm-a", "").ok());
  auto before = t.devices();
  Status s = t.Claim(A("0000:0a:00.0"), "vm-b", "");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "Not all Virtual Functions of PF 0000:0a:00.0 are free: VF "
            "0000:0a:00.2 is claimed by vm-a");
  std::string step;
  Status c = t.CheckTakeable(A("0000:0a:00.0"), "vm-b", &step);
  EXPECT_EQ(step, "dependency");
  for (const auto& [a, d] : t.devices()) {
    EXPECT_EQ(d.state, before.at(a).state) << a.ToString();
  }
}

TEST(DeviceTableTest, Row53InconsistentChildrenAreRepaired) {
  // Children stored "unavailable" under an available parent (bug 1969496):
  // derivation repairs them, the PF claim succeeds, and after free every
  // child is available again.
  std::vector<LedgerDevice> v = {Rec("0000:0a:00.0", DeviceType::kPf)};
  for (int i = 1; i <= 2; ++i) {
    std::string a = "0000:0a:00." + std::to_string(i);
    v.push_back(Rec(a.c_str(), DeviceType::kVf, "0000:0a:00.0"));
    v.back().state = DeviceState::kUnavailable;
  }
  DeviceTable t(v);
  EXPECT_EQ(StateOf(t, "0000:0a:00.1"), DeviceState::kAvailable);
  ASSERT_TRUE(t.Claim(A("0000:0a:00.0"), "vm-a", "").ok());
  EXPECT_EQ(StateOf(t, "0000:0a:00.1"), DeviceState::kUnavailable);
  EXPECT_NE(t.Find(A("0000:0a:00.1"))->reason.find("its PF 0000:0a:00.0"),
            std::string::npos);
  ASSERT_TRUE(t.Allocate(A("0000:0a:00.0"), "vm-a", "").ok());
  ASSERT_TRUE(t.Free(A("0000:0a:00.0"), "vm-a", "").ok());
  for (const auto& [a, d] : t.devices()) {
    EXPECT_EQ(d.state, DeviceState::kAvailable) << a.ToString();
  }
}

TEST(DeviceTableTest, Row54VfWithClaimedParentNamesTheParentsState) {
  DeviceTable t = PfWithVfs();
  ASSERT_TRUE(t.Claim(A("0000:0a:00.0"), "vm-a", "").ok());
  for (bool allocate : {false, true}) {
    Status s = allocate ? t.Allocate(A("0000:0a:00.1"), "vm-b", "")
                        : t.Claim(A("0000:0a:00.1"), "vm-b", "");
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << allocate;
    // B12 fixed: the PF's own status, not the VF's.
    EXPECT_NE(s.message().find("is claimed by vm-a"), std::string::npos)
        << s.message();
  }
}

TEST(DeviceTableTest, Row55ParentUnavailableUntilLastSiblingFreed) {
  DeviceTable t = PfWithVfs();
  const char* vfs[] = {"0000:0a:00.1", "0000:0a:00.2", "0000:0a:00.3",
                       "0000:0a:00.4"};
  for (const char* vf : vfs) {
    ASSERT_TRUE(t.Claim(A(vf), "vm-a", "").ok()) << vf;
    ASSERT_TRUE(t.Allocate(A(vf), "vm-a", "").ok()) << vf;
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(StateOf(t, "0000:0a:00.0"), DeviceState::kUnavailable) << i;
    ASSERT_TRUE(t.Free(A(vfs[i]), "vm-a", "").ok());
  }
  EXPECT_EQ(StateOf(t, "0000:0a:00.0"), DeviceState::kAvailable);
}

TEST(DeviceTableTest, Row56OwnerAndStatusChecks) {
  DeviceTable t({Rec("0000:01:00.0", DeviceType::kPci),
                 Rec("0000:02:00.0", DeviceType::kPci)});
  ASSERT_TRUE(t.Claim(A("0000:01:00.0"), "vm-a", "").ok());
  Status wrong_owner = t.Allocate(A("0000:01:00.0"), "vm-b", "");
  EXPECT_EQ(wrong_owner.code(), StatusCode::kConflict);
  EXPECT_EQ(wrong_owner.message(),
            "PCI device 0000:01:00.0 is owned by vm-a instead of vm-b");
  Status remove_claimed = t.Remove(A("0000:01:00.0"), "");
  EXPECT_EQ(remove_claimed.code(), StatusCode::kFailedPrecondition);
  // A vanished held device keeps its owner; removing it is InvalidOwner.
  ASSERT_TRUE(t.Vanish(A("0000:01:00.0"), "gone from sysfs").ok());
  EXPECT_EQ(StateOf(t, "0000:01:00.0"), DeviceState::kRemoved);
  EXPECT_EQ(t.Find(A("0000:01:00.0"))->owner, "vm-a");
  EXPECT_EQ(t.Remove(A("0000:01:00.0"), "").code(), StatusCode::kConflict);
}

TEST(DeviceTableTest, FreeNeverTouchesAnotherInstancesDevice) {
  DeviceTable t({Rec("0000:01:00.0", DeviceType::kPci)});
  ASSERT_TRUE(t.Allocate(A("0000:01:00.0"), "vm-a", "").ok());
  Status s = t.Free(A("0000:01:00.0"), "vm-b", "");
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  EXPECT_EQ(StateOf(t, "0000:01:00.0"), DeviceState::kAllocated);
  EXPECT_EQ(t.Free(A("0000:09:00.0"), "vm-a", "").code(),
            StatusCode::kNotFound);  // B17: an error, not a crash
}

TEST(DeviceTableTest, VanishedWhileHeldIsNeverRepooled) {
  DeviceTable t = PfWithVfs();
  ASSERT_TRUE(t.Allocate(A("0000:0a:00.1"), "vm-a", "").ok());
  ASSERT_TRUE(t.Vanish(A("0000:0a:00.1"), "gone").ok());
  // Still held: the PF stays unavailable.
  EXPECT_EQ(StateOf(t, "0000:0a:00.0"), DeviceState::kUnavailable);
  ASSERT_TRUE(t.Free(A("0000:0a:00.1"), "vm-a", "released").ok());
  EXPECT_EQ(StateOf(t, "0000:0a:00.1"), DeviceState::kRemoved);
  EXPECT_FALSE(t.Find(A("0000:0a:00.1"))->owner.has_value());
  // B9 fixed: the relative it freed is re-derived.
  EXPECT_EQ(StateOf(t, "0000:0a:00.0"), DeviceState::kAvailable);
  // It comes back only when seen again.
  LedgerDevice again = Rec("0000:0a:00.1", DeviceType::kVf, "0000:0a:00.0");
  ASSERT_TRUE(t.Add(again, "reappeared").ok());
  EXPECT_EQ(StateOf(t, "0000:0a:00.1"), DeviceState::kAvailable);
}

TEST(DeviceTableTest, ReappearingWhileStillOwnedIsRefused) {
  DeviceTable t({Rec("0000:01:00.0", DeviceType::kPci)});
  ASSERT_TRUE(t.Allocate(A("0000:01:00.0"), "vm-a", "").ok());
  ASSERT_TRUE(t.Vanish(A("0000:01:00.0"), "gone").ok());
  Status s = t.Add(Rec("0000:01:00.0", DeviceType::kPci), "back");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(t.Add(Rec("0000:09:00.0", DeviceType::kPci), "new").code(),
            StatusCode::kOk);
  EXPECT_EQ(t.Add(Rec("0000:09:00.0", DeviceType::kPci), "dup").code(),
            StatusCode::kAlreadyExists);
}

TEST(DeviceTableTest, GroupMatesGoToOneInstanceOnly) {
  DeviceTable t({Rec("0000:05:00.0", DeviceType::kPci, {}, 7),
                 Rec("0000:05:00.1", DeviceType::kPci, {}, 7),
                 Rec("0000:06:00.0", DeviceType::kPci, {}, 8)});
  ASSERT_TRUE(t.Claim(A("0000:05:00.0"), "vm-a", "").ok());
  EXPECT_EQ(StateOf(t, "0000:05:00.1"), DeviceState::kUnavailable);
  std::string step;
  Status other = t.CheckTakeable(A("0000:05:00.1"), "vm-b", &step);
  EXPECT_EQ(step, "group");
  EXPECT_NE(other.message().find("IOMMU group 7 member 0000:05:00.0"),
            std::string::npos)
      << other.message();
  EXPECT_FALSE(t.Claim(A("0000:05:00.1"), "vm-b", "").ok());
  // The same instance may take the rest of its group.
  EXPECT_TRUE(t.Claim(A("0000:05:00.1"), "vm-a", "").ok());
  ASSERT_TRUE(t.Free(A("0000:05:00.0"), "vm-a", "").ok());
  EXPECT_EQ(StateOf(t, "0000:05:00.0"), DeviceState::kUnavailable);
  ASSERT_TRUE(t.Free(A("0000:05:00.1"), "vm-a", "").ok());
  EXPECT_EQ(StateOf(t, "0000:05:00.0"), DeviceState::kAvailable);
  EXPECT_EQ(StateOf(t, "0000:05:00.1"), DeviceState::kAvailable);
}

TEST(DeviceTableTest, ReservedGroupMateBlocksAndUnreserveRestores) {
  DeviceTable t({Rec("0000:05:00.0", DeviceType::kPci, {}, 7),
                 Rec("0000:05:00.1", DeviceType::kPci, {}, 7)});
  ASSERT_TRUE(t.Reserve(A("0000:05:00.1"), "eth0 is up").ok());
  EXPECT_EQ(StateOf(t, "0000:05:00.0"), DeviceState::kUnavailable);
  EXPECT_FALSE(t.Claim(A("0000:05:00.0"), "vm-a", "").ok());
  EXPECT_FALSE(t.Claim(A("0000:05:00.1"), "vm-a", "").ok());
  ASSERT_TRUE(t.Unreserve(A("0000:05:00.1"), "eth0 down").ok());
  EXPECT_EQ(StateOf(t, "0000:05:00.0"), DeviceState::kAvailable);
  EXPECT_EQ(t.Unreserve(A("0000:05:00.1"), "").code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(t.Claim(A("0000:05:00.0"), "vm-a", "").ok());
  EXPECT_EQ(t.Reserve(A("0000:05:00.0"), "x").code(),
            StatusCode::kFailedPrecondition);
}

TEST(DeviceTableTest, TransitionsRecordEveryChange) {
  DeviceTable t = PfWithVfs();
  t.TakeTransitions();
  ASSERT_TRUE(t.Claim(A("0000:0a:00.1"), "vm-a", "why").ok());
  auto tr = t.TakeTransitions();
  ASSERT_EQ(tr.size(), 2u);  // the VF, then its PF
  EXPECT_EQ(tr[0].address, A("0000:0a:00.1"));
  EXPECT_EQ(tr[0].to, DeviceState::kClaimed);
  EXPECT_EQ(tr[0].owner, "vm-a");
  EXPECT_EQ(tr[1].address, A("0000:0a:00.0"));
  EXPECT_EQ(tr[1].to, DeviceState::kUnavailable);
  EXPECT_TRUE(t.TakeTransitions().empty());
}

TEST(DeviceTableTest, UnknownAddressesAreNotFound) {
  DeviceTable t;
  const PciAddress a = A("0000:99:00.0");
  EXPECT_EQ(t.Claim(a, "i", "").code(), StatusCode::kNotFound);
  EXPECT_EQ(t.Allocate(a, "i", "").code(), StatusCode::kNotFound);
  EXPECT_EQ(t.Remove(a, "").code(), StatusCode::kNotFound);
  EXPECT_EQ(t.Vanish(a, "").code(), StatusCode::kNotFound);
  EXPECT_EQ(t.Reserve(a, "").code(), StatusCode::kNotFound);
  EXPECT_EQ(t.Unreserve(a, "").code(), StatusCode::kNotFound);
  EXPECT_EQ(t.UpdateIdentity(Rec("0000:99:00.0", DeviceType::kPci)).code(),
            StatusCode::kNotFound);
}

// Operations re-derive only the changed device's relatives (linear table
// building, issue 8 item 6). This checks that against the full derivation:
// after every operation of a long random sequence (claims, frees, vanish,
// reserve, re-adds with another PF or group, identity changes), a table
// built afresh from the same records derives exactly the same states and
// reasons, and changes nothing.
TEST(DeviceTableTest, LocalRederivationMatchesAFullOneAfterEveryOperation) {
  // 3 PFs with 5 VFs each; VFs of PF 0 share group 100 (ACS-less), the
  // rest have their own groups; 4 plain devices, two of them in group 200.
  std::vector<LedgerDevice> recs;
  std::vector<PciAddress> all;
  for (int p = 0; p < 3; ++p) {
    std::string pf = "0000:0" + std::to_string(p + 1) + ":00.0";
    recs.push_back(Rec(pf.c_str(), DeviceType::kPf, {}, 10 + p));
    for (int v = 1; v <= 5; ++v) {
      std::string vf =
          "0000:0" + std::to_string(p + 1) + ":00." + std::to_string(v);
      recs.push_back(Rec(vf.c_str(), DeviceType::kVf, pf.c_str(),
                         p == 0 ? 100 : 20 + p * 10 + v));
    }
  }
  for (int i = 0; i < 4; ++i) {
    std::string a = "0000:1" + std::to_string(i) + ":00.0";
    recs.push_back(Rec(a.c_str(), DeviceType::kPci, {}, i < 2 ? 200 : 300 + i));
  }
  all.reserve(recs.size());
  for (const LedgerDevice& d : recs) all.push_back(d.address);
  DeviceTable t(recs);
  const std::vector<std::string> vms = {"vm-a", "vm-b", "vm-c"};
  uint32_t seed = 12345;
  auto next = [&seed](uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % n;
  };
  int ok_ops = 0;
  for (int step = 0; step < 3000; ++step) {
    const PciAddress a = all[next(all.size())];
    const std::string& vm = vms[next(vms.size())];
    Status s;
    switch (next(9)) {
      case 0:
        s = t.Claim(a, vm, "c");
        break;
      case 1:
        s = t.Allocate(a, vm, "a");
        break;
      case 2:
        s = t.Free(a, vm, "f");
        break;
      case 3:
        s = t.Remove(a, "r");
        break;
      case 4:
        s = t.Vanish(a, "v");
        break;
      case 5:
        s = t.Reserve(a, "host");
        break;
      case 6:
        s = t.Unreserve(a, "no host");
        break;
      case 7: {
        // Reappears, maybe under another group.
        LedgerDevice back = *t.Find(a);
        if (next(2)) back.iommu_group = 100 + static_cast<int>(next(3)) * 100;
        s = t.Add(back, "back");
        break;
      }
      default: {
        // Identity change: another group or (for a VF) another PF.
        LedgerDevice seen = *t.Find(a);
        if (next(2)) {
          seen.iommu_group = 100 + static_cast<int>(next(3)) * 100;
        } else if (seen.parent_addr) {
          seen.parent_addr = all[static_cast<size_t>(next(3)) * 6];
        }
        s = t.UpdateIdentity(seen);
        break;
      }
    }
    if (s.ok()) ++ok_ops;
    std::vector<LedgerDevice> now;
    for (const auto& [addr, d] : t.devices()) now.push_back(d);
    DeviceTable fresh(now);
    ASSERT_TRUE(fresh.transitions().empty())
        << "step " << step << ": "
        << fresh.transitions().front().address.ToString()
        << " was not re-derived";
    for (const auto& [addr, d] : fresh.devices()) {
      const LedgerDevice& mine = *t.Find(addr);
      ASSERT_EQ(mine.state, d.state)
          << "step " << step << " " << addr.ToString();
      ASSERT_EQ(mine.reason, d.reason)
          << "step " << step << " " << addr.ToString();
    }
  }
  // The sequence must exercise the operations, not only their refusals.
  EXPECT_GT(ok_ops, 600);
}

}  // namespace
}  // namespace pcipass::claims
