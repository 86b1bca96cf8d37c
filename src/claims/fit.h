// Fit: can this host satisfy a VM's PCI requests, and with which devices?
//
// Pure logic over a snapshot (FitHost): the ledger's devices with their
// states, the tags of the device_spec that selected each one, IOMMU group
// members that are not in the ledger, and the host's NUMA topology. Each
// request (select/request.h) runs through a pipeline of named filters that
// record how many devices each dropped and why:
//   spec            - pool key matches one of the request's specs (4.3)
//   unrequested_pf  - PFs only if a spec asks dev_type=type-PF (5.3 step 3)
//   remote_managed  - remote-managed devices only if a spec asks (step 5)
//   live_migratable - as Nova step 7, untagged reads "false" (B6 fixed)
//   in_use          - claimed, allocated, reserved for the host, removed
//   dependency      - a PF whose VF is held, a VF whose PF is held
//   group           - an IOMMU group mate held by another instance, used by
//                     the host, or not allowed by the device_spec rules
//   numa            - the request's NUMA policy for the guest cells (5.5)
// After each step the request fails if fewer than `count` devices are
// left; the failure names that step. Then devices are taken one at a time
// with the same DeviceTable::Claim the real claim uses, so PF/VF and group
// exclusivity hold between devices of one request and between requests
// (requests consume from each other, in order). A "yes" is therefore never
// followed by a failed claim on the same ledger state (fixes B7/B8), and a
// "no" changes nothing (all-or-nothing).
//
// Choice is deterministic. Candidates are ranked by NUMA preference (local,
// same socket, no NUMA, remote: B11 fixed), then:
//   pack (default)  - VFs from the PF with the most devices already held
//                     first (keeps whole PFs free for PF requests); other
//                     devices from the NUMA node with most held first;
//   spread          - the PF (for VFs) or NUMA node with the fewest held
//                     devices first;
// ties broken by address.
#ifndef PCIPASS_CLAIMS_FIT_H_
#define PCIPASS_CLAIMS_FIT_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "claims/device_state.h"
#include "claims/numa.h"
#include "select/devspec.h"
#include "select/request.h"

namespace pcipass::claims {

enum class Placement { kPack, kSpread };
std::string_view PlacementName(Placement p);  // "pack", "spread"
// "pack" or "spread"; InvalidArgument naming the value otherwise.
Result<Placement> ParsePlacement(std::string_view text);

struct FitHost {
  DeviceTable table;                  // ledger devices, states derived
  std::map<PciAddress, TagMap> tags;  // first matching spec's tags
  // IOMMU group -> endpoints of that group that are not in the ledger (not
  // allowed by the rules), as "0000:05:00.1 (e1000e)". They block the group.
  std::map<int, std::vector<std::string>> group_outsiders;
  NumaTopology topology;
};

struct FitOptions {
  std::string instance = "(fit)";  // who would hold the devices
  std::vector<int> numa_cells;     // guest's host cells; empty: no NUMA
  Placement placement = Placement::kPack;
};

struct FitStep {
  std::string name;
  size_t before = 0;
  size_t after = 0;
  std::vector<std::string> dropped;  // "<addr>: <why>", at most 8
  size_t dropped_total = 0;
};

struct RequestOutcome {
  size_t index = 0;
  std::string alias_name;
  int count = 0;
  NumaPolicy numa_policy = NumaPolicy::kLegacy;
  bool ok = false;
  std::string failed_step;  // empty when ok; a step name, or "count"
  std::string message;      // why it failed, for people
  std::string numa_note;
  std::vector<FitStep> steps;
  std::vector<PciAddress> chosen;
};

struct Pick {
  PciAddress address;
  size_t request_index = 0;
  std::string alias_name;
  DeviceType dev_type = DeviceType::kPci;
  std::optional<PciAddress> parent_addr;
  std::optional<int> numa_node;
  TagMap tags;
};

struct FitResult {
  bool ok = false;
  std::vector<RequestOutcome> requests;
  std::vector<Pick> picks;  // empty unless ok
  DeviceTable after;        // the table with the picks claimed (if ok)
};

// Runs every request in order against |host|. Never fails as a function:
// a request that cannot be met makes ok false and says why.
FitResult Fit(const FitHost& host, const std::vector<PciRequest>& requests,
              const FitOptions& options);

// For each of |requests| on its own (no consumption between them): the
// devices of host.table that survive Fit's device steps (spec ..
// group) for |instance|, i.e. the candidates Fit would hand to its NUMA
// step. Pointers into host.table. The cluster summary counts these.
std::vector<std::vector<const LedgerDevice*>> EligibleDevices(
    const FitHost& host, const std::vector<PciRequest>& requests,
    const std::string& instance);

}  // namespace pcipass::claims

#endif  // PCIPASS_CLAIMS_FIT_H_
