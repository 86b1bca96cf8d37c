#include "cluster/index.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <set>
#include <unordered_set>

namespace pcipass::cluster {
namespace {

const std::string kNewInstance = "(new instance)";

// The filters, in the order they run (and Explain reports them).
enum FilterId : int {
  kLiveness = 0,
  kAggregate,
  kTraits,
  kAntiAffinity,
  kCapacity,
  kNuma,
  kFilterCount,
  kPass = kFilterCount,
};
const char* const kFilterNames[] = {"liveness",      "aggregate", "traits",
                                    "anti_affinity", "capacity",  "numa"};

}  // namespace

std::string_view WeigherName(Weigher w) {
  return w == Weigher::kPack ? "pack" : "spread";
}

Result<Weigher> ParseWeigher(std::string_view text) {
  if (text == "pack") return Weigher::kPack;
  if (text == "spread") return Weigher::kSpread;
  return Status::InvalidArgument("weigher '" + std::string(text) +
                                 "' is not accepted; use pack or spread");
}

struct ClusterIndex::Impl {
  IndexOptions options;
  mutable std::shared_mutex mu;

  // Dense ids for alias names, traits and aggregates seen in summaries.
  std::unordered_map<std::string, uint32_t> alias_ids;
  std::vector<std::string> alias_names;
  std::unordered_map<std::string, uint32_t> trait_ids;
  std::unordered_map<std::string, uint32_t> aggregate_ids;  // "" is 0

  struct AliasRow {
    int32_t claimable = 0;
    uint32_t bucket_pos = 0;  // index in buckets[alias][claimable]
    std::vector<std::pair<int, int>> by_numa;  // sorted by node
  };
  struct Row {
    bool used = false;
    HostSummary summary;
    std::shared_ptr<const HostInventory> inventory;
    std::shared_ptr<const claims::FitHost> fit;
    std::vector<AliasRow> aliases;  // by alias id; missing ids are 0
    std::vector<uint64_t> traits;   // bitset by trait id
    uint32_t aggregate = 0;
    bool dead = false;
    int64_t heartbeat = 0;
    // Host cells in id order (for kAnyOneCell).
    std::vector<int> cells;
  };
  std::vector<Row> rows;
  std::vector<uint32_t> free_slots;
  std::unordered_map<std::string, uint32_t> slot_of;
  size_t live_rows = 0;
  // buckets[alias][count] = slots whose claimable count for alias is count
  // (count >= 1 only: a host without the alias is in no bucket).
  std::vector<std::vector<std::vector<uint32_t>>> buckets;

  uint32_t AliasId(const std::string& name) {
    auto [it, fresh] = alias_ids.emplace(name, alias_names.size());
    if (fresh) {
      alias_names.push_back(name);
      buckets.emplace_back();
    }
    return it->second;
  }
  uint32_t TraitId(const std::string& name) {
    return trait_ids.emplace(name, trait_ids.size()).first->second;
  }
  uint32_t AggregateId(const std::string& name) {
    if (name.empty()) return 0;
    return aggregate_ids.emplace(name, aggregate_ids.size() + 1).first->second;
  }

  static int32_t Claimable(const Row& r, uint32_t alias) {
    return alias < r.aliases.size() ? r.aliases[alias].claimable : 0;
  }

  void BucketInsert(uint32_t slot, uint32_t alias) {
    AliasRow& ar = rows[slot].aliases[alias];
    if (ar.claimable <= 0) return;
    auto& by_count = buckets[alias];
    if (by_count.size() <= static_cast<size_t>(ar.claimable)) {
      by_count.resize(ar.claimable + 1);
    }
    auto& bucket = by_count[ar.claimable];
    ar.bucket_pos = static_cast<uint32_t>(bucket.size());
    bucket.push_back(slot);
  }
  void BucketErase(uint32_t slot, uint32_t alias) {
    AliasRow& ar = rows[slot].aliases[alias];
    if (ar.claimable <= 0) return;
    auto& by_count = buckets[alias];
    auto& bucket = by_count[ar.claimable];
    const uint32_t last = bucket.back();
    bucket[ar.bucket_pos] = last;
    rows[last].aliases[alias].bucket_pos = ar.bucket_pos;
    bucket.pop_back();
    while (!by_count.empty() && by_count.back().empty()) by_count.pop_back();
  }
  void Unlink(uint32_t slot) {
    for (uint32_t a = 0; a < rows[slot].aliases.size(); ++a) {
      BucketErase(slot, a);
    }
  }

