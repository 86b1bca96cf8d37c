// The claims service on a real SQLite ledger: claim, rollback, release,
// reconcile (rows 57-58 and the drift kinds), usage, settings, and a
// property test over random claim/release sequences.
#include "claims/service.h"

#include <gtest/gtest.h>

#include <random>

#include "claims/test_hosts.h"
#include "testing/fixture_tree.h"

namespace pcipass::claims {
namespace {

using testhosts::A;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = Ledger::OpenSqlite(tree_.Abs("state/ledger.sqlite"));
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
    snap_ = testhosts::SmallHost();
  }

  ClaimOptions Opts(const std::string& instance) {
    ClaimOptions o;
    o.instance = instance;
    o.detach_fn = [this](const std::vector<PciAddress>& a,
                         std::vector<std::string>*) {
      detach_calls_.push_back(a);
      return detach_result_;
    };
    return o;
  }

  std::map<PciAddress, LedgerDevice> Devices() {
    std::map<PciAddress, LedgerDevice> m;
    auto devs = ledger_->ListDevices();
    for (auto& d : *devs) m[d.address] = d;
    return m;
  }

  testing::FixtureTree tree_;
  std::unique_ptr<Ledger> ledger_;
  HostSnapshot snap_;
  std::vector<std::vector<PciAddress>> detach_calls_;
  Status detach_result_;
};

TEST_F(ServiceTest, ClaimAllocatesDetachesAndRecordsHistory) {
  auto out = Claim(*ledger_, snap_,
                   {testhosts::Request("nic", 2, "1515"),
                    testhosts::Request("gpu", 1, "20b0")},
                   Opts("vm-1"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(out->ok) << out->status.ToString();
  ASSERT_EQ(out->claims.size(), 3u);
  for (const ClaimRecord& c : out->claims) {
    EXPECT_EQ(c.state, "allocated") << c.address.ToString();
    EXPECT_EQ(Devices()[c.address].state, DeviceState::kAllocated);
    EXPECT_EQ(Devices()[c.address].owner, "vm-1");
  }
  // The GPU's spec says managed=true: libvirt detaches it, pcipass not.
  ASSERT_EQ(detach_calls_.size(), 1u);
  EXPECT_EQ(detach_calls_[0].size(), 2u);
  EXPECT_EQ(out->skipped_detach, std::vector<PciAddress>{A("0000:41:00.0")});
  // The VFs' PF is unavailable now.
  EXPECT_EQ(Devices()[A("0000:3b:00.0")].state, DeviceState::kUnavailable);
  auto claims = ledger_->ListClaims("vm-1");
  EXPECT_EQ((*claims)[0].tags.at("physical_network"), "physnet1");
  int claim_events = 0;
  auto events = ledger_->ListEvents({});
  for (const Event& e : *events) {
    claim_events += e.kind == "claim";
  }
  EXPECT_EQ(claim_events, 3);
}

TEST_F(ServiceTest, RefusedClaimChangesNothingButLogsTheRefusal) {
  auto out = Claim(*ledger_, snap_, {testhosts::Request("nic", 99, "1515")},
                   Opts("vm-1"));
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->ok);
  EXPECT_EQ(out->status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(out->status.message().find("failed at"), std::string::npos)
      << out->status.message();
  EXPECT_TRUE(ledger_->ListClaims(std::nullopt)->empty());
  EXPECT_TRUE(detach_calls_.empty());
  for (const auto& [a, d] : Devices()) {
    EXPECT_NE(d.state, DeviceState::kClaimed) << a.ToString();
  }
  EXPECT_EQ(ledger_->ListEvents({})->back().kind, "refuse");
}

TEST_F(ServiceTest, FailedHandOffRollsBackTheLedger) {
  detach_result_ = Status::Unavailable("unbind timed out");
  auto before = Devices();
  auto out = Claim(*ledger_, snap_, {testhosts::Request("nic", 2, "1515")},
                   Opts("vm-1"));
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->ok);
  EXPECT_EQ(out->status.code(), StatusCode::kUnavailable);
  EXPECT_NE(out->status.message().find("rolled back"), std::string::npos);
  EXPECT_TRUE(ledger_->ListClaims(std::nullopt)->empty());
  auto after = Devices();
  for (const auto& [a, d] : before) {
    EXPECT_EQ(after[a].state, d.state) << a.ToString();
  }
  int rollbacks = 0;
  auto events = ledger_->ListEvents({});
  for (const Event& e : *events) {
    rollbacks += e.kind == "rollback";
  }
  EXPECT_EQ(rollbacks, 2);
}

TEST_F(ServiceTest, InstanceClaimsOnceAndReleasesOnlyItsOwn) {
  ASSERT_TRUE(Claim(*ledger_, snap_, {testhosts::Request("nic", 1, "1515")},
                    Opts("vm-1"))
                  ->ok);
  auto again = Claim(*ledger_, snap_, {testhosts::Request("nic", 1, "1515")},
                     Opts("vm-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status.code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(Claim(*ledger_, snap_, {testhosts::Request("nic", 1, "1515")},
                    Opts("vm-2"))
                  ->ok);

  ReleaseOptions ro;
  ro.instance = "vm-3";
  auto none = Release(*ledger_, snap_, ro);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);

  std::vector<PciAddress> reattached;
  ro.instance = "vm-1";
  ro.reattach = true;
  ro.reattach_fn = [&](const std::vector<PciAddress>& a,
                       std::vector<std::string>*) {
    // Still owned while being reattached: nobody else can take it.
    for (const PciAddress& x : a) {
      EXPECT_EQ(Devices()[x].owner, "vm-1");
    }
    reattached = a;
    return Status::Ok();
  };
  auto rel = Release(*ledger_, snap_, ro);
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_EQ(rel->released.size(), 1u);
  EXPECT_EQ(reattached.size(), 1u);
  EXPECT_TRUE(ledger_->ListClaims("vm-1")->empty());
  EXPECT_EQ(ledger_->ListClaims("vm-2")->size(), 1u);
}

