#include "clusterdb/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "claims/test_hosts.h"
#include "clusterdb/agent.h"
#include "clusterdb/test_pg.h"

namespace pcipass::clusterdb {
namespace {

using claims::testhosts::A;
using claims::testhosts::Request;
using testing::TestDatabase;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PCIPASS_REQUIRE_PG();
    ASSERT_EQ(db_.error(), "");
    auto s = ClusterStore::Open(db_.conninfo());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  // Registers |name| with |snap| (as its agent would).
  void Register(const std::string& name, const claims::HostSnapshot& snap,
                std::vector<std::string> aggregates = {},
                std::vector<std::string> traits = {}) {
    AgentOptions o;
    o.host_name = name;
    o.aggregates = std::move(aggregates);
    o.traits = std::move(traits);
    auto r = store_->PushInventory(InventoryFromSnapshot(o, snap));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  PlaceSpec Spec(const std::string& id, const std::string& instance,
                 std::vector<PciRequest> reqs) {
    PlaceSpec s;
    s.id = id;
    s.instance = instance;
    s.requests = std::move(reqs);
    s.request_json = {{"test", id}};
    return s;
  }
  void ExpectCleanAudit() {
    auto a = store_->Audit();
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_TRUE(a->problems.empty()) << a->problems.front();
  }

  TestDatabase db_;
  std::unique_ptr<ClusterStore> store_;
};

TEST_F(StoreTest, PushIsIdempotentAndBumpsGenerationOnlyOnChange) {
  claims::HostSnapshot snap = claims::testhosts::SmallHost();
  AgentOptions o;
  o.host_name = "h1";
  auto first = store_->PushInventory(InventoryFromSnapshot(o, snap));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  auto gen1 = store_->HostGenerations();
  auto again = store_->PushInventory(InventoryFromSnapshot(o, snap));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(*store_->HostGenerations(), *gen1);
  snap.host_use[A("0000:42:00.0")] = "test: host uses it";
  auto changed = store_->PushInventory(InventoryFromSnapshot(o, snap));
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_GT(store_->HostGenerations()->at("h1"), gen1->at("h1"));
  auto hosts = store_->ListHosts();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].devices, 7);
  EXPECT_EQ((*hosts)[0].reserved, 1);
  EXPECT_TRUE((*hosts)[0].alive);
  ExpectCleanAudit();
}

TEST_F(StoreTest, PlacesExactDevicesAndKeepsPfVfExclusive) {
  Register("h1", claims::testhosts::SmallHost());
  auto vf =
      store_->PlaceOnHost("h1", Spec("p1", "vm-1", {Request("vf", 2, "1515")}));
  ASSERT_TRUE(vf.ok()) << vf.status().ToString();
  ASSERT_TRUE(vf->placed) << vf->message;
  EXPECT_EQ(vf->placement.status, "reserved");
  ASSERT_EQ(vf->placement.devices.size(), 2u);
  // The PF of held VFs cannot be placed for anyone.
  auto pf = store_->PlaceOnHost(
      "h1", Spec("p2", "vm-2", {Request("pf", 1, "1528", "type-PF")}));
  ASSERT_TRUE(pf.ok());
  EXPECT_FALSE(pf->placed);
  EXPECT_EQ(pf->refused_by, "fit");
  // Bypassing the fit: the database itself refuses the PF (trigger) and a
  // second owner of a VF (primary key).
  auto conn = &store_->connection();
  ASSERT_TRUE(conn->Exec("t",
                         "INSERT INTO placements (id, host, instance, status) "
                         "VALUES ('raw', 'h1', 'vm-raw', 'reserved')")
                  .ok());
  auto raw_pf = conn->Exec("t",
                           "INSERT INTO claims (host, address, instance, "
                           "placement_id) VALUES ('h1', '0000:3b:00.0', "
                           "'vm-raw', 'raw')");
  EXPECT_EQ(raw_pf.status().code(), StatusCode::kConflict);
  auto raw_vf = conn->Exec(
      "t",
      "INSERT INTO claims (host, address, instance, placement_id) VALUES "
      "('h1', $1, 'vm-raw', 'raw')",
      {vf->placement.devices[0].address.ToString()});
  EXPECT_EQ(raw_vf.status().code(), StatusCode::kConflict);
  ASSERT_TRUE(conn->Exec("t", "DELETE FROM placements WHERE id = 'raw'").ok());
  // Release, then the PF fits.
  ASSERT_TRUE(store_->Release("p1").ok());
  EXPECT_EQ(store_->Release("p1").code(), StatusCode::kNotFound);
  auto pf2 = store_->PlaceOnHost(
      "h1", Spec("p3", "vm-2", {Request("pf", 1, "1528", "type-PF")}));
  ASSERT_TRUE(pf2.ok());
  EXPECT_TRUE(pf2->placed) << pf2->message;
  ExpectCleanAudit();
}

