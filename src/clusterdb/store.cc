#include "clusterdb/store.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "clusterdb/schema.h"

namespace pcipass::clusterdb {

namespace {

using nlohmann::json;

json TagsJson(const TagMap& tags) {
  json j = json::object();
  for (const auto& [k, v] : tags) j[k] = v ? json(*v) : json(nullptr);
  return j;
}

TagMap TagsFromJson(const json& j) {
  TagMap tags;
  if (!j.is_object()) return tags;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) {
      tags[k] = v.get<std::string>();
    } else {
      tags[k] = std::nullopt;
    }
  }
  return tags;
}

json TopologyJson(const claims::NumaTopology& t) {
  json cells = json::object();
  for (const auto& [cell, socket] : t.cell_socket) {
    cells[std::to_string(cell)] = socket ? json(*socket) : json(nullptr);
  }
  return json{{"cells", cells}};
}

claims::NumaTopology TopologyFromJson(const json& j) {
  claims::NumaTopology t;
  if (!j.is_object() || !j.contains("cells")) return t;
  for (const auto& [k, v] : j["cells"].items()) {
    std::optional<int> socket;
    if (v.is_number_integer()) socket = v.get<int>();
    t.cell_socket[std::stoi(k)] = socket;
  }
  return t;
}

json OutsidersJson(const std::map<int, std::vector<std::string>>& o) {
  json j = json::object();
  for (const auto& [g, members] : o) j[std::to_string(g)] = members;
  return j;
}

std::map<int, std::vector<std::string>> OutsidersFromJson(const json& j) {
  std::map<int, std::vector<std::string>> o;
  if (!j.is_object()) return o;
  for (const auto& [k, v] : j.items()) {
    o[std::stoi(k)] = v.get<std::vector<std::string>>();
  }
  return o;
}

std::vector<std::string> StringArray(const std::string& json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (!j.is_array()) return {};
  return j.get<std::vector<std::string>>();
}

// PostgreSQL text[] literal from JSON: passed as JSON and converted in SQL.
std::string JsonArray(const std::vector<std::string>& v) {
  return json(v).dump();
}

json DeviceRowJson(const LedgerDevice& d, const TagMap& tags) {
  json j;
  j["address"] = d.address.ToString();
  j["vendor_id"] = d.vendor_id ? json(*d.vendor_id) : json(nullptr);
  j["product_id"] = d.product_id ? json(*d.product_id) : json(nullptr);
  j["dev_type"] = std::string(DeviceTypeName(d.dev_type));
  j["parent_addr"] =
      d.parent_addr ? json(d.parent_addr->ToString()) : json(nullptr);
  j["numa_node"] = d.numa_node ? json(*d.numa_node) : json(nullptr);
  j["iommu_group"] = d.iommu_group ? json(*d.iommu_group) : json(nullptr);
  j["driver"] = d.driver ? json(*d.driver) : json(nullptr);
  j["state"] = d.state == DeviceState::kReserved ? "reserved" : "available";
  j["reason"] = d.reason;
  j["tags"] = TagsJson(tags);
  return j;
}

}  // namespace

Result<std::unique_ptr<ClusterStore>> ClusterStore::Open(
    const std::string& conninfo, bool migrate) {
  Result<std::unique_ptr<PgConnection>> conn = PgConnection::Open(conninfo);
  if (!conn.ok()) return conn.status();
  if (migrate) {
    Result<std::vector<int>> applied = Migrate(**conn);
    if (!applied.ok()) return applied.status();
  } else {
    Result<int> v = CurrentSchemaVersion(**conn);
    if (!v.ok()) return v.status();
    if (*v != LatestSchemaVersion()) {
      return Status::FailedPrecondition(
          "cluster database schema is at version " + std::to_string(*v) +
          ", this pcipass needs " + std::to_string(LatestSchemaVersion()) +
          ": start pcipass-scheduler (it migrates) or run `pcipass cluster "
          "migrate --db ...`");
    }
  }
  return std::unique_ptr<ClusterStore>(new ClusterStore(std::move(*conn)));
}