  bool Alive(const Row& r, int64_t now) const {
    return !r.dead && now - r.heartbeat <= options.heartbeat_timeout_s;
  }

  // ---- a request resolved against the registries ----
  struct Entry {
    uint32_t alias = 0;
    int count = 0;
    NumaPolicy policy = NumaPolicy::kLegacy;
    std::string name;
  };
  struct Need {
    uint32_t alias = 0;
    int count = 0;  // sum of the entries' counts
    std::string name;
  };
  struct Resolved {
    std::vector<Entry> entries;
    std::vector<Need> needs;  // one per distinct alias
    std::vector<uint32_t> required_traits;
    std::vector<uint32_t> forbidden_traits;
    std::string missing_trait;  // a required trait no host has
    bool any_aggregate = true;
    uint32_t aggregate = 0;
    bool aggregate_unknown = false;
    std::vector<uint32_t> anti_affinity;  // sorted slots
    GuestNuma numa;
  };

  Result<Resolved> Resolve(const PlacementRequest& req) const {
    Resolved r;
    if (req.requests.empty()) {
      return Status::InvalidArgument(
          "placement request has no PCI requests; give at least one "
          "alias:count");
    }
    for (size_t i = 0; i < req.requests.size(); ++i) {
      const PciRequest& p = req.requests[i];
      auto it = alias_ids.find(p.alias_name);
      if (it == alias_ids.end()) {
        return Status::InvalidArgument(
            "placement request " + std::to_string(i) + ": alias '" +
            p.alias_name +
            "' is not in any host summary; use an alias of the [pci] alias "
            "table the agents summarise");
      }
      if (p.count < 1) {
        return Status::InvalidArgument(
            "placement request " + std::to_string(i) + ": count " +
            std::to_string(p.count) + " for alias '" + p.alias_name +
            "' is below 1");
      }
      r.entries.push_back({it->second, p.count, p.numa_policy, p.alias_name});
      auto n = std::find_if(r.needs.begin(), r.needs.end(), [&](const Need& x) {
        return x.alias == it->second;
      });
      if (n == r.needs.end()) {
        r.needs.push_back({it->second, p.count, p.alias_name});
      } else {
        n->count += p.count;
      }
    }
    for (const std::string& t : req.required_traits) {
      auto it = trait_ids.find(t);
      if (it == trait_ids.end()) {
        if (r.missing_trait.empty()) r.missing_trait = t;
        continue;
      }
      r.required_traits.push_back(it->second);
    }
    for (const std::string& t : req.forbidden_traits) {
      auto it = trait_ids.find(t);
      if (it != trait_ids.end()) r.forbidden_traits.push_back(it->second);
    }
    if (req.aggregate) {
      r.any_aggregate = false;
      auto it = aggregate_ids.find(*req.aggregate);
      if (it == aggregate_ids.end()) {
        r.aggregate_unknown = true;
      } else {
        r.aggregate = it->second;
      }
    }
    for (const std::string& h : req.anti_affinity_hosts) {
      auto it = slot_of.find(h);
      if (it != slot_of.end()) r.anti_affinity.push_back(it->second);
    }
    std::sort(r.anti_affinity.begin(), r.anti_affinity.end());
    r.numa = req.numa;
    if (r.numa.mode == GuestNuma::Mode::kCells && r.numa.cells.empty()) {
      return Status::InvalidArgument(
          "guest NUMA mode 'cells' needs at least one host cell id");
    }
    return r;
  }

  static bool HasTrait(const Row& row, uint32_t t) {
    const size_t word = t / 64;
    return word < row.traits.size() && (row.traits[word] >> (t % 64)) & 1U;
  }