TEST_F(StoreTest, IommuGroupIsNeverSplitBetweenInstances) {
  Register("h1", claims::testhosts::BigHost());  // 81:00.0/.1 share group 90
  // Take both free single-group GPUs first, so group 90 is what is left.
  auto a =
      store_->PlaceOnHost("h1", Spec("a", "vm-a", {Request("gpu", 2, "20b0")}));
  ASSERT_TRUE(a.ok() && a->placed);
  auto b =
      store_->PlaceOnHost("h1", Spec("b", "vm-b", {Request("gpu", 1, "20b0")}));
  ASSERT_TRUE(b.ok() && b->placed) << b->message;
  std::set<std::string> taken;
  for (const auto& d : a->placement.devices) taken.insert(d.address.ToString());
  for (const auto& d : b->placement.devices) taken.insert(d.address.ToString());
  auto c =
      store_->PlaceOnHost("h1", Spec("c", "vm-c", {Request("gpu", 1, "20b0")}));
  ASSERT_TRUE(c.ok());
  // vm-b holds one member of group 90 (or a single GPU): either way vm-c
  // gets no device of a group another instance holds.
  auto audit = store_->Audit();
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->problems.empty());
  auto raw = store_->connection().Exec(
      "t",
      "SELECT count(DISTINCT instance) FROM claims WHERE host = 'h1' AND "
      "iommu_group = 90");
  ASSERT_TRUE(raw.ok());
  EXPECT_LE(raw->Int(0, 0), 1);
}

