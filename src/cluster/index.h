// ClusterIndex: the scheduler's in-memory decision core over many hosts.
//
// The index holds one HostSummary per host (summary.h) and, optionally,
// the host's inventory for the exact fit. Place() answers "which hosts can
// take this request, best first" from the summaries alone, in about
// microseconds for 10,000 hosts (docs/cluster.md, docs/performance.md):
//   filters, in this order (Explain reports the first that rejects):
//     liveness     - host marked dead, or no heartbeat for
//                    IndexOptions::heartbeat_timeout_s;
//     aggregate    - host not in the requested aggregate;
//     traits       - a required trait missing / a forbidden trait present;
//     anti_affinity- host listed in the request's anti-affinity set;
//     capacity     - per alias: claimable devices < the count asked (the
//                    sum of the counts when one alias is asked twice);
//                    PF/VF coupling and IOMMU-group exclusivity are inside
//                    the claimable counts;
//     numa         - per request: devices allowed by its NUMA policy on the
//                    guest's cells (claims/numa.h: required, legacy,
//                    preferred, socket) < count.
//   weighers: pack (fewest claimable devices of the requested aliases
//   first: fills busy hosts, keeps big hosts whole) or spread (most first);
//   ties by host name.
// Every filter is a necessary condition of claims::Fit, so a host that Fit
// would accept is never filtered out; the summary can still be too
// optimistic (requests competing for the same devices), so the caller runs
// the exact Fit on the candidates in order and takes the first that fits.
// PlaceAndFit() does that in memory with the stored inventories.
//
// How the cluster scheduler (PostgreSQL, pcipass-scheduler) uses it:
//  1. At start, load every host row + its summary (SummaryFromJson) and
//     Upsert() them; then keep them fresh from LISTEN/NOTIFY (Upsert with
//     the new generation; a stale generation is ignored, so replaying
//     notifications is harmless; Remove() for deregistered hosts;
//     Heartbeat() for heartbeats; ExpireHeartbeats(now) periodically to
//     report the hosts that missed theirs).
//  2. For a request: Place(request, now) -> up to max_candidates hosts.
//     For each candidate in order, in ONE transaction: lock the host row
//     (or check its generation), read its devices and claims, build a
//     claims::FitHost, run claims::Fit with FitOptions{instance,
//     candidate.numa_cells, placement}; if it fits, write the claims and
//     bump the generation, commit, Upsert the new summary (Summarize on
//     FitResult::after) and answer. If not, roll back and try the next
//     candidate. When every candidate fails, call Place again with
//     max_candidates = 0 (all) and continue past the ones already tried:
//     the request is refused only when no host fits.
//  3. "why not host X": Explain(request, host, now).
// Thread safety: every method may be called from any thread; Place and
// Explain share a reader lock, updates take the writer lock.
#ifndef PCIPASS_CLUSTER_INDEX_H_
#define PCIPASS_CLUSTER_INDEX_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "claims/fit.h"
#include "cluster/summary.h"
#include "core/status.h"
#include "select/request.h"