  // Devices of |e| on |row| that its NUMA policy allows with guest |cells|
  // (the rule of claims::SelectByNuma on the summary's counts).
  static int NumaAllowed(const Row& row, const Entry& e,
                         const std::vector<int>& cells, std::string* how) {
    const int32_t total = Claimable(row, e.alias);
    if (cells.empty()) {
      if (how) *how = "guest has no NUMA cells";
      return total;
    }
    static const std::vector<std::pair<int, int>> kEmpty;
    const auto& by =
        e.alias < row.aliases.size() ? row.aliases[e.alias].by_numa : kEmpty;
    auto on = [&](int node) {
      for (const auto& [n, c] : by) {
        if (n == node) return c;
      }
      return 0;
    };
    int local = 0;
    for (int c : cells) local += on(c);
    const int nonuma = on(kNoNuma);
    switch (e.policy) {
      case NumaPolicy::kRequired:
        if (how) *how = "required: " + std::to_string(local) + " on the cells";
        return local;
      case NumaPolicy::kLegacy:
        if (how) {
          *how = "legacy: " + std::to_string(local) + " on the cells + " +
                 std::to_string(nonuma) + " without NUMA";
        }
        return local >= e.count ? local : local + nonuma;
      case NumaPolicy::kPreferred:
        if (how) *how = "preferred: any of " + std::to_string(total);
        return total;
      case NumaPolicy::kSocket: {
        if (local >= e.count) {
          if (how) *how = "socket: " + std::to_string(local) + " on the cells";
          return local;
        }
        const auto& cs = row.summary.cell_socket;
        std::set<int> sockets;
        for (const auto& [cell, socket] : cs) {
          if (!socket) {
            if (how) {
              *how = "socket: host cell " + std::to_string(cell) +
                     " has no socket information";
            }
            return 0;
          }
          if (std::find(cells.begin(), cells.end(), cell) != cells.end()) {
            sockets.insert(*socket);
          }
        }
        int same = 0;
        for (const auto& [cell, socket] : cs) {
          if (sockets.count(*socket)) same += on(cell);
        }
        if (how) {
          *how = "socket: " + std::to_string(same) +
                 " on the sockets of the cells";
        }
        return same;
      }
    }
    return 0;
  }

  // Whether every entry passes NUMA with guest |cells|. |detail| gets the
  // first failing entry's numbers.
  static bool NumaFits(const Row& row, const Resolved& r,
                       const std::vector<int>& cells, std::string* detail) {
    for (const Entry& e : r.entries) {
      std::string how;
      const int allowed = NumaAllowed(row, e, cells, detail ? &how : nullptr);
      if (allowed < e.count) {
        if (detail) {
          *detail = "alias '" + e.name + "' needs " + std::to_string(e.count) +
                    " with NUMA policy " +
                    std::string(NumaPolicyName(e.policy)) + ", " +
                    std::to_string(allowed) + " allowed (" + how + ")";
        }
        return false;
      }
    }
    return true;
  }

