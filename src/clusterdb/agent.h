// Agent: a host's side of the cluster. It registers the host, pushes its
// inventory (discovery + the device_spec rules, i.e. claims::SnapshotHost)
// whenever it changes, heartbeats, and completes the placements the
// schedulers reserved on it: hand the devices to vfio-pci (except
// managed="true" ones, which libvirt detaches itself), then confirm. A
// hand-off that fails releases the placement at once (the devices are
// back with the host; the scheduler's client sees the placement gone).
//
// Heartbeat and inventory are separate on purpose: a heartbeat is one
// UPDATE of heartbeat_at (no notification to schedulers), an inventory push
// bumps the host's generation only when the content changed.
#ifndef PCIPASS_CLUSTERDB_AGENT_H_
#define PCIPASS_CLUSTERDB_AGENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "claims/service.h"
#include "clusterdb/settings.h"
#include "clusterdb/store.h"

namespace pcipass::clusterdb {

struct AgentOptions {
  std::string conninfo;
  std::string host_name;
  std::vector<std::string> aggregates;
  std::vector<std::string> traits;
  int heartbeat_ms = 2000;  // heartbeat period
  int rescan_ms = 10000;    // inventory re-read period
  // Reads the host now (discovery + rules). Required.
  std::function<Result<claims::HostSnapshot>()> snapshot;
  // Hands devices to vfio-pci; null: confirm without a hand-off (every
  // device managed by libvirt, or a fixture root).
  claims::HandOffFn handoff;
};

// This host's agent options from [cluster] |settings|: the host name
// (settings.host, else the machine's hostname), aggregate, traits, the
// heartbeat period and an inventory re-read every 5 heartbeats (at least
// 5 s). |snapshot| and |handoff| are left for the caller.
AgentOptions AgentOptionsFromSettings(const ClusterSettings& settings);

// The inventory the agent pushes for |snap|: devices the host uses become
// `reserved` with the host's reason.
HostInventory InventoryFromSnapshot(const AgentOptions& options,
                                    const claims::HostSnapshot& snap);

struct AgentTick {
  bool pushed = false;  // the inventory changed and was written
  std::vector<std::string> confirmed;
  std::vector<std::string> failed;  // hand-off failed: released
};

class Agent {
 public:
  // Connects (migrating the schema if needed). Errors: the store's.
  static Result<std::unique_ptr<Agent>> Start(AgentOptions options);

  // One round: rescan + push if the rescan period passed (or first
  // round), else heartbeat; then complete reserved placements.
  Result<AgentTick> Tick();
  // Ticks every heartbeat period until |stop|; reconnects after database
  // errors (logged to |log| when given). Returns when stopped.
  void Run(const std::atomic<bool>& stop,
           const std::function<void(const std::string&)>& log = nullptr);

  ClusterStore& store() { return *store_; }

 private:
  Agent(AgentOptions options, std::unique_ptr<ClusterStore> store)
      : options_(std::move(options)), store_(std::move(store)) {}
  Result<AgentTick> CompletePlacements(AgentTick tick);

  AgentOptions options_;
  std::unique_ptr<ClusterStore> store_;
  int64_t last_scan_ms_ = -1;
  claims::HostSnapshot last_snapshot_;
};

}  // namespace pcipass::clusterdb

#endif  // PCIPASS_CLUSTERDB_AGENT_H_
