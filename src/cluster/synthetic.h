// Synthetic clusters for the scheduler's tests and benchmarks.
//
// GenerateCluster() builds a deterministic (seeded) mix of hosts:
//   gpu   - 8 or 16 identical GPUs (10de:20b0), half on each of 2 NUMA
//           nodes; on some hosts GPUs share IOMMU groups in pairs;
//   nic   - 2 or 4 SR-IOV PFs (8086:1572) with 8..32 VFs (8086:154c) each,
//           PFs alternating between NUMA nodes 0 and 1;
//   nvme  - 4..10 NVMe drives (144d:a80a), some without NUMA information;
//   mixed - 4 GPUs, 1 PF with 8 VFs, 2 NVMe.
// Some devices are already held by instances (random per host, through
// DeviceTable::Allocate, so PF/VF and group states are derived as on a
// real host); some PFs are held whole. Hosts carry traits (CUSTOM_GPU,
// CUSTOM_SRIOV, CUSTOM_NVME, CUSTOM_SSD on some), an aggregate az0..az3 and
// a heartbeat; a few hosts have a stale heartbeat.
//
// NovaExport() writes the same cluster for Nova's PciPassthroughFilter
// (bench/nova_filter_bench.py): the device_spec and alias config lines and
// per host the devices with Nova's fields and status.
#ifndef PCIPASS_CLUSTER_SYNTHETIC_H_
#define PCIPASS_CLUSTER_SYNTHETIC_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cluster/index.h"
#include "cluster/summary.h"
#include "select/alias.h"

namespace pcipass::cluster::synthetic {

struct Options {
  int hosts = 10000;
  uint64_t seed = 1;
  int64_t now_unix = 1'000'000;
  // Fraction of hosts whose last heartbeat is older than 30 s.
  double stale_fraction = 0.01;
  // Upper bound of the per-host fraction of devices already held.
  double max_used = 0.9;
  // Small hosts (at most 6 devices per kind) for brute-force tests.
  bool small = false;
};

struct Host {
  HostIdentity identity;
  HostInventory inventory;
};

// The [pci] alias values (JSON, as in nova.conf): gpu, nic-vf, nic-pf, nvme.
const std::vector<std::string>& AliasLines();
// The [pci] device_spec values (JSON) that select the devices above.
const std::vector<std::string>& DeviceSpecLines();
// AliasLines() parsed by select/alias.h.
AliasTable Aliases();

std::vector<Host> GenerateCluster(const Options& options);

// A random placement request over Aliases(): 1-2 aliases with counts
// 1..8, random NUMA policy and guest NUMA mode, sometimes traits,
// aggregate, anti-affinity (names from |hosts|) and spread.
PlacementRequest RandomRequest(std::mt19937_64& rng, const AliasTable& aliases,
                               const std::vector<Host>& hosts);

// A request for |count| devices of alias |name| (specs from |aliases|).
PciRequest AliasRequest(const AliasTable& aliases, const std::string& name,
                        int count);

// {"device_spec": [...], "alias": [...], "hosts": [{"name", "devices":
// [{"address", "vendor_id", "product_id", "dev_type", "parent_addr",
// "numa_node", "status"}]}]}; status is Nova's: "available" for devices a
// new instance could take, "allocated"/"unavailable" otherwise.
nlohmann::json NovaExport(const std::vector<Host>& hosts);

}  // namespace pcipass::cluster::synthetic

#endif  // PCIPASS_CLUSTER_SYNTHETIC_H_