  // Runs the filters on |row|. Returns the first failing filter or kPass;
  // |cells| gets the guest cells to use (kAnyOneCell: the first passing
  // cell, |alt_cells| the other passing ones). With |verdicts|, each
  // filter's verdict with numbers is appended.
  FilterId Check(const Row& row, uint32_t slot, const Resolved& r, int64_t now,
                 std::vector<int>* cells, std::vector<int>* alt_cells,
                 std::vector<FilterVerdict>* verdicts) const {
    auto verdict = [&](FilterId f, bool ok, std::string detail) {
      if (verdicts) verdicts->push_back({kFilterNames[f], ok, detail});
      return ok;
    };
    // liveness
    if (!Alive(row, now)) {
      if (verdicts) {
        verdict(kLiveness, false,
                row.dead
                    ? "host is marked dead (missed heartbeats or "
                      "reported down); it returns with its next "
                      "heartbeat"
                    : "last heartbeat " + std::to_string(now - row.heartbeat) +
                          " s ago, timeout " +
                          std::to_string(options.heartbeat_timeout_s) + " s");
      }
      return kLiveness;
    }
    if (verdicts) {
      verdict(
          kLiveness, true,
          "last heartbeat " + std::to_string(now - row.heartbeat) + " s ago");
    }
    // aggregate
    if (!r.any_aggregate &&
        (r.aggregate_unknown || row.aggregate != r.aggregate)) {
      if (verdicts) {
        verdict(kAggregate, false,
                "host is in aggregate '" + row.summary.aggregate +
                    "', not the requested one");
      }
      return kAggregate;
    }
    if (verdicts && !r.any_aggregate) {
      verdict(kAggregate, true,
              "host is in aggregate '" + row.summary.aggregate + "'");
    }
    // traits
    if (!r.missing_trait.empty()) {
      if (verdicts) {
        verdict(kTraits, false,
                "required trait '" + r.missing_trait + "' is missing");
      }
      return kTraits;
    }
    for (uint32_t t : r.required_traits) {
      if (!HasTrait(row, t)) {
        if (verdicts) {
          for (const auto& [name, id] : trait_ids) {
            if (id == t) {
              verdict(kTraits, false,
                      "required trait '" + name + "' is missing");
            }
          }
        }
        return kTraits;
      }
    }
    for (uint32_t t : r.forbidden_traits) {
      if (HasTrait(row, t)) {
        if (verdicts) {
          for (const auto& [name, id] : trait_ids) {
            if (id == t) {
              verdict(kTraits, false,
                      "forbidden trait '" + name + "' is present");
            }
          }
        }
        return kTraits;
      }
    }
    if (verdicts &&
        (!r.required_traits.empty() || !r.forbidden_traits.empty())) {
      verdict(kTraits, true, "required traits present, forbidden absent");
    }
    // anti-affinity
    if (std::binary_search(r.anti_affinity.begin(), r.anti_affinity.end(),
                           slot)) {
      if (verdicts) {
        verdict(kAntiAffinity, false,
                "host is in the request's anti-affinity set");
      }
      return kAntiAffinity;
    }
    // capacity
    for (const Need& n : r.needs) {
      const int32_t have = Claimable(row, n.alias);
      if (have < n.count) {
        if (verdicts) {
          std::string d = "alias '" + n.name + "' needs " +
                          std::to_string(n.count) + ", " +
                          std::to_string(have) + " claimable";
          int pfs = 0, whole = 0, vfs = 0, vfs_free = 0;
          for (const PfSummary& pf : row.summary.pfs) {
            ++pfs;
            whole += pf.wholly_free;
            vfs += pf.vfs_total;
            vfs_free += pf.vfs_free;
          }
          if (pfs > 0) {
            d += " (host PFs: " + std::to_string(whole) + " of " +
                 std::to_string(pfs) +
                 " wholly free; VFs: " + std::to_string(vfs_free) + " of " +
                 std::to_string(vfs) + " free)";
          }
          int blocked = 0;
          for (const GroupSummary& g : row.summary.groups) {
            blocked += !g.blocked_by.empty();
          }
          if (blocked > 0) {
            d += "; " + std::to_string(blocked) + " IOMMU group(s) blocked";
          }
          verdict(kCapacity, false, d);
        }
        return kCapacity;
      }
    }
    if (verdicts) {
      std::string d;
      for (const Need& n : r.needs) {
        if (!d.empty()) d += "; ";
        d += "alias '" + n.name + "' needs " + std::to_string(n.count) + ", " +
             std::to_string(Claimable(row, n.alias)) + " claimable";
      }
      verdict(kCapacity, true, d);
    }
    // NUMA
    std::string detail;
    std::string* dp = verdicts ? &detail : nullptr;
    switch (r.numa.mode) {
      case GuestNuma::Mode::kNone:
        cells->clear();
        break;
      case GuestNuma::Mode::kCells:
        if (!NumaFits(row, r, r.numa.cells, dp)) {
          if (verdicts) verdict(kNuma, false, detail);
          return kNuma;
        }
        *cells = r.numa.cells;
        break;
      case GuestNuma::Mode::kAnyOneCell: {
        cells->clear();
        if (alt_cells) alt_cells->clear();
        if (row.cells.empty()) break;  // host without NUMA: no filtering
        std::string first_detail;
        std::vector<int> one(1);
        for (int c : row.cells) {
          one[0] = c;
          if (NumaFits(row, r, one, dp)) {
            if (cells->empty()) {
              cells->push_back(c);
              if (!alt_cells) break;
            } else {
              alt_cells->push_back(c);
            }
          } else if (dp && first_detail.empty()) {
            first_detail = "cell " + std::to_string(c) + ": " + detail;
          }
        }
        if (cells->empty()) {
          if (verdicts) {
            verdict(kNuma, false,
                    "no host cell fits the guest; first: " + first_detail);
          }
          return kNuma;
        }
        break;
      }
    }
    if (verdicts && r.numa.mode != GuestNuma::Mode::kNone) {
      std::string c;
      for (int x : *cells) c += (c.empty() ? "" : ",") + std::to_string(x);
      verdict(kNuma, true, "guest cells " + c);
    }
    return kPass;
  }

