#include "cluster/summary.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace pcipass::cluster {
namespace {

// Who a new placement would be: an instance that holds nothing yet.
const std::string kNewInstance = "(new instance)";

// Whether a new instance could take |d| now, and if not why.
std::string TakeableReason(const claims::FitHost& fit, const LedgerDevice& d) {
  Status s = fit.table.CheckTakeable(d.address, kNewInstance);
  if (!s.ok()) return s.message();
  if (d.iommu_group) {
    auto it = fit.group_outsiders.find(*d.iommu_group);
    if (it != fit.group_outsiders.end() && !it->second.empty()) {
      return "IOMMU group " + std::to_string(*d.iommu_group) + " also holds " +
             it->second.front() + ", which the device_spec rules do not allow";
    }
  }
  return "";
}

}  // namespace

claims::FitHost MakeFitHost(const HostInventory& inventory) {
  claims::FitHost fit;
  fit.table = claims::DeviceTable(inventory.devices);
  fit.tags = inventory.tags;
  fit.group_outsiders = inventory.group_outsiders;
  fit.topology = inventory.topology;
  return fit;
}

HostSummary Summarize(const HostIdentity& identity,
                      const HostInventory& inventory,
                      const AliasTable& aliases) {
  return Summarize(identity, MakeFitHost(inventory), aliases);
}

HostSummary Summarize(const HostIdentity& identity, const claims::FitHost& fit,
                      const AliasTable& aliases) {
  HostSummary s;
  s.host = identity.host;
  s.generation = identity.generation;
  s.last_heartbeat_unix = identity.last_heartbeat_unix;
  s.traits = identity.traits;
  s.aggregate = identity.aggregate;
  s.cell_socket = fit.topology.cell_socket;

  std::vector<PciRequest> requests;
  std::vector<std::string> names;
  for (const auto& [name, alias] : aliases.aliases()) {
    PciRequest r;
    r.alias_name = name;
    r.count = 1;
    r.specs = alias.specs;
    r.numa_policy = alias.numa_policy;
    r.dev_type = alias.dev_type;
    requests.push_back(std::move(r));
    names.push_back(name);
  }
  auto eligible = claims::EligibleDevices(fit, requests, kNewInstance);
  for (size_t i = 0; i < names.size(); ++i) {
    AliasCapacity cap;
    cap.claimable = static_cast<int>(eligible[i].size());
    for (const LedgerDevice* d : eligible[i]) {
      cap.by_numa[d->numa_node.value_or(kNoNuma)]++;
    }
    s.aliases[names[i]] = std::move(cap);
  }

  std::map<PciAddress, PfSummary> pfs;
  std::map<int, GroupSummary> groups;
  for (const auto& [addr, d] : fit.table.devices()) {
    if (d.state == DeviceState::kRemoved && !d.owner) continue;
    const std::string why_not = TakeableReason(fit, d);
    const bool takeable = why_not.empty();
    ++s.devices_total;
    if (takeable) ++s.devices_free;
    if (d.dev_type == DeviceType::kPf) {
      PfSummary& pf = pfs[addr];
      pf.pf = addr;
      pf.numa_node = d.numa_node;
      pf.wholly_free = takeable;
    }
    if (d.dev_type == DeviceType::kVf && d.parent_addr) {
      PfSummary& pf = pfs[*d.parent_addr];
      pf.pf = *d.parent_addr;
      if (!pf.numa_node) pf.numa_node = d.numa_node;
      ++pf.vfs_total;
      if (takeable) ++pf.vfs_free;
    }
    if (d.iommu_group) {
      GroupSummary& g = groups[*d.iommu_group];
      g.group = *d.iommu_group;
      ++g.members;
      if (takeable) ++g.free_members;
      if (g.blocked_by.empty()) {
        if (claims::DeviceTable::Held(d)) {
          g.blocked_by = addr.ToString() + " is " +
                         std::string(DeviceStateName(d.state)) + " by " +
                         d.owner.value_or("?");
        } else if (d.state == DeviceState::kReserved) {
          g.blocked_by = addr.ToString() + " is reserved for the host";
        }
      }
    }
  }
  for (auto& [group, g] : groups) {
    auto it = fit.group_outsiders.find(group);
    if (g.blocked_by.empty() && it != fit.group_outsiders.end() &&
        !it->second.empty()) {
      g.blocked_by = it->second.front() + " is outside the device_spec rules";
    }
  }
  for (const auto& [a, pf] : pfs) s.pfs.push_back(pf);
  for (auto& [g, gs] : groups) s.groups.push_back(std::move(gs));
  return s;
}

