#include "claims/session.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "binding/handoff.h"
#include "core/discovery.h"
#include "core/lock_wait.h"
#include "select/allowlist.h"

namespace pcipass::claims {
namespace {

using json = nlohmann::json;

json AddrJson(const std::optional<PciAddress>& a) {
  return a ? json(a->ToString()) : json(nullptr);
}

json TagsJson(const TagMap& tags) {
  json j = json::object();
  for (const auto& [k, v] : tags) j[k] = v ? json(*v) : json(nullptr);
  return j;
}

json OptJson(const std::optional<std::string>& v) {
  return v ? json(*v) : json(nullptr);
}

std::string Hex4(std::optional<uint16_t> v) {
  if (!v) return "";
  char buf[8];
  snprintf(buf, sizeof buf, "%04x", *v);
  return buf;
}

}  // namespace

std::string LedgerPath(const std::string& state_dir) {
  return (std::filesystem::path(state_dir) / "ledger.sqlite").string();
}

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Session> OpenSession(const SessionOptions& options) {
  Session s;
  s.host = options.host;
  s.state_dir = options.state_dir;
  if (!options.config_path.empty()) {
    ConfigLoad load = LoadConfig(options.config_path, options.host);
    if (load.not_found) return load.errors.front();
    if (!load.ok()) {
      std::string msg = "invalid config " + options.config_path + ":";
      for (const Status& e : load.errors) msg += "\n  " + e.message();
      return Status::FailedPrecondition(msg);
    }
    s.config = std::move(load.config);
    Result<ClaimsSettings> settings = ReadClaimsSettings(s.config.ini);
    if (!settings.ok()) {
      return Status::FailedPrecondition("invalid config " +
                                        options.config_path + ": " +
                                        settings.status().message());
    }
    s.settings = *settings;
    if (s.settings.lock_timeout_seconds &&
        !CurrentLockWaitPolicy().timeout_from_flag) {
      SetLockTimeoutSeconds(*s.settings.lock_timeout_seconds);
    }
  }
  if (options.recover_handoff) {
    Status r =
        RecoverUnfinishedHandOff(options.host, options.state_dir, &s.notes);
    if (!r.ok()) return r;
  }
  DiscoveryOptions dopts;
  dopts.pci_ids_path = options.pci_ids;
  dopts.lookup_names = false;  // claims need ids, not names
  Result<Inventory> inv = Discover(options.host, dopts);
  if (!inv.ok()) return inv.status();
  s.inventory = std::move(*inv);
  s.snapshot = SnapshotHost(s.inventory, s.config.device_specs,
                            SysfsVpdSerial(options.host),
                            ReadNumaTopology(options.host));
  std::string path = LedgerPath(options.state_dir);
  std::error_code ec;
  if (options.create_ledger || std::filesystem::exists(path, ec)) {
    Result<std::unique_ptr<Ledger>> l = Ledger::OpenSqlite(path);
    if (!l.ok()) return l.status();
    s.ledger = std::move(*l);
  }
  return s;
}

Result<HostSnapshot> RescanHost(const Session& session,
                                const std::string& pci_ids) {
  DiscoveryOptions dopts;
  dopts.pci_ids_path = pci_ids;
  dopts.lookup_names = false;
  Result<Inventory> inv = Discover(session.host, dopts);
  if (!inv.ok()) return inv.status();
  return SnapshotHost(*inv, session.config.device_specs,
                      SysfsVpdSerial(session.host),
                      ReadNumaTopology(session.host));
}

Result<int64_t> ParseTime(std::string_view text, int64_t now) {
  auto bad = [&]() {
    return Status::InvalidArgument(
        "time '" + std::string(text) +
        "' is not accepted; use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ (UTC), "
        "@<unix seconds>, now, or a duration ago such as 90m, 24h, 7d");
  };
  if (text == "now") return now;
  auto digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == s.npos &&
           s.size() <= 12;
  };
  if (!text.empty() && text[0] == '@') {
    std::string_view n = text.substr(1);
    if (!digits(n)) return bad();
    return static_cast<int64_t>(std::stoll(std::string(n)));
  }
  if (text.size() >= 2) {
    char unit = text.back();
    std::string_view n = text.substr(0, text.size() - 1);
    int64_t mult = unit == 'm'   ? 60
                   : unit == 'h' ? 3600
                   : unit == 'd' ? 86400
                                 : 0;
    if (mult && digits(n)) return now - std::stoll(std::string(n)) * mult;
  }
  std::tm tm{};
  std::string t(text);
  const char* end = nullptr;
  if (t.size() == 10) {
    end = strptime(t.c_str(), "%Y-%m-%d", &tm);
  } else if (t.size() == 20 && t.back() == 'Z') {
    end = strptime(t.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  if (!end || *end != '\0') return bad();
  return static_cast<int64_t>(timegm(&tm));
}

std::string FormatTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json FitJson(const FitResult& fit, const FitOptions& options) {
  json reqs = json::array();
  for (const RequestOutcome& r : fit.requests) {
    json steps = json::array();
    for (const FitStep& st : r.steps) {
      steps.push_back({{"name", st.name},
                       {"before", st.before},
                       {"after", st.after},
                       {"dropped_total", st.dropped_total},
                       {"dropped", st.dropped}});
    }
    json chosen = json::array();
    for (const PciAddress& a : r.chosen) chosen.push_back(a.ToString());
    reqs.push_back(
        {{"index", r.index},
         {"alias", r.alias_name},
         {"count", r.count},
         {"numa_policy", std::string(NumaPolicyName(r.numa_policy))},
         {"ok", r.ok},
         {"failed_step",
          r.failed_step.empty() ? json(nullptr) : json(r.failed_step)},
         {"message", r.message.empty() ? json(nullptr) : json(r.message)},
         {"numa_note", r.numa_note.empty() ? json(nullptr) : json(r.numa_note)},
         {"steps", steps},
         {"devices", chosen}});
  }
  json devs = json::array();
  for (const Pick& p : fit.picks) {
    devs.push_back(
        {{"address", p.address.ToString()},
         {"alias", p.alias_name},
         {"request_index", p.request_index},
         {"dev_type", std::string(DeviceTypeName(p.dev_type))},
         {"parent_addr", AddrJson(p.parent_addr)},
         {"numa_node", p.numa_node ? json(*p.numa_node) : json(nullptr)},
         {"tags", TagsJson(p.tags)}});
  }
  return {{"fits", fit.ok},
          {"numa_cells", options.numa_cells},
          {"placement", std::string(PlacementName(options.placement))},
          {"requests", reqs},
          {"devices", devs}};
}

json ClaimJson(const ClaimRecord& c) {
  return {{"instance", c.instance},
          {"address", c.address.ToString()},
          {"alias", c.alias_name},
          {"request_id", c.request_id},
          {"dev_type", std::string(DeviceTypeName(c.dev_type))},
          {"parent_addr", AddrJson(c.parent_addr)},
          {"tags", TagsJson(c.tags)},
          {"claimed_at", FormatTime(c.claimed_at_unix)},
          {"state", c.state}};
}

json DeviceStateJson(const LedgerDevice& d) {
  std::string v = Hex4(d.vendor_id), p = Hex4(d.product_id);
  return {{"address", d.address.ToString()},
          {"vendor_id", v.empty() ? json(nullptr) : json(v)},
          {"product_id", p.empty() ? json(nullptr) : json(p)},
          {"dev_type", std::string(DeviceTypeName(d.dev_type))},
          {"parent_addr", AddrJson(d.parent_addr)},
          {"numa_node", d.numa_node ? json(*d.numa_node) : json(nullptr)},
          {"iommu_group", d.iommu_group ? json(*d.iommu_group) : json(nullptr)},
          {"state", std::string(DeviceStateName(d.state))},
          {"owner", OptJson(d.owner)},
          {"reason", d.reason.empty() ? json(nullptr) : json(d.reason)}};
}

json DriftJson(const ReconcileReport& r) {
  json arr = json::array();
  for (const DriftItem& d : r.drift) {
    arr.push_back({{"address", d.address.ToString()},
                   {"kind", d.kind},
                   {"detail", d.detail}});
  }
  return arr;
}

json EventJson(const Event& e) {
  return {{"id", e.id},
          {"at", FormatTime(e.at_unix)},
          {"who", e.who},
          {"kind", e.kind},
          {"instance", OptJson(e.instance)},
          {"address", AddrJson(e.address)},
          {"alias", OptJson(e.alias_name)},
          {"from_state", OptJson(e.from_state)},
          {"to_state", OptJson(e.to_state)},
          {"why", e.why}};
}

json UsageJson(const UsageReport& u) {
  auto rows = [](const std::vector<UsageRow>& v, const char* key) {
    json arr = json::array();
    for (const UsageRow& r : v) {
      arr.push_back({{key, r.key},
                     {"device_hours", r.device_hours},
                     {"devices", r.devices}});
    }
    return arr;
  };
  return {{"since", FormatTime(u.since_unix)},
          {"until", FormatTime(u.until_unix)},
          {"by_instance", rows(u.by_instance, "instance")},
          {"by_alias", rows(u.by_alias, "alias")}};
}

}  // namespace pcipass::claims