TEST_F(StoreTest, ReservationExpiresUnlessConfirmed) {
  Register("h1", claims::testhosts::SmallHost());
  PlaceSpec quick = Spec("p1", "vm-1", {Request("gpu", 1, "20b0")});
  quick.reservation_ttl_s = 0;  // already expired
  ASSERT_TRUE(store_->PlaceOnHost("h1", quick)->placed);
  PlaceSpec slow = Spec("p2", "vm-2", {Request("gpu", 1, "20b0")});
  slow.reservation_ttl_s = 600;
  ASSERT_TRUE(store_->PlaceOnHost("h1", slow)->placed);
  auto confirm_late = store_->Confirm("p1");
  EXPECT_EQ(confirm_late.status().code(), StatusCode::kConflict);
  auto swept = store_->SweepExpired();
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(*swept, std::vector<std::string>{"p1"});
  EXPECT_EQ(store_->GetPlacement("p1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Confirm("p1").status().code(), StatusCode::kNotFound);
  auto ok = store_->Confirm("p2");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, "confirmed");
  EXPECT_FALSE(ok->expires_unix.has_value());
  EXPECT_TRUE(store_->SweepExpired()->empty());
  auto again = store_->Confirm("p2");  // idempotent
  EXPECT_TRUE(again.ok());
  ExpectCleanAudit();
}

TEST_F(StoreTest, DeadHostIsExcludedAndReported) {
  Register("h1", claims::testhosts::SmallHost());
  store_->set_dead_after_s(30);
  ASSERT_TRUE(store_->AgeHeartbeat("h1", 31).ok());
  auto r = store_->PlaceOnHost("h1",
                               Spec("p1", "vm-1", {Request("gpu", 1, "20b0")}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->placed);
  EXPECT_EQ(r->refused_by, "dead");
  EXPECT_NE(r->message.find("missed its heartbeats"), std::string::npos);
  auto hosts = store_->ListHosts();
  ASSERT_TRUE(hosts.ok());
  EXPECT_FALSE((*hosts)[0].alive);
  EXPECT_EQ(HostListingJson((*hosts)[0])["state"], "dead");
  ASSERT_TRUE(store_->Heartbeat("h1").ok());
  EXPECT_TRUE((*store_->ListHosts())[0].alive);
  EXPECT_EQ(store_->Heartbeat("nope").code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, HostFiltersAggregateTraitsAntiAffinity) {
  Register("h1", claims::testhosts::SmallHost(), {"rack1"}, {"CUSTOM_FAST"});
  PlaceSpec s = Spec("p1", "vm-1", {Request("gpu", 1, "20b0")});
  s.aggregate = "rack2";
  EXPECT_EQ(store_->PlaceOnHost("h1", s)->refused_by, "aggregate");
  s.aggregate = "rack1";
  s.traits = {"CUSTOM_SLOW"};
  EXPECT_EQ(store_->PlaceOnHost("h1", s)->refused_by, "traits");
  s.traits = {"CUSTOM_FAST"};
  ASSERT_TRUE(store_->PlaceOnHost("h1", s)->placed);
  PlaceSpec t = Spec("p2", "vm-2", {Request("gpu", 1, "20b0")});
  t.anti_affinity = {"vm-1"};
  auto r = store_->PlaceOnHost("h1", t);
  EXPECT_EQ(r->refused_by, "anti_affinity");
  EXPECT_NE(r->message.find("vm-1"), std::string::npos);
  EXPECT_EQ(store_->PlaceOnHost("nohost", t)->refused_by, "missing");
}

TEST_F(StoreTest, VanishedClaimedDeviceStaysUntilReleased) {
  claims::HostSnapshot snap = claims::testhosts::SmallHost();
  Register("h1", snap);
  auto p = store_->PlaceOnHost("h1",
                               Spec("p1", "vm-1", {Request("gpu", 1, "20b0")}));
  ASSERT_TRUE(p->placed);
  PciAddress gone = p->placement.devices[0].address;
  claims::testhosts::DropDevice(&snap, gone);
  Register("h1", snap);
  auto host = store_->LoadHost("h1");
  ASSERT_TRUE(host.ok());
  const LedgerDevice* d = host->fit.table.Find(gone);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->state, DeviceState::kRemoved);
  EXPECT_EQ(d->owner, "vm-1");
  ASSERT_TRUE(store_->Release("p1").ok());
  host = store_->LoadHost("h1");
  EXPECT_EQ(host->fit.table.Find(gone), nullptr);
  ExpectCleanAudit();
}

TEST_F(StoreTest, ConcurrentPlacersNeverShareADevice) {
  Register("h1", claims::testhosts::BigHost());  // 32 VFs on 4 PFs
  std::atomic<int> placed{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto s = ClusterStore::Open(db_.conninfo());
      if (!s.ok()) {
        ++errors;
        return;
      }
      for (int i = 0; i < 6; ++i) {
        std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r =
            (*s)->PlaceOnHost("h1", Spec(id, id, {Request("vf", 1, "1515")}));
        if (!r.ok()) {
          ++errors;
        } else if (r->placed) {
          ++placed;
        } else {
          ++refused;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(placed.load(), 32);  // exactly the capacity
  EXPECT_EQ(refused.load(), 48 - 32);
  ExpectCleanAudit();
}

}  // namespace
}  // namespace pcipass::clusterdb