nlohmann::json SummaryToJson(const HostSummary& s) {
  using nlohmann::json;
  json j;
  j["host"] = s.host;
  j["generation"] = s.generation;
  j["last_heartbeat_unix"] = s.last_heartbeat_unix;
  j["traits"] = s.traits;
  j["aggregate"] = s.aggregate;
  json cells = json::object();
  for (const auto& [cell, socket] : s.cell_socket) {
    cells[std::to_string(cell)] = socket ? json(*socket) : json(nullptr);
  }
  j["cell_socket"] = cells;
  json aliases = json::object();
  for (const auto& [name, cap] : s.aliases) {
    json by = json::object();
    for (const auto& [node, n] : cap.by_numa) by[std::to_string(node)] = n;
    aliases[name] = {{"claimable", cap.claimable}, {"by_numa", by}};
  }
  j["aliases"] = aliases;
  json pfs = json::array();
  for (const PfSummary& pf : s.pfs) {
    pfs.push_back({{"pf", pf.pf.ToString()},
                   {"numa_node", pf.numa_node ? json(*pf.numa_node) : json()},
                   {"vfs_total", pf.vfs_total},
                   {"vfs_free", pf.vfs_free},
                   {"wholly_free", pf.wholly_free}});
  }
  j["pfs"] = pfs;
  json groups = json::array();
  for (const GroupSummary& g : s.groups) {
    groups.push_back({{"group", g.group},
                      {"members", g.members},
                      {"free_members", g.free_members},
                      {"blocked_by", g.blocked_by}});
  }
  j["groups"] = groups;
  j["devices_total"] = s.devices_total;
  j["devices_free"] = s.devices_free;
  return j;
}

namespace {

Status Bad(const std::string& field, const std::string& expected) {
  return Status::InvalidArgument("host summary field '" + field +
                                 "': expected " + expected);
}

Result<int> IntKey(const std::string& field, const std::string& key) {
  size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(key, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != key.size() || key.empty()) {
    return Bad(field, "integer keys, got '" + key + "'");
  }
  return v;
}

// Sets |out| to |object|[key] (0 when absent). json::value() would throw
// type_error on a string or overflow silently on a huge number.
Status ReadOptionalInt(const nlohmann::json& object, const std::string& parent,
                       const char* key, int& out) {
  const std::string field = parent.empty() ? key : parent + "." + key;
  out = 0;
  auto it = object.find(key);
  if (it == object.end()) return Status::Ok();
  if (!it->is_number_integer()) return Bad(field, "an integer");
  // An unsigned value above INT64_MAX reads as negative here: refused too.
  const int64_t v = it->get<int64_t>();
  if (v < 0 || v > std::numeric_limits<int>::max()) {
    return Bad(field, "an integer from 0 to 2147483647");
  }
  out = static_cast<int>(v);
  return Status::Ok();
}

}  // namespace

