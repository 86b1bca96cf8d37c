// PCI requests: what a VM asks for, in Nova's flavor syntax.
//
// A flavor extra spec `pci_passthrough:alias` reads "gpu:2,nic-vf:1": a
// comma-separated list of `alias:count` items. Each item becomes one
// PciRequest that carries the alias's spec dicts (Nova's
// InstancePCIRequest.spec: several dicts when aliases share a name, OR-ed),
// the count, the NUMA policy and the device type. The claims layer turns
// requests into devices; this file only parses and validates.
//
// Better than Nova (docs/nova-compatibility.md): malformed items such as
// "a,b:1", "a1", "a1:x", "a1:2," and counts of 0 or below are clear
// InvalidArgument errors naming the item, where Nova raises an uncaught
// ValueError (HTTP 500) or makes a count-0 request (11.B15).
#ifndef PCIPASS_SELECT_REQUEST_H_
#define PCIPASS_SELECT_REQUEST_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/device.h"
#include "core/status.h"

namespace pcipass {

class AliasTable;  // select/alias.h

// Nova's PCI NUMA affinity policies (nova-pci-semantics.md 5.5).
enum class NumaPolicy {
  kLegacy,     // NUMA-local if any, else any device (devices without NUMA ok)
  kRequired,   // only devices on the guest's NUMA nodes
  kPreferred,  // NUMA-local first, else anything
  kSocket,     // devices on a socket of the guest's NUMA nodes
};

// "legacy", "required", "preferred", "socket".
std::string_view NumaPolicyName(NumaPolicy policy);
// Exact, lower-case names above; nullopt for anything else.
std::optional<NumaPolicy> ParseNumaPolicy(std::string_view name);

// One spec dict of a request, as Nova keeps it: keys such as "vendor_id",
// "product_id", "dev_type", "live_migratable", "physical_network"; values are
// strings or null (null matches a pool that lacks the key, 4.3).
using RequestSpec = std::map<std::string, std::optional<std::string>>;

struct PciRequest {
  std::string alias_name;  // stripped; empty for non-alias requests
  int count = 0;           // >= 1
  // The alias's specs; a device matches if it matches ANY of them.
  std::vector<RequestSpec> specs;
  NumaPolicy numa_policy = NumaPolicy::kLegacy;
  // The alias's device_type, if it set one; nullopt means any type.
  std::optional<DeviceType> dev_type;
};

// The flavor/image NUMA policy overrides (flavor
// `hw:pci_numa_affinity_policy`, image `hw_pci_numa_affinity_policy`), as
// raw strings so the error can quote them. Empty optional = not set.
struct NumaOverride {
  std::optional<std::string> flavor;
  std::optional<std::string> image;
};

// Resolves |override| to the policy that replaces the aliases' own:
// nullopt when neither is set; the flavor's when set (it must then agree
// with the image's if that is set too), else the image's.
// Errors (InvalidArgument): "Invalid PCI NUMA affinity configured: <p>" for a
// value that is not a policy name; "Image property
// hw_pci_numa_affinity_policy '<i>' conflicts with flavor
// hw:pci_numa_affinity_policy '<f>'" (Nova's ImagePCINUMAPolicyForbidden).
Result<std::optional<NumaPolicy>> ResolveNumaOverride(
    const NumaOverride& override);

// Parses |text| ("a1:2, a2:1") against |aliases|: one PciRequest per item,
// in order (the same alias twice gives two requests, like Nova). The alias
// name is stripped; the count is a decimal integer, spaces around it are
// allowed, and it must be >= 1. The NUMA policy is the override's if set,
// else the alias's.
// Errors (InvalidArgument unless noted), each naming the item and what is
// accepted: empty text; an empty item ("a1:2,"); an item without exactly one
// ':' ("a1", "a,b:1", "a:1:2"); an empty alias name; a count that is not a
// decimal integer ("a1:x", "a1:+1"), is 0 or negative, or is too large;
// NotFound "PCI alias <name> is not defined" for an unknown alias; and the
// errors of ResolveNumaOverride.
Result<std::vector<PciRequest>> ParsePciRequests(
    std::string_view text, const AliasTable& aliases,
    const NumaOverride& numa_override = {});

}  // namespace pcipass

#endif  // PCIPASS_SELECT_REQUEST_H_