namespace pcipass::cluster {

enum class Weigher { kPack, kSpread };
std::string_view WeigherName(Weigher w);  // "pack", "spread"
// "pack" or "spread"; InvalidArgument naming the value otherwise.
Result<Weigher> ParseWeigher(std::string_view text);

// Which host NUMA cells the guest will use, for the requests' NUMA
// policies.
struct GuestNuma {
  enum class Mode {
    kNone,        // the guest has no NUMA topology: no NUMA filtering
    kCells,       // the guest uses host cells |cells| on every host
    kAnyOneCell,  // the guest fits in one host cell: any cell of the host
                  // that satisfies every request (lowest cell id first)
  };
  Mode mode = Mode::kNone;
  std::vector<int> cells;  // kCells only
};

struct PlacementRequest {
  // Aliases with counts and NUMA policies (select/request.h; the specs are
  // used by the exact fit only). Every alias_name must be an alias the
  // summaries were built with.
  std::vector<PciRequest> requests;
  GuestNuma numa;
  std::vector<std::string> required_traits;
  std::vector<std::string> forbidden_traits;
  std::optional<std::string> aggregate;          // host must be in it
  std::vector<std::string> anti_affinity_hosts;  // hosts to avoid
  Weigher weigher = Weigher::kPack;
  size_t max_candidates = 8;  // 0 = every host that passes the filters
};

struct Candidate {
  std::string host;
  int64_t generation = 0;
  // Pack: claimable devices of the requested aliases (lower is better);
  // spread: the same number (higher is better).
  int64_t score = 0;
  std::vector<int> numa_cells;  // guest cells to pass to claims::Fit
};

struct PlacementResult {
  std::vector<Candidate> candidates;  // best first
  size_t hosts_total = 0;             // hosts in the index
  size_t hosts_examined = 0;          // hosts whose filters ran
  // Filter name -> hosts it rejected: the first failing filter of each
  // examined host, plus under "capacity" every host that was not examined
  // because it has too few devices of the driving alias (the requested
  // alias with the fewest hosts that have enough). When no candidate is
  // found every host with enough of the driving alias is examined, so the
  // counts add up to hosts_total: why the request cannot be placed.
  std::map<std::string, size_t> rejected;
};

struct FilterVerdict {
  std::string filter;  // "liveness", "aggregate", ..., "numa", "fit"
  bool passed = false;
  std::string detail;  // with numbers: "alias 'gpu' needs 8, 6 claimable"
};

struct Explanation {
  std::string host;
  bool passes = false;                 // every filter passed (and fit, if run)
  std::string failed_filter;           // first failing filter; "" when passes
  std::string message;                 // that filter's detail
  std::vector<FilterVerdict> filters;  // in order, up to the first failure
  // The exact fit on the stored inventory (when the summary filters pass
  // and an inventory is stored); its failed step says which device step
  // rejected the request.
  std::optional<claims::FitResult> fit;
};

struct FitPlacement {
  bool ok = false;
  std::string host;
  int64_t generation = 0;
  std::vector<int> numa_cells;
  claims::FitResult fit;  // on the chosen host
  // Candidates whose summary passed but whose exact fit failed, in order
  // tried, as "<host>: <failed request's message>".
  std::vector<std::string> fit_rejected;
  PlacementResult placement;  // the last Place() result used
};

struct IndexOptions {
  // A host is dead after this many seconds without a heartbeat.
  int64_t heartbeat_timeout_s = 30;
};

enum class UpsertOutcome { kInserted, kUpdated, kStale };

class ClusterIndex {
 public:
  explicit ClusterIndex(IndexOptions options = {});
  ~ClusterIndex();
  ClusterIndex(const ClusterIndex&) = delete;
  ClusterIndex& operator=(const ClusterIndex&) = delete;

  // Adds or replaces |summary|.host. A summary with a lower generation than
  // the stored one is ignored (kStale) and changes nothing; an equal one
  // replaces it. |inventory| (optional) is kept for PlaceAndFit/Explain; a
  // summary without one drops a stored inventory. InvalidArgument for an
  // empty host name.
  Result<UpsertOutcome> Upsert(
      HostSummary summary,
      std::shared_ptr<const HostInventory> inventory = nullptr);
  // Forgets |host|; false if unknown.
  bool Remove(std::string_view host);
  // Records a heartbeat and makes the host alive again. NotFound if
  // unknown.
  Status Heartbeat(std::string_view host, int64_t now_unix);
  // Excludes |host| until its next heartbeat (e.g. the DB says it is
  // down). NotFound if unknown.
  Status MarkDead(std::string_view host);
  // Marks every host whose last heartbeat is older than the timeout as
  // dead; returns the newly dead ones (sorted) so they can be reported.
  std::vector<std::string> ExpireHeartbeats(int64_t now_unix);

  // Ranked candidates for |request| at time |now_unix| (liveness).
  // InvalidArgument for: no requests, a count < 1, an alias no summary
  // has, kCells without cells.
  Result<PlacementResult> Place(const PlacementRequest& request,
                                int64_t now_unix) const;
  // Why |host| is or is not a candidate: each filter's verdict with
  // numbers, then the exact fit on the stored inventory. NotFound for an
  // unknown host; InvalidArgument as Place.
  Result<Explanation> Explain(const PlacementRequest& request,
                              std::string_view host, int64_t now_unix) const;
  // Place, then claims::Fit on the stored inventories of the candidates in
  // order until one fits (continuing past max_candidates with every
  // passing host). ok=false only when no host's inventory fits. Hosts
  // without a stored inventory are skipped (listed in fit_rejected).
  Result<FitPlacement> PlaceAndFit(const PlacementRequest& request,
                                   int64_t now_unix,
                                   const std::string& instance) const;

  size_t size() const;
  // A copy of |host|'s summary; nullopt if unknown.
  std::optional<HostSummary> Find(std::string_view host) const;
  // Whether |host| is alive at |now_unix| (false if unknown).
  bool Alive(std::string_view host, int64_t now_unix) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pcipass::cluster

#endif  // PCIPASS_CLUSTER_INDEX_H_