Result<HostSummary> SummaryFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Bad("(top)", "an object");
  HostSummary s;
  auto need = [&](const char* key, auto pred, const char* what) -> Status {
    if (!j.contains(key) || !pred(j.at(key))) return Bad(key, what);
    return Status::Ok();
  };
  auto is_str = [](const nlohmann::json& v) { return v.is_string(); };
  auto is_int = [](const nlohmann::json& v) { return v.is_number_integer(); };
  auto is_arr = [](const nlohmann::json& v) { return v.is_array(); };
  auto is_obj = [](const nlohmann::json& v) { return v.is_object(); };
  PCIPASS_RETURN_IF_ERROR(need("host", is_str, "a non-empty string"));
  s.host = j["host"].get<std::string>();
  if (s.host.empty()) return Bad("host", "a non-empty string");
  PCIPASS_RETURN_IF_ERROR(need("generation", is_int, "an integer"));
  s.generation = j["generation"].get<int64_t>();
  PCIPASS_RETURN_IF_ERROR(need("last_heartbeat_unix", is_int, "an integer"));
  s.last_heartbeat_unix = j["last_heartbeat_unix"].get<int64_t>();
  PCIPASS_RETURN_IF_ERROR(need("traits", is_arr, "an array of strings"));
  for (const auto& t : j["traits"]) {
    if (!t.is_string()) return Bad("traits", "an array of strings");
    s.traits.insert(t.get<std::string>());
  }
  PCIPASS_RETURN_IF_ERROR(need("aggregate", is_str, "a string"));
  s.aggregate = j["aggregate"].get<std::string>();
  PCIPASS_RETURN_IF_ERROR(need("cell_socket", is_obj, "an object"));
  for (const auto& [k, v] : j["cell_socket"].items()) {
    Result<int> cell_key = IntKey("cell_socket", k);
    if (!cell_key.ok()) return cell_key.status();
    const int cell = *cell_key;
    if (v.is_null()) {
      s.cell_socket[cell] = std::nullopt;
    } else if (v.is_number_integer()) {
      s.cell_socket[cell] = v.get<int>();
    } else {
      return Bad("cell_socket." + k, "an integer socket or null");
    }
  }
  PCIPASS_RETURN_IF_ERROR(need("aliases", is_obj, "an object"));
  for (const auto& [name, v] : j["aliases"].items()) {
    const std::string f = "aliases." + name;
    if (!v.is_object() || !v.contains("claimable") ||
        !v["claimable"].is_number_integer() || !v.contains("by_numa") ||
        !v["by_numa"].is_object()) {
      return Bad(f, "{\"claimable\": int, \"by_numa\": {node: int}}");
    }
    AliasCapacity cap;
    cap.claimable = v["claimable"].get<int>();
    int sum = 0;
    for (const auto& [node, n] : v["by_numa"].items()) {
      Result<int> node_key = IntKey(f + ".by_numa", node);
      if (!node_key.ok()) return node_key.status();
      const int key = *node_key;
      if (!n.is_number_integer() || n.get<int>() < 0) {
        std::string field = f;
        field += ".by_numa.";
        field += node;
        return Bad(field, "a non-negative integer");
      }
      cap.by_numa[key] = n.get<int>();
      sum += n.get<int>();
    }
    if (cap.claimable < 0 || sum != cap.claimable) {
      return Bad(f, "claimable equal to the sum of by_numa (" +
                        std::to_string(sum) + "), got " +
                        std::to_string(cap.claimable));
    }
    s.aliases[name] = std::move(cap);
  }
  PCIPASS_RETURN_IF_ERROR(need("pfs", is_arr, "an array"));
  for (const auto& v : j["pfs"]) {
    PfSummary pf;
    if (!v.is_object() || !v.contains("pf") || !v["pf"].is_string()) {
      return Bad("pfs", "objects with a \"pf\" address");
    }
    auto addr = PciAddress::Parse(v["pf"].get<std::string>());
    if (!addr.ok()) return Bad("pfs.pf", "a PCI address dddd:bb:ss.f");
    pf.pf = *addr;
    if (v.contains("numa_node") && v["numa_node"].is_number_integer()) {
      pf.numa_node = v["numa_node"].get<int>();
    }
    PCIPASS_RETURN_IF_ERROR(
        ReadOptionalInt(v, "pfs", "vfs_total", pf.vfs_total));
    PCIPASS_RETURN_IF_ERROR(ReadOptionalInt(v, "pfs", "vfs_free", pf.vfs_free));
    if (v.contains("wholly_free")) {
      if (!v["wholly_free"].is_boolean()) {
        return Bad("pfs.wholly_free", "true or false");
      }
      pf.wholly_free = v["wholly_free"].get<bool>();
    }
    s.pfs.push_back(pf);
  }
  PCIPASS_RETURN_IF_ERROR(need("groups", is_arr, "an array"));
  for (const auto& v : j["groups"]) {
    if (!v.is_object() || !v.contains("group") ||
        !v["group"].is_number_integer()) {
      return Bad("groups", "objects with an integer \"group\"");
    }
    GroupSummary g;
    g.group = v["group"].get<int>();
    PCIPASS_RETURN_IF_ERROR(ReadOptionalInt(v, "groups", "members", g.members));
    PCIPASS_RETURN_IF_ERROR(
        ReadOptionalInt(v, "groups", "free_members", g.free_members));
    if (v.contains("blocked_by")) {
      if (!v["blocked_by"].is_string()) {
        return Bad("groups.blocked_by", "a string");
      }
      g.blocked_by = v["blocked_by"].get<std::string>();
    }
    s.groups.push_back(g);
  }
  PCIPASS_RETURN_IF_ERROR(
      ReadOptionalInt(j, "", "devices_total", s.devices_total));
  PCIPASS_RETURN_IF_ERROR(
      ReadOptionalInt(j, "", "devices_free", s.devices_free));
  return s;
}

}  // namespace pcipass::cluster