// pcipass's own driver changes (claim's detach, release's reattach) are
// recorded, not reported as drift by the next reconcile; a change by
// someone else still is.
TEST_F(ServiceTest, OwnDriverChangesAreNotDrift) {
  auto out = Claim(*ledger_, snap_, {testhosts::Request("nic", 1, "1515")},
                   Opts("vm-1"));
  ASSERT_TRUE(out.ok() && out->ok);
  PciAddress vf = out->claims[0].address;
  EXPECT_EQ(Devices()[vf].driver, "vfio-pci");
  HostSnapshot on_vfio = snap_;
  for (LedgerDevice& d : on_vfio.devices) {
    if (d.address == vf) d.driver = "vfio-pci";
  }
  EXPECT_TRUE(Reconcile(*ledger_, on_vfio)->drift.empty())
      << Reconcile(*ledger_, on_vfio)->drift[0].detail;

  ReleaseOptions ro;
  ro.instance = "vm-1";
  ro.reattach = true;
  ro.reattach_fn = [](const std::vector<PciAddress>&,
                      std::vector<std::string>*) { return Status::Ok(); };
  HostSnapshot back = snap_;
  for (LedgerDevice& d : back.devices) {
    if (d.address == vf) d.driver = "iavf";
  }
  ro.rescan = [&back]() -> Result<HostSnapshot> { return back; };
  auto rel = Release(*ledger_, on_vfio, ro);
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_TRUE(rel->drift.drift.empty()) << rel->drift.drift[0].detail;
  EXPECT_EQ(Devices()[vf].driver, "iavf");
  EXPECT_TRUE(Reconcile(*ledger_, back)->drift.empty());

  // Someone else binds it elsewhere: that is drift.
  HostSnapshot other = back;
  for (LedgerDevice& d : other.devices) {
    if (d.address == vf) d.driver = "pci-stub";
  }
  auto rep = Reconcile(*ledger_, other);
  ASSERT_EQ(rep->drift.size(), 1u);
  EXPECT_EQ(rep->drift[0].kind, "driver_changed");
}