Result<bool> ClusterStore::PushInventory(const HostInventory& inv) {
  if (inv.name.empty()) {
    return Status::InvalidArgument(
        "cluster agent: empty host name (set [cluster] host = NAME or "
        "--host)");
  }
  json devices = json::array();
  std::vector<std::string> addresses;
  for (const LedgerDevice& d : inv.devices) {
    auto t = inv.tags.find(d.address);
    devices.push_back(
        DeviceRowJson(d, t == inv.tags.end() ? TagMap{} : t->second));
    addresses.push_back(d.address.ToString());
  }
  json whole = {{"devices", devices},
                {"outsiders", OutsidersJson(inv.group_outsiders)},
                {"topology", TopologyJson(inv.topology)},
                {"aggregates", inv.aggregates},
                {"traits", inv.traits}};
  std::string hash = std::to_string(std::hash<std::string>()(whole.dump()));
  bool changed = false;
  Status s = conn_->Transaction([&]() -> Status {
    Result<PgResult> up = conn_->Exec(
        "register host " + inv.name,
        "INSERT INTO hosts (name, agent, heartbeat_at) VALUES ($1, $2, now()) "
        "ON CONFLICT (name) DO UPDATE SET agent = EXCLUDED.agent, "
        "heartbeat_at = now() RETURNING inventory_hash",
        {inv.name, inv.agent});
    if (!up.ok()) return up.status();
    // The upsert holds the row lock until commit: claims wait for us.
    if (up->Text(0, 0) == hash) return Status::Ok();
    changed = true;
    Result<PgResult> r = conn_->Exec(
        "update host " + inv.name,
        "UPDATE hosts SET topology = $2::jsonb, group_outsiders = $3::jsonb, "
        "aggregates = ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), "
        "traits = ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), "
        "inventory_hash = $6, generation = generation + 1 WHERE name = $1",
        {inv.name, TopologyJson(inv.topology).dump(),
         OutsidersJson(inv.group_outsiders).dump(), JsonArray(inv.aggregates),
         JsonArray(inv.traits), hash});
    if (!r.ok()) return r.status();
    r = conn_->Exec(
        "upsert devices of " + inv.name,
        "INSERT INTO devices (host, address, vendor_id, product_id, dev_type, "
        "parent_addr, numa_node, iommu_group, driver, state, reason, tags) "
        "SELECT $1, x.address, x.vendor_id, x.product_id, x.dev_type, "
        "x.parent_addr, x.numa_node, x.iommu_group, x.driver, x.state, "
        "x.reason, x.tags FROM jsonb_to_recordset($2::jsonb) AS x(address "
        "text, vendor_id int, product_id int, dev_type text, parent_addr text, "
        "numa_node int, iommu_group int, driver text, state text, reason "
        "text, tags jsonb) ON CONFLICT (host, address) DO UPDATE SET "
        "vendor_id = EXCLUDED.vendor_id, product_id = EXCLUDED.product_id, "
        "dev_type = EXCLUDED.dev_type, parent_addr = EXCLUDED.parent_addr, "
        "numa_node = EXCLUDED.numa_node, iommu_group = EXCLUDED.iommu_group, "
        "driver = EXCLUDED.driver, state = EXCLUDED.state, reason = "
        "EXCLUDED.reason, tags = EXCLUDED.tags",
        {inv.name, devices.dump()});
    if (!r.ok()) return r.status();
    // Gone from the host: forget it unless a claim names it; a claimed
    // device stays (removed) so its owner is never silently lost.
    r = conn_->Exec(
        "forget vanished devices of " + inv.name,
        "DELETE FROM devices d WHERE d.host = $1 AND NOT (d.address = ANY("
        "ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))) AND NOT EXISTS "
        "(SELECT 1 FROM claims c WHERE c.host = d.host AND c.address = "
        "d.address)",
        {inv.name, JsonArray(addresses)});
    if (!r.ok()) return r.status();
    r = conn_->Exec(
        "mark vanished claimed devices of " + inv.name,
        "UPDATE devices SET state = 'removed', reason = 'vanished from the "
        "host while claimed' WHERE host = $1 AND NOT (address = ANY(ARRAY("
        "SELECT jsonb_array_elements_text($2::jsonb))))",
        {inv.name, JsonArray(addresses)});
    if (!r.ok()) return r.status();
    Result<HostState> host = LoadHostIn(inv.name, false);
    if (!host.ok()) return host.status();
    PCIPASS_RETURN_IF_ERROR(WritePools(*host));
    r = conn_->Exec("event",
                    "INSERT INTO events (host, kind, detail) VALUES ($1, "
                    "'inventory', $2)",
                    {inv.name, std::to_string(inv.devices.size()) +
                                   " devices from " + inv.agent});
    return r.status();
  });
  if (!s.ok()) return s.WithContext("push inventory of host " + inv.name);
  return changed;
}

Status ClusterStore::Heartbeat(const std::string& host) {
  Result<PgResult> r = conn_->Exec(
      "heartbeat " + host,
      "UPDATE hosts SET heartbeat_at = now() WHERE name = $1", {host});
  if (!r.ok()) return r.status();
  if (r->Affected() == 0) {
    return Status::NotFound("heartbeat: host " + host +
                            " is not registered (the agent pushes its "
                            "inventory first)");
  }
  return Status::Ok();
}

