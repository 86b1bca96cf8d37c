// Host summaries: what the cluster scheduler knows about one host without
// reading its devices.
//
// A HostInventory is a host's full device list as the claims layer sees it
// (ledger devices with their states, the tags of the device_spec that
// selected each one, IOMMU-group outsiders, NUMA topology): exactly what
// claims::Fit needs. A HostSummary condenses it per configured alias:
// how many devices a new instance could claim now (after Fit's spec,
// unrequested_pf, remote_managed, live_migratable, in_use, dependency and
// group steps, i.e. the candidates Fit hands to its NUMA step), split per
// NUMA node; plus per-PF free VFs and wholly-free PFs and the IOMMU groups'
// free state for explanations and operators.
//
// Why counts per alias are enough for a necessary condition: Fit fails a
// request when fewer than `count` devices survive those steps, and the
// NUMA step only looks at the survivors' NUMA nodes. So a host whose
// summary says "claimable < count" (or "NUMA-eligible < count") can never
// pass Fit; the reverse does not hold (two requests may compete for the
// same devices, a PF request and a VF request for the same PF), which is
// why the scheduler runs the exact Fit on its best candidates.
//
// PF/VF coupling is inside the counts: a PF counts only when it is wholly
// free (no VF held), a VF only when its PF is not held. IOMMU-group
// exclusivity too: a device counts only when no group mate is held by
// another instance or used by the host, and no group mate is outside the
// device_spec rules.
#ifndef PCIPASS_CLUSTER_SUMMARY_H_
#define PCIPASS_CLUSTER_SUMMARY_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "claims/fit.h"
#include "claims/numa.h"
#include "core/address.h"
#include "core/status.h"
#include "select/alias.h"
#include "select/devspec.h"
#include "store/ledger.h"

namespace pcipass::cluster {

// The NUMA key used for devices without NUMA information.
inline constexpr int kNoNuma = -1;

// A host's devices as claims::Fit sees them.
struct HostInventory {
  std::vector<LedgerDevice> devices;  // ledger devices with their states
  std::map<PciAddress, TagMap> tags;  // first matching spec's tags
  // IOMMU group -> endpoints outside the rules ("0000:05:00.1 (e1000e)").
  std::map<int, std::vector<std::string>> group_outsiders;
  claims::NumaTopology topology;
};

// The Fit view of |inventory| (DeviceTable built once; keep it if you fit
// the same host repeatedly).
claims::FitHost MakeFitHost(const HostInventory& inventory);

// Claimable devices of one alias on one host.
struct AliasCapacity {
  int claimable = 0;  // devices Fit keeps before its NUMA step
  // NUMA node (kNoNuma for none) -> claimable devices on it; only nodes
  // with at least one device. Sums to claimable.
  std::map<int, int> by_numa;
  bool operator==(const AliasCapacity&) const = default;
};

// One SR-IOV PF in the ledger (or only named as the parent of VFs).
struct PfSummary {
  PciAddress pf;
  std::optional<int> numa_node;
  int vfs_total = 0;         // VFs in the ledger
  int vfs_free = 0;          // VFs a new instance could take now
  bool wholly_free = false;  // the PF itself could be taken (no VF held)
  bool operator==(const PfSummary&) const = default;
};

// One IOMMU group with at least one ledger device.
struct GroupSummary {
  int group = 0;
  int members = 0;       // ledger devices in the group
  int free_members = 0;  // members a new instance could take now
  // Why the group is blocked for a new instance ("" when not): a member
  // held by an instance or used by the host, or an outsider device.
  std::string blocked_by;
  bool operator==(const GroupSummary&) const = default;
};

// Who the host is, as the agent registers it (not derived from devices).
struct HostIdentity {
  std::string host;  // unique host name (the index key)
  // Increases on every change of the host's devices or claims; the index
  // ignores a summary older than the one it has (stale NOTIFY, late read).
  int64_t generation = 0;
  int64_t last_heartbeat_unix = 0;
  std::set<std::string> traits;  // tags such as "CUSTOM_GPU_A100", "ssd"
  std::string aggregate;         // host aggregate name; "" = none
};

struct HostSummary {
  std::string host;
  int64_t generation = 0;
  int64_t last_heartbeat_unix = 0;
  std::set<std::string> traits;
  std::string aggregate;
  // NUMA cell -> socket (nullopt unknown), for the socket policy and for
  // choosing a guest cell.
  std::map<int, std::optional<int>> cell_socket;
  // Alias name -> capacity; every alias of the table the summary was built
  // with appears, with claimable 0 when the host has none.
  std::map<std::string, AliasCapacity> aliases;
  std::vector<PfSummary> pfs;        // by PF address
  std::vector<GroupSummary> groups;  // by group number
  int devices_total = 0;             // ledger devices (removed excluded)
  int devices_free = 0;              // of those, takeable by a new instance
  bool operator==(const HostSummary&) const = default;
};

// Computes |identity|'s summary from |inventory| for every alias of
// |aliases|. Pure; O(aliases x devices) plus one DeviceTable build.
HostSummary Summarize(const HostIdentity& identity,
                      const HostInventory& inventory,
                      const AliasTable& aliases);
// Same with a FitHost already built from the inventory.
HostSummary Summarize(const HostIdentity& identity, const claims::FitHost& fit,
                      const AliasTable& aliases);

// JSON form (for a jsonb column / NOTIFY payload): every field above, PCI
// addresses as "dddd:bb:ss.f", NUMA keys as strings ("-1" = none).
nlohmann::json SummaryToJson(const HostSummary& summary);
// InvalidArgument naming the field and what is expected for anything that
// SummaryToJson would not produce.
Result<HostSummary> SummaryFromJson(const nlohmann::json& json);

}  // namespace pcipass::cluster

#endif  // PCIPASS_CLUSTER_SUMMARY_H_
