// Test-only builders of small host inventories for the cluster tests.
#ifndef PCIPASS_CLUSTER_TEST_CLUSTER_H_
#define PCIPASS_CLUSTER_TEST_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "cluster/index.h"
#include "cluster/summary.h"
#include "cluster/synthetic.h"

namespace pcipass::cluster::testing {

inline PciAddress Addr(int bus, int slot = 0, int fn = 0) {
  return PciAddress{0, static_cast<uint8_t>(bus), static_cast<uint8_t>(slot),
                    static_cast<uint8_t>(fn)};
}

class InventoryBuilder {
 public:
  InventoryBuilder() { inv_.topology.cell_socket = {{0, 0}, {1, 1}}; }

  // A GPU (10de:20b0) at bus |bus|; group defaults to 1000 + bus.
  InventoryBuilder& Gpu(int bus, std::optional<int> numa,
                        std::optional<int> group = std::nullopt) {
    LedgerDevice d;
    d.address = Addr(bus);
    d.vendor_id = 0x10de;
    d.product_id = 0x20b0;
    d.numa_node = numa;
    d.iommu_group = group ? *group : 1000 + bus;
    inv_.devices.push_back(d);
    return *this;
  }
  // A PF (8086:1572) at bus |bus| with |vfs| VFs (8086:154c).
  InventoryBuilder& Nic(int bus, int vfs, int numa) {
    LedgerDevice pf;
    pf.address = Addr(bus);
    pf.vendor_id = 0x8086;
    pf.product_id = 0x1572;
    pf.dev_type = DeviceType::kPf;
    pf.numa_node = numa;
    pf.iommu_group = 2000 + bus * 40;
    inv_.devices.push_back(pf);
    inv_.tags[pf.address] = {{"physical_network", "physnet1"}};
    for (int v = 1; v <= vfs; ++v) {
      LedgerDevice vf = pf;
      vf.address = Addr(bus, v / 8, v % 8);
      vf.product_id = 0x154c;
      vf.dev_type = DeviceType::kVf;
      vf.parent_addr = pf.address;
      vf.iommu_group = 2000 + bus * 40 + v;
      inv_.devices.push_back(vf);
      inv_.tags[vf.address] = {{"physical_network", "physnet1"}};
    }
    return *this;
  }
  // Allocates |addr| to |owner| through the DeviceTable (states derived).
  InventoryBuilder& Hold(const PciAddress& addr,
                         const std::string& owner = "vm-other") {
    claims::DeviceTable t(inv_.devices);
    Status s = t.Allocate(addr, owner, "test");
    if (!s.ok()) throw std::runtime_error(s.ToString());
    inv_.devices.clear();
    for (const auto& [a, d] : t.devices()) inv_.devices.push_back(d);
    return *this;
  }
  InventoryBuilder& Outsider(int group, const std::string& what) {
    inv_.group_outsiders[group].push_back(what);
    return *this;
  }
  HostInventory Build() const { return inv_; }

 private:
  HostInventory inv_;
};

inline HostIdentity Identity(const std::string& name, int64_t heartbeat = 1000,
                             std::set<std::string> traits = {},
                             std::string aggregate = "") {
  HostIdentity id;
  id.host = name;
  id.generation = 1;
  id.last_heartbeat_unix = heartbeat;
  id.traits = std::move(traits);
  id.aggregate = std::move(aggregate);
  return id;
}

// Upserts |name| with its summary and inventory; fails the test on error.
inline void Add(ClusterIndex& index, const HostIdentity& id,
                const HostInventory& inv) {
  auto r = index.Upsert(Summarize(id, inv, synthetic::Aliases()),
                        std::make_shared<HostInventory>(inv));
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
}

inline PlacementRequest Request(
    const std::vector<std::pair<std::string, int>>& items,
    NumaPolicy policy = NumaPolicy::kLegacy) {
  PlacementRequest r;
  const AliasTable aliases = synthetic::Aliases();
  for (const auto& [name, count] : items) {
    PciRequest p = synthetic::AliasRequest(aliases, name, count);
    p.numa_policy = policy;
    r.requests.push_back(std::move(p));
  }
  return r;
}

inline std::vector<std::string> Hosts(const PlacementResult& r) {
  std::vector<std::string> out;
  for (const Candidate& c : r.candidates) out.push_back(c.host);
  return out;
}

}  // namespace pcipass::cluster::testing

#endif  // PCIPASS_CLUSTER_TEST_CLUSTER_H_