TEST_F(ServiceTest, ReattachFailureIsANoteAndTheDevicesAreStillFreed) {
  ASSERT_TRUE(Claim(*ledger_, snap_, {testhosts::Request("nic", 1, "1515")},
                    Opts("vm-1"))
                  ->ok);
  ReleaseOptions ro;
  ro.instance = "vm-1";
  ro.reattach = true;
  ro.reattach_fn = [](const std::vector<PciAddress>&,
                      std::vector<std::string>*) {
    return Status::IOError("bind e1000e: EIO");
  };
  auto rel = Release(*ledger_, snap_, ro);
  ASSERT_TRUE(rel.ok());
  ASSERT_EQ(rel->notes.size(), 1u);
  EXPECT_NE(rel->notes[0].find("EIO"), std::string::npos);
  EXPECT_TRUE(ledger_->ListClaims(std::nullopt)->empty());
}

TEST_F(ServiceTest, Row57VanishedWhileAllocatedIsRemovedNeverRepooled) {
  auto out = Claim(*ledger_, snap_, {testhosts::Request("gpu", 1, "20b0")},
                   Opts("vm-1"));
  ASSERT_TRUE(out->ok);
  HostSnapshot gone = snap_;
  testhosts::DropDevice(&gone, A("0000:41:00.0"));
  auto rep = Reconcile(*ledger_, gone);
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->drift.size(), 1u);
  EXPECT_EQ(rep->drift[0].kind, "vanished_while_held");
  EXPECT_EQ(Devices()[A("0000:41:00.0")].state, DeviceState::kRemoved);
  EXPECT_EQ((*ledger_->ListClaims("vm-1"))[0].state, "removed");
  // Coming back while still held: reported, stays removed.
  auto back = Reconcile(*ledger_, snap_);
  ASSERT_EQ(back->drift.size(), 1u);
  EXPECT_EQ(back->drift[0].kind, "reappeared_while_held");
  ReleaseOptions ro;
  ro.instance = "vm-1";
  ASSERT_TRUE(Release(*ledger_, gone, ro).ok());
  EXPECT_EQ(Devices()[A("0000:41:00.0")].state, DeviceState::kRemoved);
  // A later sighting makes it available again.
  auto seen = Reconcile(*ledger_, snap_);
  EXPECT_EQ(seen->drift[0].kind, "reappeared");
  EXPECT_EQ(Devices()[A("0000:41:00.0")].state, DeviceState::kAvailable);
  // An unowned device that vanishes is removed at once.
  auto unowned = Reconcile(*ledger_, gone);
  EXPECT_EQ(unowned->drift[0].kind, "removed");
}

TEST_F(ServiceTest, Row58ChangesUnderneathAreReported) {
  ASSERT_TRUE(Reconcile(*ledger_, snap_).ok());
  HostSnapshot changed = snap_;
  for (LedgerDevice& d : changed.devices) {
    if (d.address == A("0000:41:00.0")) {
      d.vendor_id = 0x1002;
      d.driver = "vfio-pci";
      d.numa_node = 0;
    }
  }
  changed.host_use[A("0000:3b:00.0")] = "netdev: eth0 is up";
  auto rep = Reconcile(*ledger_, changed);
  ASSERT_TRUE(rep.ok());
  std::set<std::string> kinds;
  for (const auto& d : rep->drift) kinds.insert(d.kind);
  EXPECT_EQ(kinds, (std::set<std::string>{"ids_changed", "driver_changed",
                                          "numa_changed", "reserved"}));
  EXPECT_EQ(Devices()[A("0000:41:00.0")].vendor_id, 0x1002);
  EXPECT_EQ(Devices()[A("0000:3b:00.0")].state, DeviceState::kReserved);
  // A PF the host uses still lends its VFs (the usual SR-IOV set-up).
  EXPECT_EQ(Devices()[A("0000:3b:00.2")].state, DeviceState::kAvailable);
  auto unres = Reconcile(*ledger_, snap_);
  EXPECT_EQ(Devices()[A("0000:3b:00.0")].state, DeviceState::kAvailable);
  // Second reconcile of the same host: no drift.
  EXPECT_TRUE(Reconcile(*ledger_, snap_)->drift.empty());
}

