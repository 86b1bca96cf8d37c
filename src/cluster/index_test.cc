#include "cluster/index.h"

#include <gtest/gtest.h>

#include "cluster/test_cluster.h"

namespace pcipass::cluster {
namespace {

using testing::Add;
using testing::Addr;
using testing::Hosts;
using testing::Identity;
using testing::InventoryBuilder;
using testing::Request;
using Names = std::vector<std::string>;

constexpr int64_t kNow = 1000;

HostInventory Gpus(int free, int held = 0) {
  InventoryBuilder b;
  for (int i = 0; i < free + held; ++i) b.Gpu(0x40 + i, i % 2);
  for (int i = 0; i < held; ++i) b.Hold(Addr(0x40 + free + i));
  return b.Build();
}

TEST(ClusterIndex, CapacityFilterAndPackSpreadWeighers) {
  ClusterIndex index;
  Add(index, Identity("small"), Gpus(1));
  Add(index, Identity("mid"), Gpus(4, 4));
  Add(index, Identity("big"), Gpus(8));
  PlacementRequest req = Request({{"gpu", 2}});
  auto pack = index.Place(req, kNow);
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  EXPECT_EQ(Hosts(*pack), (Names{"mid", "big"}));
  EXPECT_EQ(pack->candidates[0].score, 4);
  EXPECT_EQ(pack->rejected.at("capacity"), 1u);
  EXPECT_EQ(pack->hosts_total, 3u);

  req.weigher = Weigher::kSpread;
  auto spread = index.Place(req, kNow);
  EXPECT_EQ(Hosts(*spread), (Names{"big", "mid"}));

  req.max_candidates = 1;
  EXPECT_EQ(Hosts(*index.Place(req, kNow)), (Names{"big"}));
}

TEST(ClusterIndex, TiesAreBrokenByHostName) {
  ClusterIndex index;
  for (const char* h : {"c", "a", "b"}) Add(index, Identity(h), Gpus(2));
  EXPECT_EQ(Hosts(*index.Place(Request({{"gpu", 1}}), kNow)),
            (Names{"a", "b", "c"}));
}

TEST(ClusterIndex, SameAliasTwiceNeedsTheSum) {
  ClusterIndex index;
  Add(index, Identity("three"), Gpus(3));
  Add(index, Identity("four"), Gpus(4));
  EXPECT_EQ(Hosts(*index.Place(Request({{"gpu", 2}, {"gpu", 2}}), kNow)),
            (Names{"four"}));
}

TEST(ClusterIndex, PfRequestNeedsAWhollyFreePf) {
  ClusterIndex index;
  Add(index, Identity("vf-used"),
      InventoryBuilder().Nic(0x10, 4, 0).Hold(Addr(0x10, 0, 1)).Build());
  Add(index, Identity("pf-used"),
      InventoryBuilder().Nic(0x10, 4, 0).Hold(Addr(0x10)).Build());
  Add(index, Identity("whole"), InventoryBuilder().Nic(0x10, 4, 0).Build());
  EXPECT_EQ(Hosts(*index.Place(Request({{"nic-pf", 1}}), kNow)),
            (Names{"whole"}));
  // VFs: the host whose PF is held has none; pack prefers the fuller one.
  EXPECT_EQ(Hosts(*index.Place(Request({{"nic-vf", 2}}), kNow)),
            (Names{"vf-used", "whole"}));

  auto why = index.Explain(Request({{"nic-pf", 1}}), "vf-used", kNow);
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(why->failed_filter, "capacity");
  EXPECT_EQ(why->message,
            "alias 'nic-pf' needs 1, 0 claimable (host PFs: 0 of 1 wholly "
            "free; VFs: 3 of 4 free); 1 IOMMU group(s) blocked");
}

TEST(ClusterIndex, TraitsAggregateAndAntiAffinity) {
  ClusterIndex index;
  Add(index, Identity("a", kNow, {"CUSTOM_SSD"}, "az1"), Gpus(2));
  Add(index, Identity("b", kNow, {}, "az1"), Gpus(2));
  Add(index, Identity("c", kNow, {"CUSTOM_SSD"}, "az2"), Gpus(2));
  PlacementRequest req = Request({{"gpu", 1}});
  req.required_traits = {"CUSTOM_SSD"};
  EXPECT_EQ(Hosts(*index.Place(req, kNow)), (Names{"a", "c"}));
  req.aggregate = "az2";
  EXPECT_EQ(Hosts(*index.Place(req, kNow)), (Names{"c"}));
  req.anti_affinity_hosts = {"c"};
  auto none = index.Place(req, kNow);
  EXPECT_TRUE(none->candidates.empty());
  EXPECT_EQ(none->rejected, (std::map<std::string, size_t>{
                                {"aggregate", 2}, {"anti_affinity", 1}}));

  req = Request({{"gpu", 1}});
  req.forbidden_traits = {"CUSTOM_SSD"};
  EXPECT_EQ(Hosts(*index.Place(req, kNow)), (Names{"b"}));
  req.forbidden_traits = {};
  req.required_traits = {"CUSTOM_NOBODY"};
  EXPECT_TRUE(index.Place(req, kNow)->candidates.empty());
  auto why = index.Explain(req, "a", kNow);
  EXPECT_EQ(why->failed_filter, "traits");
  EXPECT_EQ(why->message, "required trait 'CUSTOM_NOBODY' is missing");

  req = Request({{"gpu", 1}});
  req.aggregate = "az9";
  why = index.Explain(req, "b", kNow);
  EXPECT_EQ(why->failed_filter, "aggregate");
  EXPECT_EQ(why->message, "host is in aggregate 'az1', not the requested one");
}

TEST(ClusterIndex, LivenessExcludesStaleAndDeadHosts) {
  ClusterIndex index(IndexOptions{30});
  Add(index, Identity("fresh", kNow - 5), Gpus(2));
  Add(index, Identity("stale", kNow - 31), Gpus(2));
  Add(index, Identity("dead", kNow), Gpus(2));
  ASSERT_TRUE(index.MarkDead("dead").ok());
  PlacementRequest req = Request({{"gpu", 1}});
  auto r = index.Place(req, kNow);
  EXPECT_EQ(Hosts(*r), (Names{"fresh"}));
  EXPECT_EQ(r->rejected.at("liveness"), 2u);
  auto why = index.Explain(req, "stale", kNow);
  EXPECT_EQ(why->failed_filter, "liveness");
  EXPECT_EQ(why->message, "last heartbeat 31 s ago, timeout 30 s");
  EXPECT_EQ(index.Explain(req, "dead", kNow)->failed_filter, "liveness");

  ASSERT_TRUE(index.Heartbeat("stale", kNow).ok());
  ASSERT_TRUE(index.Heartbeat("dead", kNow).ok());
  EXPECT_EQ(Hosts(*index.Place(req, kNow)), (Names{"dead", "fresh", "stale"}));

  // 40 s later only "fresh" (last beat kNow - 5) has expired... and all
  // the others too: none beat again.
  EXPECT_EQ(index.ExpireHeartbeats(kNow + 40),
            (Names{"dead", "fresh", "stale"}));
  EXPECT_TRUE(index.ExpireHeartbeats(kNow + 41).empty());  // reported once
  EXPECT_FALSE(index.Alive("fresh", kNow));  // dead until it beats again
  ASSERT_TRUE(index.Heartbeat("fresh", kNow + 41).ok());
  EXPECT_TRUE(index.Alive("fresh", kNow + 41));
  EXPECT_EQ(index.Heartbeat("ghost", kNow).code(), StatusCode::kNotFound);
  EXPECT_EQ(index.MarkDead("ghost").code(), StatusCode::kNotFound);
}

TEST(ClusterIndex, UpdatesMoveHostsBetweenBucketsAndStaleOnesAreIgnored) {
  ClusterIndex index;
  HostIdentity a = Identity("a");
  Add(index, a, Gpus(8));
  Add(index, Identity("b"), Gpus(3));
  PlacementRequest req = Request({{"gpu", 4}});
  EXPECT_EQ(Hosts(*index.Place(req, kNow)), (Names{"a"}));

  a.generation = 5;
  auto up = index.Upsert(Summarize(a, Gpus(1, 7), synthetic::Aliases()));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(*up, UpsertOutcome::kUpdated);
  EXPECT_TRUE(index.Place(req, kNow)->candidates.empty());
  EXPECT_EQ(Hosts(*index.Place(Request({{"gpu", 1}}), kNow)),
            (Names{"a", "b"}));

  a.generation = 4;  // an older notification arriving late
  up = index.Upsert(Summarize(a, Gpus(8), synthetic::Aliases()));
  EXPECT_EQ(*up, UpsertOutcome::kStale);
  EXPECT_EQ(index.Find("a")->generation, 5);
  EXPECT_TRUE(index.Place(req, kNow)->candidates.empty());

  EXPECT_TRUE(index.Remove("b"));
  EXPECT_FALSE(index.Remove("b"));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(Hosts(*index.Place(Request({{"gpu", 1}}), kNow)), (Names{"a"}));
  EXPECT_EQ(index.Explain(req, "b", kNow).status().code(),
            StatusCode::kNotFound);

  // The freed slot is reused without leaking b's old buckets.
  Add(index, Identity("c"), Gpus(6));
  EXPECT_EQ(Hosts(*index.Place(req, kNow)), (Names{"c"}));
  EXPECT_EQ(index.size(), 2u);

  HostSummary nameless;
  EXPECT_EQ(index.Upsert(nameless).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ClusterIndex, NumaPoliciesOnGuestCells) {
  ClusterIndex index;
  // 2 GPUs on cell 0, 2 on cell 1, 1 without NUMA.
  Add(index, Identity("h"),
      InventoryBuilder()
          .Gpu(0x40, 0)
          .Gpu(0x41, 0)
          .Gpu(0x42, 1)
          .Gpu(0x43, 1)
          .Gpu(0x44, std::nullopt)
          .Build());
  auto on_cell0 = [](int count, NumaPolicy p) {
    PlacementRequest r = Request({{"gpu", count}}, p);
    r.numa.mode = GuestNuma::Mode::kCells;
    r.numa.cells = {0};
    return r;
  };
  EXPECT_EQ(
      index.Place(on_cell0(2, NumaPolicy::kRequired), kNow)->candidates.size(),
      1u);
  auto why = index.Explain(on_cell0(3, NumaPolicy::kRequired), "h", kNow);
  EXPECT_EQ(why->failed_filter, "numa");
  EXPECT_EQ(why->message,
            "alias 'gpu' needs 3 with NUMA policy required, 2 allowed "
            "(required: 2 on the cells)");
  // legacy: cell 0 + no-NUMA = 3, not 4.
  EXPECT_EQ(
      index.Place(on_cell0(3, NumaPolicy::kLegacy), kNow)->candidates.size(),
      1u);
  EXPECT_TRUE(
      index.Place(on_cell0(4, NumaPolicy::kLegacy), kNow)->candidates.empty());
  // preferred: anything.
  EXPECT_EQ(
      index.Place(on_cell0(5, NumaPolicy::kPreferred), kNow)->candidates.size(),
      1u);
  // socket: cell 1 is another socket, so only the 2 local ones.
  EXPECT_TRUE(
      index.Place(on_cell0(3, NumaPolicy::kSocket), kNow)->candidates.empty());

  // Any one cell: 2 required GPUs fit on cell 0 (lowest id first).
  PlacementRequest any = Request({{"gpu", 2}}, NumaPolicy::kRequired);
  any.numa.mode = GuestNuma::Mode::kAnyOneCell;
  auto r = index.Place(any, kNow);
  ASSERT_EQ(r->candidates.size(), 1u);
  EXPECT_EQ(r->candidates[0].numa_cells, (std::vector<int>{0}));
  any.requests[0].count = 3;
  EXPECT_TRUE(index.Place(any, kNow)->candidates.empty());
  EXPECT_EQ(index.Explain(any, "h", kNow)->failed_filter, "numa");

  PlacementRequest bad = Request({{"gpu", 1}});
  bad.numa.mode = GuestNuma::Mode::kCells;
  EXPECT_EQ(index.Place(bad, kNow).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ClusterIndex, SocketPolicyUsesCellsOfTheSameSocket) {
  ClusterIndex index;
  InventoryBuilder b;
  b.Gpu(0x40, 0).Gpu(0x41, 1).Gpu(0x42, 2);
  HostInventory inv = b.Build();
  inv.topology.cell_socket = {{0, 0}, {1, 0}, {2, 1}};
  Add(index, Identity("h"), inv);
  PlacementRequest r = Request({{"gpu", 2}}, NumaPolicy::kSocket);
  r.numa.mode = GuestNuma::Mode::kCells;
  r.numa.cells = {0};
  EXPECT_EQ(index.Place(r, kNow)->candidates.size(), 1u);
  r.requests[0].count = 3;
  auto why = index.Explain(r, "h", kNow);
  EXPECT_EQ(why->failed_filter, "numa");
  EXPECT_NE(why->message.find("socket: 2 on the sockets of the cells"),
            std::string::npos);
}

TEST(ClusterIndex, ExactFitRejectsWhatTheSummaryAllowsAndTheNextHostWins) {
  ClusterIndex index;
  // One PF with 2 VFs: the summary says 2 VFs and 1 whole PF, but a VF and
  // the PF can never be held together.
  Add(index, Identity("a-coupled"), InventoryBuilder().Nic(0x10, 2, 0).Build());
  Add(index, Identity("b-two-pfs"),
      InventoryBuilder().Nic(0x10, 2, 0).Nic(0x11, 2, 1).Build());
  PlacementRequest req = Request({{"nic-vf", 1}, {"nic-pf", 1}});
  auto place = index.Place(req, kNow);
  EXPECT_EQ(Hosts(*place), (Names{"a-coupled", "b-two-pfs"}));

  auto why = index.Explain(req, "a-coupled", kNow);
  ASSERT_TRUE(why.ok());
  EXPECT_FALSE(why->passes);
  EXPECT_EQ(why->failed_filter, "fit");
  EXPECT_NE(why->message.find("alias 'nic-pf'"), std::string::npos);
  EXPECT_NE(why->message.find("step dependency"), std::string::npos);
  ASSERT_TRUE(why->fit.has_value());

  auto fp = index.PlaceAndFit(req, kNow, "vm-1");
  ASSERT_TRUE(fp.ok());
  ASSERT_TRUE(fp->ok);
  EXPECT_EQ(fp->host, "b-two-pfs");
  ASSERT_EQ(fp->fit_rejected.size(), 1u);
  EXPECT_EQ(fp->fit_rejected[0].rfind("a-coupled: request 1", 0), 0u);
  EXPECT_EQ(fp->fit.picks.size(), 2u);

  auto ok = index.Explain(req, "b-two-pfs", kNow);
  EXPECT_TRUE(ok->passes);
  EXPECT_EQ(ok->filters.back().filter, "fit");
}

TEST(ClusterIndex, PlaceAndFitGoesPastMaxCandidates) {
  ClusterIndex index;
  // Three coupled hosts rank first (fewest devices), the fitting one last.
  for (const char* h : {"a", "b", "c"}) {
    Add(index, Identity(h), InventoryBuilder().Nic(0x10, 1, 0).Build());
  }
  Add(index, Identity("z"),
      InventoryBuilder().Nic(0x10, 2, 0).Nic(0x11, 2, 1).Build());
  PlacementRequest req = Request({{"nic-vf", 1}, {"nic-pf", 1}});
  req.max_candidates = 2;
  auto fp = index.PlaceAndFit(req, kNow, "vm-1");
  ASSERT_TRUE(fp->ok);
  EXPECT_EQ(fp->host, "z");
  EXPECT_EQ(fp->fit_rejected.size(), 3u);

  // Without any fitting host: refused, every candidate tried once.
  ASSERT_TRUE(index.Remove("z"));
  fp = index.PlaceAndFit(req, kNow, "vm-1");
  EXPECT_FALSE(fp->ok);
  EXPECT_EQ(fp->fit_rejected.size(), 3u);
}

TEST(ClusterIndex, InvalidRequestsNameTheProblem) {
  ClusterIndex index;
  Add(index, Identity("h"), Gpus(1));
  PlacementRequest empty;
  auto r = index.Place(empty, kNow);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);

  PlacementRequest unknown = Request({{"gpu", 1}});
  unknown.requests[0].alias_name = "tpu";
  r = index.Place(unknown, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("alias 'tpu'"), std::string::npos);

  PlacementRequest zero = Request({{"gpu", 0}});
  r = index.Place(zero, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("count 0"), std::string::npos);
  EXPECT_EQ(index.Explain(zero, "h", kNow).status().code(),
            StatusCode::kInvalidArgument);

  EXPECT_EQ(ParseWeigher("spread").value_or(Weigher::kPack), Weigher::kSpread);
  EXPECT_FALSE(ParseWeigher("random").ok());
}

}  // namespace
}  // namespace pcipass::cluster