Status ClusterStore::AgeHeartbeat(const std::string& host, int age_s) {
  Result<PgResult> r = conn_->Exec(
      "age heartbeat " + host,
      "UPDATE hosts SET heartbeat_at = now() - make_interval(secs => $2) "
      "WHERE name = $1",
      {host, std::to_string(age_s)});
  if (!r.ok()) return r.status();
  if (r->Affected() == 0) return Status::NotFound("no host " + host);
  return Status::Ok();
}

Result<std::vector<HostListing>> ClusterStore::ListHosts() {
  Result<PgResult> r = conn_->Exec(
      "list hosts",
      "SELECT h.name, h.generation, extract(epoch FROM now() - "
      "h.heartbeat_at)::float8, h.agent, array_to_json(h.aggregates)::text, "
      "array_to_json(h.traits)::text, "
      "(SELECT count(*) FROM devices d WHERE d.host = h.name AND d.state <> "
      "'removed'), (SELECT count(*) FROM claims c WHERE c.host = h.name), "
      "(SELECT count(*) FROM devices d WHERE d.host = h.name AND d.state = "
      "'reserved'), (SELECT count(*) FROM placements p WHERE p.host = "
      "h.name) FROM hosts h ORDER BY h.name");
  if (!r.ok()) return r.status();
  std::vector<HostListing> out;
  for (int i = 0; i < r->rows(); ++i) {
    HostListing h;
    h.name = r->Text(i, 0);
    h.generation = r->Int(i, 1);
    h.heartbeat_age_s = std::stod(r->Text(i, 2));
    h.alive = h.heartbeat_age_s <= dead_after_s_;
    h.agent = r->Text(i, 3);
    h.aggregates = StringArray(r->Text(i, 4));
    h.traits = StringArray(r->Text(i, 5));
    h.devices = static_cast<int>(r->Int(i, 6));
    h.claimed = static_cast<int>(r->Int(i, 7));
    h.reserved = static_cast<int>(r->Int(i, 8));
    h.placements = static_cast<int>(r->Int(i, 9));
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::map<std::string, int64_t>> ClusterStore::HostGenerations() {
  Result<std::map<std::string, HostHead>> heads = HostHeads();
  if (!heads.ok()) return heads.status();
  std::map<std::string, int64_t> out;
  for (const auto& [name, head] : *heads) out[name] = head.generation;
  return out;
}

Result<std::map<std::string, HostHead>> ClusterStore::HostHeads() {
  Result<PgResult> r = conn_->Exec(
      "host generations",
      "SELECT name, generation, extract(epoch FROM heartbeat_at)::bigint "
      "FROM hosts");
  if (!r.ok()) return r.status();
  std::map<std::string, HostHead> out;
  for (int i = 0; i < r->rows(); ++i) {
    out[r->Text(i, 0)] = {r->Int(i, 1), r->Int(i, 2)};
  }
  return out;
}

Result<HostState> ClusterStore::LoadHost(const std::string& name) {
  return LoadHostIn(name, false);
}

Result<HostState> ClusterStore::LoadHostIn(const std::string& name, bool lock) {
  Result<std::vector<HostState>> hosts = LoadHostsIn(name, lock);
  if (!hosts.ok()) return hosts.status();
  if (hosts->empty()) {
    return Status::NotFound("no host " + name + " in the cluster");
  }
  return std::move(hosts->front());
}

Result<std::vector<HostState>> ClusterStore::LoadAllHosts() {
  std::vector<HostState> out;
  // One snapshot for every host: a refusal computed from it means no host
  // could take the request at that moment.
  Status s = conn_->Transaction([&]() -> Status {
    Result<PgResult> iso = conn_->Exec(
        "snapshot isolation",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (!iso.ok()) return iso.status();
    Result<std::vector<HostState>> all = LoadHostsIn(std::nullopt, false);
    if (!all.ok()) return all.status();
    out = std::move(*all);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<HostState>> ClusterStore::LoadHostsIn(
    const std::optional<std::string>& name, bool lock) {
  std::string sql =
      "SELECT name, generation, extract(epoch FROM now() - "
      "heartbeat_at)::float8, topology::text, group_outsiders::text, "
      "array_to_json(aggregates)::text, array_to_json(traits)::text, "
      "extract(epoch FROM heartbeat_at)::bigint FROM hosts WHERE $1::text IS "
      "NULL OR name = $1 ORDER BY name";
  if (lock) sql += " FOR UPDATE";
  std::string what = "load host " + name.value_or("(all)");
  Result<PgResult> h = conn_->Exec(what, sql, {name});
  if (!h.ok()) return h.status();
  std::vector<HostState> out;
  std::map<std::string, size_t> index;
  for (int i = 0; i < h->rows(); ++i) {
    HostState st;
    st.name = h->Text(i, 0);
    st.generation = h->Int(i, 1);
    st.heartbeat_age_s = std::stod(h->Text(i, 2));
    st.alive = st.heartbeat_age_s <= dead_after_s_;
    st.fit.topology =
        TopologyFromJson(json::parse(h->Text(i, 3), nullptr, false));
    st.fit.group_outsiders =
        OutsidersFromJson(json::parse(h->Text(i, 4), nullptr, false));
    st.aggregates = StringArray(h->Text(i, 5));
    st.traits = StringArray(h->Text(i, 6));
    st.heartbeat_unix = h->Int(i, 7);
    index[st.name] = out.size();
    out.push_back(std::move(st));
  }
  if (out.empty()) return out;
  Result<PgResult> d = conn_->Exec(
      what + ": devices",
      "SELECT host, address, vendor_id, product_id, dev_type, parent_addr, "
      "numa_node, iommu_group, driver, state, reason, tags::text FROM "
      "devices WHERE $1::text IS NULL OR host = $1",
      {name});
  if (!d.ok()) return d.status();
  Result<PgResult> c = conn_->Exec(
      what + ": claims",
      "SELECT c.host, c.address, c.instance, c.placement_id, p.status FROM "
      "claims c JOIN placements p ON p.id = c.placement_id WHERE $1::text IS "
      "NULL OR c.host = $1",
      {name});
  if (!c.ok()) return c.status();
  struct Holder {
    std::string instance;
    bool confirmed;
  };
  std::map<std::pair<std::string, std::string>, Holder> holders;
  for (int i = 0; i < c->rows(); ++i) {
    holders[{c->Text(i, 0), c->Text(i, 1)}] = {c->Text(i, 2),
                                               c->Text(i, 4) == "confirmed"};
    auto at = index.find(c->Text(i, 0));
    Result<PciAddress> a = PciAddress::Parse(c->Text(i, 1));
    if (at != index.end() && a.ok()) {
      out[at->second].claim_placement[*a] = c->Text(i, 3);
    }
  }
  std::vector<std::vector<LedgerDevice>> devices(out.size());
  for (int i = 0; i < d->rows(); ++i) {
    auto at = index.find(d->Text(i, 0));
    if (at == index.end()) continue;  // host inserted after our read
    HostState& st = out[at->second];
    LedgerDevice dev;
    Result<PciAddress> a = PciAddress::Parse(d->Text(i, 1));
    if (!a.ok()) {
      return Status::DataLoss("host " + st.name +
                              ": bad device address in the cluster "
                              "database: " +
                              a.status().message());
    }
    dev.address = *a;
    if (auto v = d->OptInt(i, 2)) dev.vendor_id = static_cast<uint16_t>(*v);
    if (auto v = d->OptInt(i, 3)) dev.product_id = static_cast<uint16_t>(*v);
    dev.dev_type = ParseDeviceType(d->Text(i, 4)).value_or(DeviceType::kPci);
    if (auto p = d->OptText(i, 5)) {
      Result<PciAddress> pa = PciAddress::Parse(*p);
      if (pa.ok()) dev.parent_addr = *pa;
    }
    if (auto v = d->OptInt(i, 6)) dev.numa_node = static_cast<int>(*v);
    if (auto v = d->OptInt(i, 7)) dev.iommu_group = static_cast<int>(*v);
    dev.driver = d->OptText(i, 8);
    std::string state = d->Text(i, 9);
    dev.reason = d->Text(i, 10);
    auto held = holders.find({st.name, d->Text(i, 1)});
    if (held != holders.end()) {
      dev.owner = held->second.instance;
      if (state == "removed") {
        dev.state = DeviceState::kRemoved;
      } else {
        dev.state = held->second.confirmed ? DeviceState::kAllocated
                                           : DeviceState::kClaimed;
      }
    } else if (state == "reserved") {
      dev.state = DeviceState::kReserved;
    } else if (state == "removed") {
      dev.state = DeviceState::kRemoved;
    } else {
      dev.state = DeviceState::kAvailable;
    }
    st.fit.tags[dev.address] =
        TagsFromJson(json::parse(d->Text(i, 11), nullptr, false));
    devices[at->second].push_back(std::move(dev));
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].fit.table = claims::DeviceTable(std::move(devices[i]));
    (void)out[i].fit.table.TakeTransitions();
  }
  return out;
}

Status ClusterStore::WritePools(const HostState& host) {
  std::vector<LedgerDevice> devices;
  for (const auto& [a, d] : host.fit.table.devices()) {
    if (d.state != DeviceState::kRemoved) devices.push_back(d);
  }
  std::vector<claims::Pool> pools = claims::BuildPools(devices, host.fit.tags);
  json rows = json::array();
  int index = 0;
  for (const claims::Pool& p : pools) {
    int free = 0;
    for (const PciAddress& a : p.devices) {
      const LedgerDevice* d = host.fit.table.Find(a);
      if (d && d->state == DeviceState::kAvailable) ++free;
    }
    rows.push_back({{"pool", index++},
                    {"pool_key", TagsJson(p.key)},
                    {"total", p.devices.size()},
                    {"free", free}});
  }
  Result<PgResult> r =
      conn_->Exec("clear pools of " + host.name,
                  "DELETE FROM host_pools WHERE host = $1", {host.name});
  if (!r.ok()) return r.status();
  r = conn_->Exec(
      "write pools of " + host.name,
      "INSERT INTO host_pools (host, pool, pool_key, total, free) SELECT $1, "
      "x.pool, x.pool_key, x.total, x.free FROM jsonb_to_recordset($2::jsonb) "
      "AS x(pool int, pool_key jsonb, total int, free int)",
      {host.name, rows.dump()});
  return r.status();
}

Status ClusterStore::ForgetRemovedFree(const std::string& host) {
  return conn_
      ->Exec("forget released removed devices of " + host,
             "DELETE FROM devices d WHERE d.host = $1 AND d.state = 'removed' "
             "AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.host = d.host "
             "AND c.address = d.address)",
             {host})
      .status();
}

Status ClusterStore::BumpGeneration(const std::string& host) {
  Result<PgResult> r = conn_->Exec(
      "bump generation of " + host,
      "UPDATE hosts SET generation = generation + 1 WHERE name = $1", {host});
  return r.status();
}

Result<PlaceOnHostOutcome> ClusterStore::PlaceOnHost(const std::string& host,
                                                     const PlaceSpec& spec) {
  PlaceOnHostOutcome out;
  Status s = conn_->Transaction([&]() -> Status {
    Result<HostState> st = LoadHostIn(host, true);
    if (!st.ok()) {
      if (st.status().code() != StatusCode::kNotFound) return st.status();
      out.refused_by = "missing";
      out.message = st.status().message();
      return Status::Ok();
    }
    if (!st->alive) {
      out.refused_by = "dead";
      out.message = "host " + host + " missed its heartbeats (last " +
                    std::to_string(static_cast<int64_t>(st->heartbeat_age_s)) +
                    " s ago, dead after " + std::to_string(dead_after_s_) +
                    " s)";
      return Status::Ok();
    }
    if (spec.aggregate &&
        std::find(st->aggregates.begin(), st->aggregates.end(),
                  *spec.aggregate) == st->aggregates.end()) {
      out.refused_by = "aggregate";
      out.message = "host " + host + " is not in aggregate " + *spec.aggregate;
      return Status::Ok();
    }
    for (const std::string& t : spec.traits) {
      if (std::find(st->traits.begin(), st->traits.end(), t) ==
          st->traits.end()) {
        out.refused_by = "traits";
        out.message = "host " + host;
        out.message += " lacks trait " + t;
        return Status::Ok();
      }
    }
    if (!spec.anti_affinity.empty()) {
      Result<PgResult> a = conn_->Exec(
          "anti-affinity on " + host,
          "SELECT instance FROM placements WHERE host = $1 AND instance = "
          "ANY(ARRAY(SELECT jsonb_array_elements_text($2::jsonb))) LIMIT 1",
          {host, JsonArray(spec.anti_affinity)});
      if (!a.ok()) return a.status();
      if (a->rows() > 0) {
        out.refused_by = "anti_affinity";
        out.message = "host " + host + " already runs " + a->Text(0, 0);
        return Status::Ok();
      }
    }
    claims::FitOptions fo = spec.fit;
    fo.instance = spec.instance;
    out.fit = claims::Fit(st->fit, spec.requests, fo);
    if (!out.fit.ok) {
      out.refused_by = "fit";
      for (const claims::RequestOutcome& r : out.fit.requests) {
        if (!r.ok) {
          out.message = "host " + host + ": request " + r.alias_name + ":" +
                        std::to_string(r.count) + " failed at step " +
                        r.failed_step + (r.message.empty() ? "" : ": ") +
                        r.message;
          break;
        }
      }
      return Status::Ok();
    }
    Result<PgResult> p = conn_->Exec(
        "insert placement " + spec.id,
        "INSERT INTO placements (id, host, instance, status, request, "
        "expires_at, scheduler) VALUES ($1, $2, $3, 'reserved', $4::jsonb, "
        "now() + make_interval(secs => $5), $6) RETURNING "
        "extract(epoch FROM created_at)::bigint, extract(epoch FROM "
        "expires_at)::bigint",
        {spec.id, host, spec.instance, spec.request_json.dump(),
         std::to_string(spec.reservation_ttl_s), spec.scheduler});
    if (!p.ok()) return p.status();
    json rows = json::array();
    out.placement.id = spec.id;
    out.placement.host = host;
    out.placement.instance = spec.instance;
    out.placement.status = "reserved";
    out.placement.created_unix = p->Int(0, 0);
    out.placement.expires_unix = p->Int(0, 1);
    out.placement.request = spec.request_json;
    for (const claims::Pick& pick : out.fit.picks) {
      rows.push_back({{"address", pick.address.ToString()},
                      {"alias", pick.alias_name},
                      {"idx", pick.request_index}});
      out.placement.devices.push_back({pick.address, pick.alias_name,
                                       static_cast<int>(pick.request_index)});
    }
    Result<PgResult> c = conn_->Exec(
        "insert claims of " + spec.id,
        "INSERT INTO claims (host, address, instance, alias_name, "
        "request_index, placement_id) SELECT $1, x.address, $2, x.alias, "
        "x.idx, $3 FROM jsonb_to_recordset($4::jsonb) AS x(address text, "
        "alias text, idx int)",
        {host, spec.instance, spec.id, rows.dump()});
    if (!c.ok()) return c.status();
    HostState after = std::move(*st);
    after.fit.table = out.fit.after;
    (void)after.fit.table.TakeTransitions();
    for (const claims::Pick& pick : out.fit.picks) {
      after.claim_placement[pick.address] = spec.id;
    }
    PCIPASS_RETURN_IF_ERROR(WritePools(after));
    PCIPASS_RETURN_IF_ERROR(BumpGeneration(host));
    after.generation += 1;
    out.host_after = std::move(after);
    std::string addrs;
    for (const auto& d : out.placement.devices) {
      if (!addrs.empty()) addrs += ",";
      addrs += d.address.ToString();
    }
    Result<PgResult> e = conn_->Exec(
        "event",
        "INSERT INTO events (host, kind, placement_id, instance, detail) "
        "VALUES ($1, 'place', $2, $3, $4)",
        {host, spec.id, spec.instance, addrs});
    if (!e.ok()) return e.status();
    out.placed = true;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<std::string>> ClusterStore::HostsOfInstances(
    const std::vector<std::string>& instances) {
  Result<PgResult> r = conn_->Exec(
      "hosts of instances",
      "SELECT DISTINCT host FROM placements WHERE instance = ANY(ARRAY("
      "SELECT jsonb_array_elements_text($1::jsonb))) ORDER BY host",
      {JsonArray(instances)});
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) out.push_back(r->Text(i, 0));
  return out;
}

namespace {

// The first seven columns both placement queries select: id, host,
// instance, status, created (epoch), expires (epoch or NULL), request.
PlacementRecord PlacementFromRow(const PgResult& r, int row) {
  PlacementRecord p;
  p.id = r.Text(row, 0);
  p.host = r.Text(row, 1);
  p.instance = r.Text(row, 2);
  p.status = r.Text(row, 3);
  p.created_unix = r.Int(row, 4);
  p.expires_unix = r.OptInt(row, 5);
  p.request = json::parse(r.Text(row, 6), nullptr, false);
  return p;
}

}  // namespace

Result<PlacementRecord> ClusterStore::GetPlacement(const std::string& id) {
  Result<PgResult> r = conn_->Exec(
      "get placement " + id,
      "SELECT id, host, instance, status, extract(epoch FROM "
      "created_at)::bigint, extract(epoch FROM expires_at)::bigint, "
      "request::text FROM placements WHERE id = $1",
      {id});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("no placement " + id);
  PlacementRecord p = PlacementFromRow(*r, 0);
  Result<PgResult> c =
      conn_->Exec("claims of placement " + id,
                  "SELECT address, alias_name, request_index FROM claims WHERE "
                  "placement_id = $1 ORDER BY address",
                  {id});
  if (!c.ok()) return c.status();
  for (int i = 0; i < c->rows(); ++i) {
    Result<PciAddress> a = PciAddress::Parse(c->Text(i, 0));
    if (!a.ok()) continue;
    p.devices.push_back({*a, c->Text(i, 1), static_cast<int>(c->Int(i, 2))});
  }
  return p;
}

Result<std::vector<PlacementRecord>> ClusterStore::ListPlacements(
    const std::optional<std::string>& host) {
  Result<PgResult> r = conn_->Exec(
      "list placements",
      "SELECT p.id, p.host, p.instance, p.status, extract(epoch FROM "
      "p.created_at)::bigint, extract(epoch FROM p.expires_at)::bigint, "
      "p.request::text, coalesce((SELECT json_agg(json_build_array("
      "c.address, c.alias_name, c.request_index) ORDER BY c.address) FROM "
      "claims c WHERE c.placement_id = p.id), '[]')::text FROM placements p "
      "WHERE $1::text IS NULL OR p.host = $1 ORDER BY p.host, p.id",
      {host});
  if (!r.ok()) return r.status();
  std::vector<PlacementRecord> out;
  for (int i = 0; i < r->rows(); ++i) {
    PlacementRecord p = PlacementFromRow(*r, i);
    // Built by the query's json_agg; still parsed without exceptions and
    // type-checked, so a surprise in the row cannot throw out of the store.
    const json devices = json::parse(r->Text(i, 7), nullptr, false);
    if (!devices.is_array()) continue;
    for (const json& c : devices) {
      if (!c.is_array() || c.size() != 3 || !c[0].is_string() ||
          !c[1].is_string() || !c[2].is_number_integer()) {
        continue;
      }
      Result<PciAddress> a = PciAddress::Parse(c[0].get<std::string>());
      if (!a.ok()) continue;
      p.devices.push_back({*a, c[1].get<std::string>(), c[2].get<int>()});
    }
    out.push_back(std::move(p));
  }
  return out;
}

Result<PlacementRecord> ClusterStore::Confirm(const std::string& id) {
  Result<PgResult> r = conn_->Exec(
      "confirm placement " + id,
      "UPDATE placements SET status = 'confirmed', confirmed_at = "
      "coalesce(confirmed_at, now()), expires_at = NULL WHERE id = $1 AND "
      "(status = 'confirmed' OR expires_at > now()) RETURNING host",
      {id});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) {
    Result<PlacementRecord> p = GetPlacement(id);
    if (p.ok()) {
      return Status::Conflict("placement " + id +
                              " expired before it was confirmed; it is "
                              "being rolled back: undo the hand-off");
    }
    return Status::NotFound("no placement " + id +
                            " (released, or expired and rolled back): undo "
                            "the hand-off");
  }
  (void)conn_->Exec("event",
                    "INSERT INTO events (host, kind, placement_id) VALUES "
                    "($1, 'confirm', $2)",
                    {r->Text(0, 0), id});
  return GetPlacement(id);
}

Status ClusterStore::Release(const std::string& id) {
  bool deleted = false;
  Status s = conn_->Transaction([&]() -> Status {
    Result<PgResult> h =
        conn_->Exec("find placement " + id,
                    "SELECT host FROM placements WHERE id = $1", {id});
    if (!h.ok()) return h.status();
    if (h->rows() == 0) return Status::Ok();
    std::string host = h->Text(0, 0);
    Result<HostState> st = LoadHostIn(host, true);  // the host lock
    if (!st.ok()) return st.status();
    Result<PgResult> d = conn_->Exec(
        "delete placement " + id,
        "DELETE FROM placements WHERE id = $1 RETURNING instance", {id});
    if (!d.ok()) return d.status();
    if (d->rows() == 0) return Status::Ok();
    deleted = true;
    PCIPASS_RETURN_IF_ERROR(ForgetRemovedFree(host));
    Result<HostState> after = LoadHostIn(host, false);
    if (!after.ok()) return after.status();
    PCIPASS_RETURN_IF_ERROR(WritePools(*after));
    PCIPASS_RETURN_IF_ERROR(BumpGeneration(host));
    return conn_
        ->Exec("event",
               "INSERT INTO events (host, kind, placement_id, "
               "instance) VALUES ($1, 'release', $2, $3)",
               {host, id, d->Text(0, 0)})
        .status();
  });
  if (!s.ok()) return s;
  if (!deleted) return Status::NotFound("no placement " + id);
  return Status::Ok();
}

Result<std::vector<std::string>> ClusterStore::SweepExpired() {
  Result<PgResult> r = conn_->Exec(
      "find expired reservations",
      "SELECT id, host FROM placements WHERE status = 'reserved' AND "
      "expires_at < now() ORDER BY expires_at LIMIT 500");
  if (!r.ok()) return r.status();
  std::vector<std::string> swept;
  for (int i = 0; i < r->rows(); ++i) {
    std::string id = r->Text(i, 0);
    std::string host = r->Text(i, 1);
    bool deleted = false;
    Status s = conn_->Transaction([&]() -> Status {
      Result<HostState> st = LoadHostIn(host, true);
      if (!st.ok()) return st.status();
      Result<PgResult> d = conn_->Exec(
          "roll back expired " + id,
          "DELETE FROM placements WHERE id = $1 AND status = 'reserved' AND "
          "expires_at < now() RETURNING instance",
          {id});
      if (!d.ok()) return d.status();
      if (d->rows() == 0) return Status::Ok();  // confirmed or gone meanwhile
      deleted = true;
      PCIPASS_RETURN_IF_ERROR(ForgetRemovedFree(host));
      Result<HostState> after = LoadHostIn(host, false);
      if (!after.ok()) return after.status();
      PCIPASS_RETURN_IF_ERROR(WritePools(*after));
      PCIPASS_RETURN_IF_ERROR(BumpGeneration(host));
      return conn_
          ->Exec("event",
                 "INSERT INTO events (host, kind, placement_id, "
                 "instance, detail) VALUES ($1, 'expire', $2, $3, "
                 "'not confirmed in time: rolled back')",
                 {host, id, d->Text(0, 0)})
          .status();
    });
    if (!s.ok()) return s;
    if (deleted) swept.push_back(id);
  }
  return swept;
}

Result<AuditReport> ClusterStore::Audit() {
  AuditReport rep;
  struct Check {
    const char* what;
    const char* sql;
  };
  const Check checks[] = {
      {"device with two claims",
       "SELECT host || ' ' || address FROM claims GROUP BY host, address "
       "HAVING count(*) > 1"},
      {"PF and its VF both claimed",
       "SELECT a.host || ' PF ' || a.address || ' VF ' || b.address FROM "
       "claims a JOIN claims b ON a.host = b.host AND b.parent_addr = "
       "a.address"},
      {"IOMMU group held by two instances",
       "SELECT host || ' group ' || iommu_group FROM claims WHERE iommu_group "
       "IS NOT NULL GROUP BY host, iommu_group HAVING count(DISTINCT "
       "instance) > 1"},
      {"claim without a device",
       "SELECT c.host || ' ' || c.address FROM claims c LEFT JOIN devices d "
       "ON d.host = c.host AND d.address = c.address WHERE d.address IS NULL"},
      {"claim not matching its placement",
       "SELECT c.host || ' ' || c.address FROM claims c JOIN placements p ON "
       "p.id = c.placement_id WHERE p.host <> c.host OR p.instance <> "
       "c.instance"},
      {"placement without claims",
       "SELECT p.id FROM placements p WHERE NOT EXISTS (SELECT 1 FROM claims "
       "c WHERE c.placement_id = p.id)"},
      {"pool summary out of date",
       "SELECT hp.host FROM host_pools hp GROUP BY hp.host HAVING "
       "sum(hp.total) "
       "<> (SELECT count(*) FROM devices d WHERE d.host = hp.host AND d.state "
       "<> 'removed')"},
  };
  for (const Check& c : checks) {
    Result<PgResult> r = conn_->Exec(std::string("audit: ") + c.what, c.sql);
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      rep.problems.push_back(std::string(c.what) + ": " + r->Text(i, 0));
    }
  }
  Result<PgResult> n = conn_->Exec("audit counts",
                                   "SELECT (SELECT count(*) FROM claims), "
                                   "(SELECT count(*) FROM placements)");
  if (!n.ok()) return n.status();
  rep.claims = n->Int(0, 0);
  rep.placements = n->Int(0, 1);
  return rep;
}

json PlacementJson(const PlacementRecord& p) {
  json devices = json::array();
  for (const auto& d : p.devices) {
    devices.push_back({{"address", d.address.ToString()},
                       {"alias", d.alias_name},
                       {"request_index", d.request_index}});
  }
  json j = {{"id", p.id},
            {"host", p.host},
            {"instance", p.instance},
            {"status", p.status},
            {"created_at", p.created_unix},
            {"devices", devices}};
  j["expires_at"] = p.expires_unix ? json(*p.expires_unix) : json(nullptr);
  if (!p.request.is_discarded() && !p.request.is_null())
    j["request"] = p.request;
  return j;
}

json HostListingJson(const HostListing& h) {
  return {{"name", h.name},
          {"state", h.alive ? "alive" : "dead"},
          {"generation", h.generation},
          {"heartbeat_age_s", h.heartbeat_age_s},
          {"agent", h.agent},
          {"devices", h.devices},
          {"claimed", h.claimed},
          {"reserved_for_host", h.reserved},
          {"placements", h.placements},
          {"aggregates", h.aggregates},
          {"traits", h.traits}};
}

}  // namespace pcipass::clusterdb