  int64_t Score(const Row& row, const Resolved& r) const {
    int64_t s = 0;
    for (const Need& n : r.needs) s += Claimable(row, n.alias);
    return s;
  }

  PlacementResult Place(const Resolved& r, const PlacementRequest& req,
                        int64_t now) const {
    PlacementResult out;
    out.hosts_total = live_rows;
    const bool pack = req.weigher == Weigher::kPack;
    const size_t limit = req.max_candidates == 0
                             ? std::numeric_limits<size_t>::max()
                             : req.max_candidates;
    size_t rejected[kFilterCount] = {};

    // The driving alias: the one with the fewest hosts that have enough.
    size_t best = 0;
    size_t best_hosts = std::numeric_limits<size_t>::max();
    for (size_t i = 0; i < r.needs.size(); ++i) {
      const auto& by_count = buckets[r.needs[i].alias];
      size_t hosts = 0;
      for (size_t c = r.needs[i].count; c < by_count.size(); ++c) {
        hosts += by_count[c].size();
      }
      if (hosts < best_hosts) {
        best_hosts = hosts;
        best = i;
      }
    }
    const Need& driver = r.needs[best];
    const auto& by_count = buckets[driver.alias];
    int64_t others_min = 0, others_max = 0;
    for (size_t i = 0; i < r.needs.size(); ++i) {
      if (i == best) continue;
      others_min += r.needs[i].count;
      others_max += static_cast<int64_t>(buckets[r.needs[i].alias].size());
    }

    struct Found {
      int64_t score;
      const Row* row;
      uint32_t slot;
      std::vector<int> cells;
    };
    std::vector<Found> found;
    auto better = [&](const Found& a, const Found& b) {
      if (a.score != b.score)
        return pack ? a.score < b.score : a.score > b.score;
      return a.row->summary.host < b.row->summary.host;
    };
    std::vector<int> cells;
    auto scan_bucket = [&](const std::vector<uint32_t>& bucket) {
      for (uint32_t slot : bucket) {
        const Row& row = rows[slot];
        ++out.hosts_examined;
        FilterId f = Check(row, slot, r, now, &cells, nullptr, nullptr);
        if (f != kPass) {
          ++rejected[f];
          continue;
        }
        found.push_back({Score(row, r), &row, slot, cells});
      }
    };
    // The k-th best score so far (found has >= limit entries).
    auto kth_score = [&]() {
      std::nth_element(found.begin(), found.begin() + (limit - 1), found.end(),
                       better);
      found.resize(limit);
      return found[limit - 1].score;
    };
    const int64_t first = driver.count;
    const int64_t last = static_cast<int64_t>(by_count.size()) - 1;
    if (pack) {
      for (int64_t c = first; c <= last; ++c) {
        scan_bucket(by_count[c]);
        if (found.size() >= limit &&
            limit != std::numeric_limits<size_t>::max()) {
          // Every host in later buckets scores at least c + 1 + others_min.
          if (kth_score() < c + 1 + others_min) break;
        }
      }
    } else {
      for (int64_t c = last; c >= first; --c) {
        scan_bucket(by_count[c]);
        if (found.size() >= limit &&
            limit != std::numeric_limits<size_t>::max()) {
          // Every host in later buckets scores at most c - 1 + others_max.
          if (kth_score() > c - 1 + others_max) break;
        }
      }
    }
    std::sort(found.begin(), found.end(), better);
    if (found.size() > limit) found.resize(limit);
    for (Found& f : found) {
      out.candidates.push_back({f.row->summary.host, f.row->summary.generation,
                                f.score, std::move(f.cells)});
    }
    // Hosts outside the driver's buckets lack capacity for it (never
    // examined: that is what keeps a refusal cheap).
    out.rejected["capacity"] += live_rows - best_hosts;
    for (int f = 0; f < kFilterCount; ++f) {
      if (rejected[f]) out.rejected[kFilterNames[f]] += rejected[f];
    }
    if (out.rejected.count("capacity") && out.rejected["capacity"] == 0) {
      out.rejected.erase("capacity");
    }
    return out;
  }
};

ClusterIndex::ClusterIndex(IndexOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

ClusterIndex::~ClusterIndex() = default;

Result<UpsertOutcome> ClusterIndex::Upsert(
    HostSummary summary, std::shared_ptr<const HostInventory> inventory) {
  if (summary.host.empty()) {
    return Status::InvalidArgument(
        "host summary without a host name; every summary needs the "
        "registered host name");
  }
  // Build the Fit view outside the lock (DeviceTable construction).
  std::shared_ptr<const claims::FitHost> fit;
  if (inventory) {
    fit = std::make_shared<const claims::FitHost>(MakeFitHost(*inventory));
  }
  std::unique_lock lock(impl_->mu);
  Impl& m = *impl_;
  UpsertOutcome outcome = UpsertOutcome::kInserted;
  uint32_t slot = 0;
  auto it = m.slot_of.find(summary.host);
  if (it != m.slot_of.end()) {
    slot = it->second;
    Impl::Row& old = m.rows[slot];
    if (summary.generation < old.summary.generation) {
      return UpsertOutcome::kStale;
    }
    m.Unlink(slot);
    outcome = UpsertOutcome::kUpdated;
  } else {
    if (!m.free_slots.empty()) {
      slot = m.free_slots.back();
      m.free_slots.pop_back();
    } else {
      slot = static_cast<uint32_t>(m.rows.size());
      m.rows.emplace_back();
    }
    m.slot_of.emplace(summary.host, slot);
    ++m.live_rows;
  }
  Impl::Row& row = m.rows[slot];
  const bool keep_dead = outcome == UpsertOutcome::kUpdated && row.dead &&
                         summary.last_heartbeat_unix <= row.heartbeat;
  row = Impl::Row{};
  row.used = true;
  row.dead = keep_dead;
  row.heartbeat = summary.last_heartbeat_unix;
  row.aggregate = m.AggregateId(summary.aggregate);
  for (const std::string& t : summary.traits) {
    const uint32_t id = m.TraitId(t);
    if (row.traits.size() <= id / 64) row.traits.resize(id / 64 + 1);
    row.traits[id / 64] |= uint64_t{1} << (id % 64);
  }
  for (const auto& [cell, socket] : summary.cell_socket) {
    row.cells.push_back(cell);
  }
  for (const auto& [name, cap] : summary.aliases) {
    const uint32_t id = m.AliasId(name);
    if (row.aliases.size() <= id) row.aliases.resize(id + 1);
    row.aliases[id].claimable = cap.claimable;
    row.aliases[id].by_numa.assign(cap.by_numa.begin(), cap.by_numa.end());
  }
  row.summary = std::move(summary);
  row.inventory = std::move(inventory);
  row.fit = std::move(fit);
  for (uint32_t a = 0; a < row.aliases.size(); ++a) m.BucketInsert(slot, a);
  return outcome;
}

bool ClusterIndex::Remove(std::string_view host) {
  std::unique_lock lock(impl_->mu);
  Impl& m = *impl_;
  auto it = m.slot_of.find(std::string(host));
  if (it == m.slot_of.end()) return false;
  const uint32_t slot = it->second;
  m.Unlink(slot);
  m.rows[slot] = Impl::Row{};
  m.free_slots.push_back(slot);
  m.slot_of.erase(it);
  --m.live_rows;
  return true;
}

Status ClusterIndex::Heartbeat(std::string_view host, int64_t now_unix) {
  std::unique_lock lock(impl_->mu);
  auto it = impl_->slot_of.find(std::string(host));
  if (it == impl_->slot_of.end()) {
    return Status::NotFound("host '" + std::string(host) +
                            "' is not in the cluster index; register it "
                            "(upsert its summary) first");
  }
  Impl::Row& row = impl_->rows[it->second];
  row.heartbeat = std::max(row.heartbeat, now_unix);
  row.summary.last_heartbeat_unix = row.heartbeat;
  row.dead = false;
  return Status::Ok();
}

Status ClusterIndex::MarkDead(std::string_view host) {
  std::unique_lock lock(impl_->mu);
  auto it = impl_->slot_of.find(std::string(host));
  if (it == impl_->slot_of.end()) {
    return Status::NotFound("host '" + std::string(host) +
                            "' is not in the cluster index");
  }
  impl_->rows[it->second].dead = true;
  return Status::Ok();
}

std::vector<std::string> ClusterIndex::ExpireHeartbeats(int64_t now_unix) {
  std::unique_lock lock(impl_->mu);
  std::vector<std::string> out;
  for (Impl::Row& row : impl_->rows) {
    if (!row.used || row.dead) continue;
    if (now_unix - row.heartbeat > impl_->options.heartbeat_timeout_s) {
      row.dead = true;
      out.push_back(row.summary.host);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<PlacementResult> ClusterIndex::Place(const PlacementRequest& request,
                                            int64_t now_unix) const {
  std::shared_lock lock(impl_->mu);
  Result<Impl::Resolved> r = impl_->Resolve(request);
  if (!r.ok()) return r.status();
  return impl_->Place(*r, request, now_unix);
}

namespace {

// The exact fit on one host, trying each guest cell choice in order.
claims::FitResult FitOnHost(const claims::FitHost& fit,
                            const PlacementRequest& request,
                            const std::string& instance,
                            const std::vector<std::vector<int>>& cell_choices,
                            std::vector<int>* used_cells) {
  // Fit takes devices greedily; spreading VFs over PFs can use up the PF a
  // later request needs, so a spread that fails is retried packed (the
  // weigher is about hosts; inside a host a fit beats a refusal).
  std::vector<claims::Placement> placements = {claims::Placement::kPack};
  if (request.weigher == Weigher::kSpread) {
    placements.insert(placements.begin(), claims::Placement::kSpread);
  }
  claims::FitResult first_failure;
  bool failed_once = false;
  for (const std::vector<int>& cells : cell_choices) {
    for (claims::Placement placement : placements) {
      claims::FitOptions opts;
      opts.instance = instance;
      opts.numa_cells = cells;
      opts.placement = placement;
      claims::FitResult r = claims::Fit(fit, request.requests, opts);
      if (r.ok) {
        if (used_cells) *used_cells = cells;
        return r;
      }
      if (!failed_once) {
        first_failure = std::move(r);
        failed_once = true;
      }
    }
  }
  return first_failure;
}

std::string FitFailure(const claims::FitResult& fit) {
  for (const claims::RequestOutcome& o : fit.requests) {
    if (!o.ok) {
      return "request " + std::to_string(o.index) + " (alias '" + o.alias_name +
             "') failed at step " + o.failed_step + ": " + o.message;
    }
  }
  return "no request fits";
}

}  // namespace

Result<Explanation> ClusterIndex::Explain(const PlacementRequest& request,
                                          std::string_view host,
                                          int64_t now_unix) const {
  std::shared_ptr<const claims::FitHost> fit;
  Explanation ex;
  ex.host = std::string(host);
  std::vector<std::vector<int>> choices;
  {
    std::shared_lock lock(impl_->mu);
    const Impl& m = *impl_;
    auto it = m.slot_of.find(std::string(host));
    if (it == m.slot_of.end()) {
      return Status::NotFound("host '" + std::string(host) +
                              "' is not in the cluster index");
    }
    Result<Impl::Resolved> r = m.Resolve(request);
    if (!r.ok()) return r.status();
    std::vector<int> cells, alt;
    FilterId f = m.Check(m.rows[it->second], it->second, *r, now_unix, &cells,
                         &alt, &ex.filters);
    if (f != kPass) {
      ex.failed_filter = kFilterNames[f];
      ex.message = ex.filters.back().detail;
      return ex;
    }
    choices.push_back(cells);
    for (int c : alt) choices.push_back({c});
    fit = m.rows[it->second].fit;
  }
  if (!fit) {
    ex.passes = true;
    ex.message =
        "every summary filter passes (no inventory stored for the "
        "exact fit)";
    return ex;
  }
  std::vector<int> used;
  claims::FitResult result =
      FitOnHost(*fit, request, kNewInstance, choices, &used);
  if (result.ok) {
    ex.passes = true;
    ex.filters.push_back({"fit", true, "exact fit passes"});
  } else {
    ex.failed_filter = "fit";
    ex.message = FitFailure(result);
    ex.filters.push_back({"fit", false, ex.message});
  }
  ex.fit = std::move(result);
  return ex;
}

Result<FitPlacement> ClusterIndex::PlaceAndFit(
    const PlacementRequest& request, int64_t now_unix,
    const std::string& instance) const {
  FitPlacement out;
  std::set<std::string> tried;
  PlacementRequest req = request;
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      if (request.max_candidates == 0) break;  // already had every host
      req.max_candidates = 0;
    }
    Result<PlacementResult> placed = Place(req, now_unix);
    if (!placed.ok()) return placed.status();
    out.placement = std::move(*placed);
    for (const Candidate& c : out.placement.candidates) {
      if (!tried.insert(c.host).second) continue;
      std::shared_ptr<const claims::FitHost> fit;
      std::vector<std::vector<int>> choices = {c.numa_cells};
      {
        std::shared_lock lock(impl_->mu);
        auto it = impl_->slot_of.find(c.host);
        if (it == impl_->slot_of.end()) continue;  // removed meanwhile
        const Impl::Row& row = impl_->rows[it->second];
        fit = row.fit;
        if (request.numa.mode == GuestNuma::Mode::kAnyOneCell) {
          for (int cell : row.cells) {
            if (c.numa_cells.empty() || cell != c.numa_cells[0]) {
              choices.push_back({cell});
            }
          }
        }
      }
      if (!fit) {
        out.fit_rejected.push_back(c.host + ": no inventory stored");
        continue;
      }
      std::vector<int> used;
      claims::FitResult r = FitOnHost(*fit, request, instance, choices, &used);
      if (r.ok) {
        out.ok = true;
        out.host = c.host;
        out.generation = c.generation;
        out.numa_cells = used;
        out.fit = std::move(r);
        return out;
      }
      out.fit_rejected.push_back(c.host + ": " + FitFailure(r));
    }
  }
  return out;
}

size_t ClusterIndex::size() const {
  std::shared_lock lock(impl_->mu);
  return impl_->live_rows;
}

std::optional<HostSummary> ClusterIndex::Find(std::string_view host) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->slot_of.find(std::string(host));
  if (it == impl_->slot_of.end()) return std::nullopt;
  return impl_->rows[it->second].summary;
}

bool ClusterIndex::Alive(std::string_view host, int64_t now_unix) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->slot_of.find(std::string(host));
  if (it == impl_->slot_of.end()) return false;
  return impl_->Alive(impl_->rows[it->second], now_unix);
}

}  // namespace pcipass::cluster
