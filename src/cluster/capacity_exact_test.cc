// Capacity-exactness of the cluster index: on random small clusters, the
// summary filters never drop a host that claims::Fit accepts, PlaceAndFit
// refuses a request only when brute-force Fit over every host refuses it,
// and a limited Place returns exactly the head of the full ranking. Hosts
// fill up as placements are applied, so later requests meet full hosts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "cluster/index.h"
#include "cluster/synthetic.h"

namespace pcipass::cluster {
namespace {

constexpr int64_t kTimeout = 30;

// The host-level filters, written independently of the index.
bool HostLevelOk(const HostIdentity& id, const PlacementRequest& req,
                 int64_t now) {
  if (now - id.last_heartbeat_unix > kTimeout) return false;
  if (req.aggregate && id.aggregate != *req.aggregate) return false;
  for (const std::string& t : req.required_traits) {
    if (!id.traits.count(t)) return false;
  }
  for (const std::string& t : req.forbidden_traits) {
    if (id.traits.count(t)) return false;
  }
  return std::find(req.anti_affinity_hosts.begin(),
                   req.anti_affinity_hosts.end(),
                   id.host) == req.anti_affinity_hosts.end();
}

// Whether claims::Fit accepts |req| on |host| for some guest cell choice
// and either device placement.
bool BruteFits(const synthetic::Host& host, const PlacementRequest& req,
               const std::string& instance) {
  std::vector<std::vector<int>> choices;
  switch (req.numa.mode) {
    case GuestNuma::Mode::kNone:
      choices = {{}};
      break;
    case GuestNuma::Mode::kCells:
      choices = {req.numa.cells};
      break;
    case GuestNuma::Mode::kAnyOneCell:
      for (const auto& [cell, socket] : host.inventory.topology.cell_socket) {
        choices.push_back({cell});
      }
      if (choices.empty()) choices = {{}};
      break;
  }
  claims::FitHost fit = MakeFitHost(host.inventory);
  for (const auto& cells : choices) {
    for (claims::Placement p :
         {claims::Placement::kPack, claims::Placement::kSpread}) {
      claims::FitOptions o;
      o.instance = instance;
      o.numa_cells = cells;
      o.placement = p;
      if (claims::Fit(fit, req.requests, o).ok) return true;
    }
  }
  return false;
}

TEST(CapacityExact, PlaceNeverDropsAFittingHostAndRefusesOnlyWhenNoneFits) {
  const AliasTable aliases = synthetic::Aliases();
  int placed = 0, refused = 0, summary_only = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    synthetic::Options opt;
    opt.hosts = 12;
    opt.seed = seed;
    opt.small = true;
    opt.stale_fraction = 0.1;
    opt.max_used = 0.5;
    std::vector<synthetic::Host> hosts = synthetic::GenerateCluster(opt);
    ClusterIndex index(IndexOptions{kTimeout});
    std::map<std::string, size_t> by_name;
    for (size_t i = 0; i < hosts.size(); ++i) {
      by_name[hosts[i].identity.host] = i;
      ASSERT_TRUE(
          index
              .Upsert(Summarize(hosts[i].identity, hosts[i].inventory, aliases),
                      std::make_shared<HostInventory>(hosts[i].inventory))
              .ok());
    }
    std::mt19937_64 rng(seed * 7919);
    for (int k = 0; k < 60; ++k) {
      PlacementRequest req = synthetic::RandomRequest(rng, aliases, hosts);
      const std::string instance =
          "vm-" + std::to_string(seed) + "-" + std::to_string(k);
      SCOPED_TRACE("seed " + std::to_string(seed) + " request " +
                   std::to_string(k));

      std::set<std::string> feasible;
      for (const synthetic::Host& h : hosts) {
        if (HostLevelOk(h.identity, req, opt.now_unix) &&
            BruteFits(h, req, instance)) {
          feasible.insert(h.identity.host);
        }
      }

      PlacementRequest all = req;
      all.max_candidates = 0;
      auto full = index.Place(all, opt.now_unix);
      ASSERT_TRUE(full.ok()) << full.status().ToString();
      std::set<std::string> passing;
      for (const Candidate& c : full->candidates) passing.insert(c.host);
      for (const std::string& h : feasible) {
        EXPECT_TRUE(passing.count(h)) << h << " fits but the summary drops it";
      }
      summary_only += static_cast<int>(passing.size() - feasible.size());

      // A limited Place is the head of the full ranking.
      auto head = index.Place(req, opt.now_unix);
      ASSERT_TRUE(head.ok());
      ASSERT_EQ(head->candidates.size(),
                std::min(req.max_candidates, full->candidates.size()));
      for (size_t i = 0; i < head->candidates.size(); ++i) {
        EXPECT_EQ(head->candidates[i].host, full->candidates[i].host);
        EXPECT_EQ(head->candidates[i].score, full->candidates[i].score);
      }

      auto fp = index.PlaceAndFit(req, opt.now_unix, instance);
      ASSERT_TRUE(fp.ok()) << fp.status().ToString();
      std::string why;
      for (const std::string& r : fp->fit_rejected) why += r + "\n";
      ASSERT_EQ(fp->ok, !feasible.empty())
          << "feasible: " << *feasible.begin() << " weigher "
          << WeigherName(req.weigher) << "\n"
          << why;
      if (!fp->ok) {
        ++refused;
        continue;
      }
      ++placed;
      ASSERT_TRUE(feasible.count(fp->host)) << fp->host;
      // Apply the placement: the host's devices move to the fit's result.
      synthetic::Host& h = hosts[by_name[fp->host]];
      h.inventory.devices.clear();
      for (const auto& [a, d] : fp->fit.after.devices()) {
        h.inventory.devices.push_back(d);
      }
      ++h.identity.generation;
      auto up = index.Upsert(Summarize(h.identity, h.inventory, aliases),
                             std::make_shared<HostInventory>(h.inventory));
      ASSERT_TRUE(up.ok());
      EXPECT_EQ(*up, UpsertOutcome::kUpdated);
    }
  }
  // The random mix must exercise both outcomes, and the summary must be a
  // real (not always exact) pre-filter somewhere.
  EXPECT_GT(placed, 150);
  EXPECT_GT(refused, 150);
  EXPECT_GT(summary_only, 0);
  std::printf("placed %d, refused %d, summary-only passes %d\n", placed,
              refused, summary_only);
  RecordProperty("placed", placed);
  RecordProperty("refused", refused);
  RecordProperty("summary_only", summary_only);
}

}  // namespace
}  // namespace pcipass::cluster
