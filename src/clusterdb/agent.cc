#include "clusterdb/agent.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "claims/pools.h"

namespace pcipass::clusterdb {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AgentOptions AgentOptionsFromSettings(const ClusterSettings& settings) {
  AgentOptions a;
  a.conninfo = settings.db;
  a.host_name = settings.host;
  if (a.host_name.empty()) {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    a.host_name = name;
  }
  if (!settings.aggregate.empty()) a.aggregates = {settings.aggregate};
  a.traits = settings.traits;
  a.heartbeat_ms = 1000 * settings.heartbeat_interval_s;
  a.rescan_ms = std::max(a.heartbeat_ms * 5, 5000);
  return a;
}

HostInventory InventoryFromSnapshot(const AgentOptions& options,
                                    const claims::HostSnapshot& snap) {
  HostInventory inv;
  inv.name = options.host_name;
  inv.agent = "pcipass-agent pid=" + std::to_string(getpid());
  inv.devices = snap.devices;
  for (LedgerDevice& d : inv.devices) {
    auto use = snap.host_use.find(d.address);
    if (use != snap.host_use.end()) {
      d.state = DeviceState::kReserved;
      d.reason = use->second;
    } else {
      d.state = DeviceState::kAvailable;
      d.reason.clear();
    }
    d.owner.reset();
  }
  inv.tags = snap.tags;
  inv.group_outsiders = snap.group_outsiders;
  inv.topology = snap.topology;
  inv.aggregates = options.aggregates;
  inv.traits = options.traits;
  return inv;
}

Result<std::unique_ptr<Agent>> Agent::Start(AgentOptions options) {
  if (options.host_name.empty()) {
    return Status::InvalidArgument(
        "cluster agent: no host name: set [cluster] host = NAME or pass "
        "--host NAME");
  }
  if (!options.snapshot) {
    return Status::Internal("cluster agent: no snapshot function");
  }
  Result<std::unique_ptr<ClusterStore>> store =
      ClusterStore::Open(options.conninfo);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Agent>(
      new Agent(std::move(options), std::move(*store)));
}

Result<AgentTick> Agent::Tick() {
  AgentTick tick;
  int64_t now = NowMs();
  if (last_scan_ms_ < 0 || now - last_scan_ms_ >= options_.rescan_ms) {
    Result<claims::HostSnapshot> snap = options_.snapshot();
    if (!snap.ok()) return snap.status().WithContext("cluster agent: scan");
    Result<bool> changed =
        store_->PushInventory(InventoryFromSnapshot(options_, *snap));
    if (!changed.ok()) return changed.status();
    tick.pushed = *changed;
    last_scan_ms_ = now;
    last_snapshot_ = std::move(*snap);
  } else {
    PCIPASS_RETURN_IF_ERROR(store_->Heartbeat(options_.host_name));
  }
  return CompletePlacements(std::move(tick));
}

Result<AgentTick> Agent::CompletePlacements(AgentTick tick) {
  Result<std::vector<PlacementRecord>> mine =
      store_->ListPlacements(options_.host_name);
  if (!mine.ok()) return mine.status();
  for (const PlacementRecord& p : *mine) {
    if (p.status != "reserved") continue;
    if (options_.handoff) {
      std::vector<PciAddress> detach;
      for (const auto& d : p.devices) {
        auto t = last_snapshot_.tags.find(d.address);
        bool managed =
            t != last_snapshot_.tags.end() &&
            claims::Truthy(t->second.count("managed") ? t->second.at("managed")
                                                      : std::nullopt);
        if (!managed) detach.push_back(d.address);
      }
      std::vector<std::string> notes;
      Status h =
          detach.empty() ? Status::Ok() : options_.handoff(detach, &notes);
      if (!h.ok()) {
        // The hand-off rolled itself back: give the devices back at once.
        Status r = store_->Release(p.id);
        if (!r.ok() && r.code() != StatusCode::kNotFound) return r;
        tick.failed.push_back(p.id + ": " + h.message());
        continue;
      }
    }
    Result<PlacementRecord> c = store_->Confirm(p.id);
    if (c.ok()) {
      tick.confirmed.push_back(p.id);
    } else if (c.status().code() == StatusCode::kNotFound ||
               c.status().code() == StatusCode::kConflict) {
      tick.failed.push_back(p.id + ": " + c.status().message());
    } else {
      return c.status();
    }
  }
  return tick;
}

void Agent::Run(const std::atomic<bool>& stop,
                const std::function<void(const std::string&)>& log) {
  while (!stop.load()) {
    Result<AgentTick> t = Tick();
    if (!t.ok()) {
      if (log) log(t.status().ToString());
      if (!store_->connection().Healthy()) {
        Status r = store_->connection().Reset();
        if (!r.ok() && log) log(r.ToString());
      }
    } else if (log) {
      if (t->pushed) log("inventory pushed for " + options_.host_name);
      for (const std::string& id : t->confirmed) log("confirmed " + id);
      for (const std::string& f : t->failed) log("hand-off failed: " + f);
    }
    for (int waited = 0; waited < options_.heartbeat_ms && !stop.load();
         waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace pcipass::clusterdb
