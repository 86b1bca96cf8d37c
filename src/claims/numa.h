// NUMA: the host's NUMA cells and sockets, and Nova's PCI NUMA affinity
// policies (nova-pci-semantics.md 5.5) applied to candidate devices.
//
// A guest asks for host NUMA cells (its InstanceNUMACell ids are host cell
// ids); a policy decides which devices qualify and in which order they are
// preferred:
//   required  - only devices on the guest's cells;
//   legacy    - devices on the cells if enough, else also devices without
//               NUMA information;
//   preferred - cells first, then no-NUMA, then any other device;
//   socket    - cells if enough, else devices on the same socket(s) as the
//               guest's cells (never no-NUMA devices); fails when any host
//               cell has no socket information.
// Without guest cells nothing is filtered (the guest has no NUMA topology).
//
// Better than Nova (B11): legacy and preferred always rank NUMA-local
// devices before no-NUMA ones, then remote ones, so a fallback never takes
// a no-NUMA device while a local one is free.
#ifndef PCIPASS_CLAIMS_NUMA_H_
#define PCIPASS_CLAIMS_NUMA_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_root.h"
#include "core/status.h"
#include "select/request.h"

namespace pcipass::claims {

// Host NUMA cell id -> socket (physical package) id; nullopt when unknown
// (a memory-only node, or unreadable topology files).
struct NumaTopology {
  std::map<int, std::optional<int>> cell_socket;
};

// Reads sys/devices/system/node/node<N>/cpulist and, for the first CPU of
// each node, sys/devices/system/cpu/cpu<C>/topology/physical_package_id.
// A host without the node directory has no cells (not an error); malformed
// files leave that cell's socket unknown.
NumaTopology ReadNumaTopology(const HostRoot& host);

// Parses a kernel CPU list ("0-3,8,10-11"). InvalidArgument naming the bad
// item for anything else.
Result<std::vector<int>> ParseCpuList(std::string_view text);

// Parses "--numa-cells 0,1": distinct non-negative integers, in order.
// InvalidArgument naming the bad item.
Result<std::vector<int>> ParseNumaCells(std::string_view text);

// Preference rank of a kept device: lower is taken first.
enum class NumaRank { kLocal = 0, kSameSocket = 1, kNoNuma = 2, kRemote = 3 };

struct NumaSelection {
  std::vector<bool> keep;      // per candidate
  std::vector<NumaRank> rank;  // per candidate (meaningful when kept)
  std::string note;            // which branch of the policy decided
};

// Applies |policy| for guest |cells| to candidates with NUMA nodes
// |nodes|, needing |count| devices. Pure.
NumaSelection SelectByNuma(const std::vector<std::optional<int>>& nodes,
                           int count, NumaPolicy policy,
                           const std::vector<int>& cells,
                           const NumaTopology& topology);

}  // namespace pcipass::claims

#endif  // PCIPASS_CLAIMS_NUMA_H_
