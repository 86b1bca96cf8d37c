// ClusterStore: the cluster's state in PostgreSQL (schema.h), the one
// place that reads and writes it.
//
// Agents call PushInventory (register + inventory + pool summaries, in one
// transaction; the host's generation is bumped only when something
// changed) and Heartbeat. Schedulers call PlaceOnHost, which in ONE
// transaction locks the host row (SELECT ... FOR UPDATE), checks liveness,
// aggregate, traits and anti-affinity, runs the exact fit (claims::Fit)
// against the host's devices and current claims, inserts the placement as
// `reserved` with an expiry and one claim row per device (the claims
// table's key and trigger refuse a second owner and PF/VF or group
// sharing even if the fit were wrong), bumps the generation and NOTIFYs
// the other schedulers. A placement is confirmed by the agent after its
// hand-off; SweepExpired deletes reservations past their expiry (any
// scheduler may run it). Release deletes a placement and its claims.
//
// Not thread-safe: one ClusterStore (one connection) per thread.
#ifndef PCIPASS_CLUSTERDB_STORE_H_
#define PCIPASS_CLUSTERDB_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "claims/fit.h"
#include "claims/numa.h"
#include "claims/pools.h"
#include "clusterdb/pg.h"
#include "select/request.h"
#include "store/ledger.h"

namespace pcipass::clusterdb {

// What an agent reports about its host.
struct HostInventory {
  std::string name;
  std::string agent;  // "pcipass-agent pid=<pid>"
  // Allowed endpoint devices; state kAvailable, or kReserved (host uses
  // it, with reason). Devices in the database but not here are marked
  // removed (never deleted: a claim may still name them).
  std::vector<LedgerDevice> devices;
  std::map<PciAddress, TagMap> tags;
  std::map<int, std::vector<std::string>> group_outsiders;
  claims::NumaTopology topology;
  std::vector<std::string> aggregates;
  std::vector<std::string> traits;
};

// A host with its devices and current claims, as the fit sees it.
struct HostState {
  std::string name;
  int64_t generation = 0;
  bool alive = false;
  double heartbeat_age_s = 0;
  int64_t heartbeat_unix = 0;
  std::vector<std::string> aggregates;
  std::vector<std::string> traits;
  claims::FitHost fit;  // claimed devices carry their owner instance
  // address -> placement id holding it.
  std::map<PciAddress, std::string> claim_placement;
};

struct HostHead {
  int64_t generation = 0;
  int64_t heartbeat_unix = 0;
};

struct HostListing {
  std::string name;
  int64_t generation = 0;
  bool alive = false;
  double heartbeat_age_s = 0;
  std::string agent;
  int devices = 0;   // present (not removed)
  int claimed = 0;   // devices with a claim
  int reserved = 0;  // used by the host
  int placements = 0;
  std::vector<std::string> aggregates;
  std::vector<std::string> traits;
};

struct PlacementRecord {
  std::string id;
  std::string host;
  std::string instance;
  std::string status;  // "reserved" or "confirmed"
  int64_t created_unix = 0;
  std::optional<int64_t> expires_unix;
  nlohmann::json request;
  struct Device {
    PciAddress address;
    std::string alias_name;
    int request_index = 0;
  };
  std::vector<Device> devices;
};

// A placement request, parsed.
struct PlaceSpec {
  std::string id;        // client-chosen (idempotent) or generated
  std::string instance;  // who will own the devices
  std::vector<PciRequest> requests;
  claims::FitOptions fit;                  // numa cells, pack/spread
  std::optional<std::string> aggregate;    // host must be in it
  std::vector<std::string> traits;         // host must have all
  std::vector<std::string> anti_affinity;  // instances not to share with
  nlohmann::json request_json;             // as received, stored
  int reservation_ttl_s = 60;
  std::string scheduler;  // who placed it
};

struct PlaceOnHostOutcome {
  bool placed = false;
  // Why not (a filter name: "dead", "aggregate", "traits",
  // "anti_affinity", "fit", "missing"), and for people.
  std::string refused_by;
  std::string message;
  claims::FitResult fit;
  PlacementRecord placement;  // when placed
  // The host after the placement (generation included), when placed: the
  // caller's index can take it without reading it back.
  HostState host_after;
};

struct AuditReport {
  int64_t claims = 0;
  int64_t placements = 0;
  std::vector<std::string> problems;  // empty = consistent
};

class ClusterStore {
 public:
  // Connects and (when |migrate|) applies missing migrations. Errors: the
  // connection's or the migration's.
  static Result<std::unique_ptr<ClusterStore>> Open(const std::string& conninfo,
                                                    bool migrate = true);

