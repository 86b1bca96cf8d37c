#include "cluster/synthetic.h"

#include <fmt/format.h>

#include <algorithm>

#include "claims/device_state.h"

namespace pcipass::cluster::synthetic {
namespace {

constexpr uint16_t kNvidia = 0x10de, kGpu = 0x20b0;
constexpr uint16_t kIntel = 0x8086, kPf = 0x1572, kVf = 0x154c;
constexpr uint16_t kSamsung = 0x144d, kNvme = 0xa80a;

struct Builder {
  std::vector<LedgerDevice> devices;
  std::map<PciAddress, TagMap> tags;
  int next_group = 1;

  PciAddress Add(uint8_t bus, uint8_t slot, uint8_t fn, uint16_t vendor,
                 uint16_t product, DeviceType type,
                 std::optional<PciAddress> parent, std::optional<int> numa,
                 std::optional<int> group, TagMap t) {
    LedgerDevice d;
    d.address = PciAddress{0, bus, slot, fn};
    d.vendor_id = vendor;
    d.product_id = product;
    d.dev_type = type;
    d.parent_addr = parent;
    d.numa_node = numa;
    d.iommu_group = group ? group : std::optional<int>(next_group++);
    devices.push_back(d);
    tags[d.address] = std::move(t);
    return d.address;
  }
  void Gpus(int n, bool paired_groups, uint8_t first_bus) {
    for (int i = 0; i < n; ++i) {
      std::optional<int> group;
      if (paired_groups) {
        group = 100000 + (i / 2);  // two GPUs behind one switch
      }
      Add(static_cast<uint8_t>(first_bus + i), 0, 0, kNvidia, kGpu,
          DeviceType::kPci, std::nullopt, i < n / 2 ? 0 : 1, group, {});
    }
  }
  void Nic(int pfs, int vfs, uint8_t first_bus) {
    const TagMap physnet = {{"physical_network", "physnet1"}};
    for (int p = 0; p < pfs; ++p) {
      const auto bus = static_cast<uint8_t>(first_bus + p);
      PciAddress pf = Add(bus, 0, 0, kIntel, kPf, DeviceType::kPf, std::nullopt,
                          p % 2, std::nullopt, physnet);
      for (int v = 1; v <= vfs; ++v) {
        Add(bus, static_cast<uint8_t>(v / 8), static_cast<uint8_t>(v % 8),
            kIntel, kVf, DeviceType::kVf, pf, p % 2, std::nullopt, physnet);
      }
    }
  }
  void Nvme(int n, bool some_without_numa, uint8_t first_bus) {
    for (int i = 0; i < n; ++i) {
      std::optional<int> numa = i % 2;
      if (some_without_numa && i % 3 == 2) numa = std::nullopt;
      Add(static_cast<uint8_t>(first_bus + i), 0, 0, kSamsung, kNvme,
          DeviceType::kPci, std::nullopt, numa, std::nullopt, {});
    }
  }
};

int Uniform(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}
bool Chance(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

}  // namespace

const std::vector<std::string>& AliasLines() {
  static const std::vector<std::string> kLines = {
      R"({"name":"gpu","vendor_id":"10de","product_id":"20b0","device_type":"type-PCI"})",
      R"({"name":"nic-vf","vendor_id":"8086","product_id":"154c","device_type":"type-VF"})",
      R"({"name":"nic-pf","vendor_id":"8086","product_id":"1572","device_type":"type-PF"})",
      R"({"name":"nvme","vendor_id":"144d","product_id":"a80a","device_type":"type-PCI"})",
  };
  return kLines;
}

const std::vector<std::string>& DeviceSpecLines() {
  static const std::vector<std::string> kLines = {
      R"({"vendor_id":"10de","product_id":"20b0"})",
      R"({"vendor_id":"8086","product_id":"1572","physical_network":"physnet1"})",
      R"({"vendor_id":"8086","product_id":"154c","physical_network":"physnet1"})",
      R"({"vendor_id":"144d","product_id":"a80a"})",
  };
  return kLines;
}

AliasTable Aliases() {
  std::vector<AliasEntry> entries;
  for (size_t i = 0; i < AliasLines().size(); ++i) {
    entries.push_back({AliasLines()[i], "synthetic:" + std::to_string(i + 1)});
  }
  std::vector<Status> errors;
  return ParseAliases(entries, false, &errors);
}

std::vector<Host> GenerateCluster(const Options& options) {
  std::mt19937_64 rng(options.seed);
  std::vector<Host> hosts;
  hosts.reserve(options.hosts);
  for (int h = 0; h < options.hosts; ++h) {
    Host host;
    Builder b;
    const int kind = Uniform(rng, 0, 99);
    std::set<std::string> traits;
    if (options.small) {
      // Few devices of every kind so brute force stays cheap.
      const int mix = Uniform(rng, 0, 3);
      if (mix == 0 || mix == 3)
        b.Gpus(Uniform(rng, 1, 6), Chance(rng, 0.3), 0x40);
      if (mix == 1 || mix == 3)
        b.Nic(Uniform(rng, 1, 2), Uniform(rng, 1, 4), 0x10);
      if (mix == 2 || mix == 3) b.Nvme(Uniform(rng, 1, 4), true, 0x80);
    } else if (kind < 35) {
      b.Gpus(Chance(rng, 0.5) ? 8 : 16, Chance(rng, 0.1), 0x40);
      traits.insert("CUSTOM_GPU");
    } else if (kind < 70) {
      b.Nic(Chance(rng, 0.5) ? 2 : 4, 8 * Uniform(rng, 1, 4), 0x10);
      traits.insert("CUSTOM_SRIOV");
    } else if (kind < 90) {
      b.Nvme(Uniform(rng, 4, 10), true, 0x80);
      traits.insert("CUSTOM_NVME");
    } else {
      b.Gpus(4, false, 0x40);
      b.Nic(1, 8, 0x10);
      b.Nvme(2, false, 0x80);
      traits = {"CUSTOM_GPU", "CUSTOM_SRIOV", "CUSTOM_NVME"};
    }
    if (Chance(rng, 0.3)) traits.insert("CUSTOM_SSD");

    // Hold some devices (whole PFs sometimes) as real claims would.
    claims::DeviceTable table(b.devices);
    const double used =
        std::uniform_real_distribution<double>(0, options.max_used)(rng);
    int vm = 0;
    for (const LedgerDevice& d : b.devices) {
      const double p = d.dev_type == DeviceType::kPf ? used / 4 : used;
      if (!Chance(rng, p)) continue;
      (void)table.Allocate(d.address, fmt::format("vm-{}-{}", h, vm++),
                           "synthetic");
    }
    host.inventory.devices.reserve(table.devices().size());
    for (const auto& [a, d] : table.devices()) {
      host.inventory.devices.push_back(d);
    }
    host.inventory.tags = std::move(b.tags);
    host.inventory.topology.cell_socket = {{0, 0}, {1, 1}};

    host.identity.host = fmt::format("host-{:05d}", h);
    host.identity.generation = 1;
    host.identity.last_heartbeat_unix =
        options.now_unix -
        (Chance(rng, options.stale_fraction) ? 100 : Uniform(rng, 0, 10));
    host.identity.traits = std::move(traits);
    host.identity.aggregate = fmt::format("az{}", h % 4);
    hosts.push_back(std::move(host));
  }
  return hosts;
}

PciRequest AliasRequest(const AliasTable& aliases, const std::string& name,
                        int count) {
  PciRequest r;
  r.alias_name = name;
  r.count = count;
  if (const Alias* a = aliases.Find(name)) {
    r.specs = a->specs;
    r.numa_policy = a->numa_policy;
    r.dev_type = a->dev_type;
  }
  return r;
}

PlacementRequest RandomRequest(std::mt19937_64& rng, const AliasTable& aliases,
                               const std::vector<Host>& hosts) {
  static const char* const kNames[] = {"gpu", "nic-vf", "nic-pf", "nvme"};
  static const NumaPolicy kPolicies[] = {
      NumaPolicy::kLegacy, NumaPolicy::kRequired, NumaPolicy::kPreferred,
      NumaPolicy::kSocket};
  PlacementRequest req;
  const int n = Uniform(rng, 1, 2);
  for (int i = 0; i < n; ++i) {
    PciRequest r = AliasRequest(aliases, kNames[Uniform(rng, 0, 3)],
                                Uniform(rng, 1, Chance(rng, 0.7) ? 3 : 8));
    r.numa_policy = kPolicies[Uniform(rng, 0, 3)];
    req.requests.push_back(std::move(r));
  }
  const int numa = Uniform(rng, 0, 2);
  if (numa == 1) {
    req.numa.mode = GuestNuma::Mode::kCells;
    req.numa.cells = {Uniform(rng, 0, 1)};
  } else if (numa == 2) {
    req.numa.mode = GuestNuma::Mode::kAnyOneCell;
  }
  if (Chance(rng, 0.2)) req.required_traits = {"CUSTOM_SSD"};
  if (Chance(rng, 0.1)) req.forbidden_traits = {"CUSTOM_SSD"};
  if (Chance(rng, 0.2)) req.aggregate = fmt::format("az{}", Uniform(rng, 0, 4));
  if (Chance(rng, 0.3) && !hosts.empty()) {
    for (int i = 0; i < 3; ++i) {
      req.anti_affinity_hosts.push_back(
          hosts[Uniform(rng, 0, static_cast<int>(hosts.size()) - 1)]
              .identity.host);
    }
  }
  if (Chance(rng, 0.5)) req.weigher = Weigher::kSpread;
  req.max_candidates = static_cast<size_t>(Uniform(rng, 1, 4));
  return req;
}

nlohmann::json NovaExport(const std::vector<Host>& hosts) {
  using nlohmann::json;
  json out;
  out["device_spec"] = DeviceSpecLines();
  out["alias"] = AliasLines();
  json jhosts = json::array();
  for (const Host& h : hosts) {
    claims::FitHost fit = MakeFitHost(h.inventory);
    json devs = json::array();
    for (const auto& [a, d] : fit.table.devices()) {
      // Nova's scheduler pools hold only available devices; a device whose
      // relative is held is "unavailable" there too.
      std::string status = "available";
      if (claims::DeviceTable::Held(d)) {
        status = "allocated";
      } else if (!fit.table.CheckTakeable(a, "(new instance)").ok()) {
        status = "unavailable";
      }
      devs.push_back(
          {{"address", a.ToString()},
           {"vendor_id", fmt::format("{:04x}", d.vendor_id.value_or(0))},
           {"product_id", fmt::format("{:04x}", d.product_id.value_or(0))},
           {"dev_type", std::string(DeviceTypeName(d.dev_type))},
           {"parent_addr",
            d.parent_addr ? json(d.parent_addr->ToString()) : json(nullptr)},
           {"numa_node", d.numa_node ? json(*d.numa_node) : json(nullptr)},
           {"status", status}});
    }
    jhosts.push_back({{"name", h.identity.host}, {"devices", devs}});
  }
  out["hosts"] = jhosts;
  return out;
}

}  // namespace pcipass::cluster::synthetic