TEST_F(ServiceTest, NoLongerAllowedWhileHeldIsKept) {
  ASSERT_TRUE(Claim(*ledger_, snap_, {testhosts::Request("gpu", 1, "20b0")},
                    Opts("vm-1"))
                  ->ok);
  HostSnapshot narrowed = snap_;
  testhosts::DropDevice(&narrowed, A("0000:41:00.0"));
  narrowed.present.insert(A("0000:41:00.0"));  // on the bus, not allowed
  auto rep = Reconcile(*ledger_, narrowed);
  ASSERT_EQ(rep->drift.size(), 1u);
  EXPECT_EQ(rep->drift[0].kind, "no_longer_allowed");
  EXPECT_EQ(Devices()[A("0000:41:00.0")].state, DeviceState::kAllocated);
}

TEST(UsageTest, DeviceHoursPerInstanceAndAlias) {
  auto ev = [](int64_t at, const char* kind, const char* inst, const char* addr,
               const char* alias) {
    Event e;
    e.at_unix = at;
    e.kind = kind;
    e.instance = inst;
    e.address = A(addr);
    e.alias_name = alias;
    return e;
  };
  std::vector<Event> events = {
      ev(0, "claim", "vm-a", "0000:01:00.0", "gpu"),
      ev(0, "claim", "vm-a", "0000:02:00.1", "nic"),
      ev(3600, "release", "vm-a", "0000:02:00.1", "nic"),
      ev(7200, "claim", "vm-b", "0000:02:00.1", "nic"),
      ev(9000, "rollback", "vm-b", "0000:02:00.1", "nic"),
      ev(10800, "claim", "vm-c", "0000:03:00.0", "gpu"),
  };
  // Window [1800, 14400): vm-a gpu 3.5 h (still held), nic 0.5 h; vm-b 0.5 h;
  // vm-c 1 h.
  UsageReport r = ComputeUsage(events, 1800, 14400);
  std::map<std::string, double> inst, alias;
  for (auto& row : r.by_instance) inst[row.key] = row.device_hours;
  for (auto& row : r.by_alias) alias[row.key] = row.device_hours;
  EXPECT_DOUBLE_EQ(inst["vm-a"], 4.0);
  EXPECT_DOUBLE_EQ(inst["vm-b"], 0.5);
  EXPECT_DOUBLE_EQ(inst["vm-c"], 1.0);
  EXPECT_DOUBLE_EQ(alias["gpu"], 4.5);
  EXPECT_DOUBLE_EQ(alias["nic"], 1.0);
  EXPECT_TRUE(ComputeUsage(events, 20000, 30000).by_instance.size() == 2);
  EXPECT_TRUE(ComputeUsage({}, 0, 10).by_instance.empty());
}

