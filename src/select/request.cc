#include "select/request.h"

#include <cctype>

#include "select/alias.h"

namespace pcipass {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

const char* const kSyntax =
    "expected 'alias:count[,alias:count...]' with a count of 1 or more, "
    "e.g. 'gpu:2,nic-vf:1'";

Status ItemError(std::string_view text, size_t n, std::string_view item,
                 const std::string& what) {
  return Status::InvalidArgument(
      "PCI request '" + std::string(text) + "', item " + std::to_string(n) +
      " '" + std::string(item) + "': " + what + "; " + kSyntax);
}

}  // namespace

Result<std::optional<NumaPolicy>> ResolveNumaOverride(
    const NumaOverride& override) {
  std::optional<NumaPolicy> flavor, image;
  if (override.flavor) {
    flavor = ParseNumaPolicy(*override.flavor);
    if (!flavor) {
      return Status::InvalidArgument(
          "Invalid PCI NUMA affinity configured: " + *override.flavor +
          " (flavor hw:pci_numa_affinity_policy; accepted: required, "
          "legacy, preferred, socket)");
    }
  }
  if (override.image) {
    image = ParseNumaPolicy(*override.image);
    if (!image) {
      return Status::InvalidArgument(
          "Invalid PCI NUMA affinity configured: " + *override.image +
          " (image hw_pci_numa_affinity_policy; accepted: required, "
          "legacy, preferred, socket)");
    }
  }
  if (flavor && image && *flavor != *image) {
    return Status::InvalidArgument(
        "Image property hw_pci_numa_affinity_policy '" + *override.image +
        "' conflicts with flavor hw:pci_numa_affinity_policy '" +
        *override.flavor +
        "' (ImagePCINUMAPolicyForbidden); set them equal "
        "or set only one");
  }
  return flavor ? flavor : image;
}

Result<std::vector<PciRequest>> ParsePciRequests(
    std::string_view text, const AliasTable& aliases,
    const NumaOverride& numa_override) {
  Result<std::optional<NumaPolicy>> policy = ResolveNumaOverride(numa_override);
  if (!policy.ok()) return policy.status();
  if (Trim(text).empty()) {
    return Status::InvalidArgument(std::string("empty PCI request; ") +
                                   kSyntax);
  }
  std::vector<PciRequest> requests;
  size_t n = 0;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma - start);
    ++n;
    std::string_view trimmed = Trim(item);
    if (trimmed.empty()) {
      return ItemError(text, n, item,
                       "empty item (a stray ',' at the start, the end or "
                       "twice in a row)");
    }
    size_t colon = trimmed.find(':');
    if (colon == std::string_view::npos) {
      return ItemError(text, n, trimmed, "no ':count' after the alias name");
    }
    if (trimmed.find(':', colon + 1) != std::string_view::npos) {
      return ItemError(text, n, trimmed, "more than one ':'");
    }
    std::string name(Trim(trimmed.substr(0, colon)));
    std::string_view count_text = Trim(trimmed.substr(colon + 1));
    if (name.empty()) return ItemError(text, n, trimmed, "empty alias name");
    bool digits = !count_text.empty();
    for (char c : count_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) digits = false;
    }
    if (!digits) {
      return ItemError(
          text, n, trimmed,
          "count '" + std::string(count_text) + "' is not a whole number");
    }
    if (count_text.size() > 6) {
      return ItemError(text, n, trimmed,
                       "count " + std::string(count_text) +
                           " is too large (at most 999999)");
    }
    int count = std::stoi(std::string(count_text));
    if (count < 1) {
      return ItemError(text, n, trimmed,
                       "count must be at least 1 (a count of 0 requests "
                       "nothing)");
    }
    const Alias* alias = aliases.Find(name);
    if (alias == nullptr) {
      std::string known;
      for (const auto& [k, a] : aliases.aliases()) {
        known += known.empty() ? k : ", " + k;
      }
      return Status::NotFound("PCI alias " + name + " is not defined" +
                              (known.empty() ? std::string(" (no [pci]alias "
                                                           "is configured)")
                                             : " (defined: " + known + ")"));
    }
    PciRequest req;
    req.alias_name = name;
    req.count = count;
    req.specs = alias->specs;
    req.numa_policy = policy->value_or(alias->numa_policy);
    req.dev_type = alias->dev_type;
    requests.push_back(std::move(req));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return requests;
}

}  // namespace pcipass