  // Seconds without a heartbeat after which a host is dead (excluded from
  // placement, `dead` in ListHosts). Default 30.
  void set_dead_after_s(int s) { dead_after_s_ = s; }
  int dead_after_s() const { return dead_after_s_; }

  // Registers the host (or updates it) with its inventory and refreshes
  // heartbeat_at; returns whether the inventory changed (generation
  // bumped). A device that vanished while claimed stays, marked removed.
  Result<bool> PushInventory(const HostInventory& inv);
  // heartbeat_at = now(). NotFound for an unregistered host.
  Status Heartbeat(const std::string& host);
  // Sets heartbeat_at to |age_s| seconds ago (tests, and `pcipass cluster
  // hosts` demos of a dead host).
  Status AgeHeartbeat(const std::string& host, int age_s);

  Result<std::vector<HostListing>> ListHosts();
  // Names and generations of every host (cheap; for index resync).
  Result<std::map<std::string, int64_t>> HostGenerations();
  // Generation and last heartbeat (unix seconds) of every host.
  Result<std::map<std::string, HostHead>> HostHeads();
  // NotFound for an unknown host.
  Result<HostState> LoadHost(const std::string& name);
  // Every host, read in one REPEATABLE READ snapshot (index start-up,
  // periodic resync, and the check behind a refusal).
  Result<std::vector<HostState>> LoadAllHosts();

  // The whole placement transaction on one host (see above). A failure of
  // the database is an error; a host that cannot take the request is
  // placed=false with the reason. Conflict when the placement id exists
  // (the caller looks it up: idempotent retries).
  Result<PlaceOnHostOutcome> PlaceOnHost(const std::string& host,
                                         const PlaceSpec& spec);

  // Hosts where any of |instances| has a placement (anti-affinity).
  Result<std::vector<std::string>> HostsOfInstances(
      const std::vector<std::string>& instances);

  // NotFound when no such placement.
  Result<PlacementRecord> GetPlacement(const std::string& id);
  Result<std::vector<PlacementRecord>> ListPlacements(
      const std::optional<std::string>& host = std::nullopt);
  // reserved -> confirmed (no-op when confirmed). NotFound when it does
  // not exist (e.g. already expired and rolled back).
  Result<PlacementRecord> Confirm(const std::string& id);
  // Deletes the placement and its claims. NotFound when absent.
  Status Release(const std::string& id);
  // Deletes every reserved placement past its expiry (rolls it back);
  // returns their ids.
  Result<std::vector<std::string>> SweepExpired();

  // Checks the invariants over the whole database: every claim's device
  // exists and is not removed-and-free, no device has two owners, no PF
  // and its VF are both claimed, no IOMMU group is split between
  // instances, every placement has claims, every claim a placement.
  Result<AuditReport> Audit();

  PgConnection& connection() { return *conn_; }

 private:
  explicit ClusterStore(std::unique_ptr<PgConnection> conn)
      : conn_(std::move(conn)) {}
  Result<HostState> LoadHostIn(const std::string& name, bool lock);
  // Every host (nullopt) or one, inside the caller's transaction.
  Result<std::vector<HostState>> LoadHostsIn(
      const std::optional<std::string>& name, bool lock);
  Status WritePools(const HostState& host);
  Status BumpGeneration(const std::string& host);
  // Deletes devices that vanished while claimed once nobody claims them.
  Status ForgetRemovedFree(const std::string& host);

  std::unique_ptr<PgConnection> conn_;
  int dead_after_s_ = 30;
};

// JSON shapes for the REST API and the CLI (docs/cluster.md).
nlohmann::json PlacementJson(const PlacementRecord& p);
nlohmann::json HostListingJson(const HostListing& h);

}  // namespace pcipass::clusterdb

#endif  // PCIPASS_CLUSTERDB_STORE_H_