TEST(SettingsTest, ClaimsSection) {
  struct Case {
    const char* text;
    bool ok;
    const char* needle;
  } cases[] = {
      {"[claims]\nplacement = spread\nreattach_on_release = yes\n", true, ""},
      {"[claims]\nplacement = random\n", false, "'random'"},
      {"[claims]\nreattach_on_release = maybe\n", false, "'maybe'"},
      {"[claims]\nplacment = pack\n", false, "'placment'"},
      {"[pci]\n", true, ""},
  };
  for (const Case& c : cases) {
    auto ini = IniFile::Parse(c.text, "t.conf");
    ASSERT_TRUE(ini.ok()) << c.text;
    auto s = ReadClaimsSettings(*ini);
    EXPECT_EQ(s.ok(), c.ok) << c.text;
    if (!s.ok()) {
      EXPECT_NE(s.status().message().find(c.needle), std::string::npos)
          << s.status().message();
    }
  }
  auto ini = IniFile::Parse(
      "[claims]\nplacement = spread\nreattach_on_release = yes\n", "t");
  auto s = ReadClaimsSettings(*ini);
  EXPECT_EQ(s->placement, Placement::kSpread);
  EXPECT_TRUE(s->reattach_on_release);
}

// Property: random claims and releases never give a device to two
// instances, never lose one, and keep free + held + unavailable + other =
// total after every step.
TEST_F(ServiceTest, PropertyRandomClaimsAndReleases) {
  snap_ = testhosts::BigHost();
  std::mt19937 rng(20261122);
  const char* products[] = {"1515", "20b0", "1528"};
  std::set<std::string> live;
  size_t total = snap_.devices.size();
  for (int step = 0; step < 300; ++step) {
    std::string inst = "vm-" + std::to_string(rng() % 12);
    if (live.count(inst) && rng() % 2) {
      ReleaseOptions ro;
      ro.instance = inst;
      ASSERT_TRUE(Release(*ledger_, snap_, ro).ok()) << step;
      live.erase(inst);
    } else {
      std::vector<PciRequest> reqs;
      int n = 1 + static_cast<int>(rng() % 2);
      for (int i = 0; i < n; ++i) {
        const char* p = products[rng() % 3];
        std::string pf = p == std::string("1528") ? "type-PF" : "";
        reqs.push_back(testhosts::Request(
            "a" + std::to_string(i), 1 + static_cast<int>(rng() % 3), p, pf));
      }
      detach_result_ =
          rng() % 10 == 0 ? Status::IOError("injected") : Status::Ok();
      auto out = Claim(*ledger_, snap_, reqs, Opts(inst));
      ASSERT_TRUE(out.ok()) << step << out.status().ToString();
      if (out->ok) {
        live.insert(inst);
      } else if (out->status.code() != StatusCode::kAlreadyExists) {
        EXPECT_TRUE(ledger_->ListClaims(inst)->empty()) << step;
      }
    }
    // Invariants.
    auto claims = *ledger_->ListClaims(std::nullopt);
    auto devs = Devices();
    std::set<PciAddress> claimed;
    for (const ClaimRecord& c : claims) {
      ASSERT_TRUE(claimed.insert(c.address).second)
          << "step " << step << ": " << c.address.ToString() << " twice";
      ASSERT_EQ(devs[c.address].owner, c.instance) << step;
    }
    size_t free = 0, held = 0, unavailable = 0;
    for (const auto& [a, d] : devs) {
      if (d.state == DeviceState::kAvailable) ++free;
      if (DeviceTable::Held(d)) ++held;
      if (d.state == DeviceState::kUnavailable) ++unavailable;
      if (DeviceTable::Held(d)) {
        ASSERT_TRUE(claimed.count(a)) << step << " " << a.ToString();
      }
      // A PF and its VFs are never both held.
      if (d.parent_addr && DeviceTable::Held(d)) {
        ASSERT_FALSE(DeviceTable::Held(devs[*d.parent_addr])) << step;
      }
    }
    ASSERT_EQ(held, claimed.size()) << step;
    ASSERT_EQ(free + held + unavailable, total) << step;
  }
  for (const std::string& inst : std::set<std::string>(live)) {
    ReleaseOptions ro;
    ro.instance = inst;
    ASSERT_TRUE(Release(*ledger_, snap_, ro).ok());
  }
  for (const auto& [a, d] : Devices()) {
    EXPECT_EQ(d.state, DeviceState::kAvailable) << a.ToString();
  }
}

}  // namespace
}  // namespace pcipass::claims
