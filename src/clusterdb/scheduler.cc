#include "clusterdb/scheduler.h"

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "claims/session.h"
#include "cluster/index.h"
#include "cluster/summary.h"
#include "clusterdb/pg.h"
#include "clusterdb/store.h"

namespace pcipass::clusterdb {

namespace {

using nlohmann::json;

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string RandomId() {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^
                                          static_cast<uint64_t>(getpid()));
  char buf[24];
  snprintf(buf, sizeof buf, "p-%016llx",
           static_cast<unsigned long long>(rng()));
  return buf;
}

// A request as the store and the index need it.
struct ParsedPlace {
  PlaceSpec spec;
  cluster::PlacementRequest index_request;
};

Result<std::vector<std::string>> StringList(const json& body, const char* key) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  const json& v = body[key];
  if (!v.is_array()) {
    return Status::InvalidArgument(std::string("field '") + key +
                                   "' must be an array of strings");
  }
  for (const json& s : v) {
    if (!s.is_string() || s.get<std::string>().empty()) {
      return Status::InvalidArgument(std::string("field '") + key +
                                     "' must be an array of non-empty strings");
    }
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<ParsedPlace> ParsePlaceBody(const json& body,
                                   const SchedulerOptions& options) {
  static const std::set<std::string> kAccepted = {
      "id",         "instance",      "request",   "aliases", "numa_policy",
      "numa_cells", "numa",          "placement", "traits",  "forbidden_traits",
      "aggregate",  "anti_affinity", "ttl_s"};
  if (!body.is_object()) {
    return Status::InvalidArgument("the body must be a JSON object");
  }
  for (const auto& [k, v] : body.items()) {
    if (!kAccepted.count(k)) {
      std::string list;
      for (const std::string& a : kAccepted) {
        list += list.empty() ? "" : ", ";
        list += a;
      }
      std::string message = "unknown field '" + k;
      message += "'; accepted: " + list;
      return Status::InvalidArgument(message);
    }
  }
  ParsedPlace p;
  p.spec.request_json = body;
  p.spec.scheduler = options.name;
  p.spec.reservation_ttl_s = options.reservation_ttl_s;
  if (body.contains("id")) {
    if (!body["id"].is_string() || body["id"].get<std::string>().empty() ||
        body["id"].get<std::string>().size() > 128) {
      return Status::InvalidArgument(
          "field 'id' must be a non-empty string of at most 128 characters "
          "(or absent: the scheduler picks one)");
    }
    p.spec.id = body["id"].get<std::string>();
  } else {
    p.spec.id = RandomId();
  }
  if (!body.contains("instance") || !body["instance"].is_string() ||
      body["instance"].get<std::string>().empty()) {
    return Status::InvalidArgument(
        "field 'instance' (the VM that will own the devices) is required: "
        "a non-empty string");
  }
  p.spec.instance = body["instance"].get<std::string>();
  std::string text;
  if (body.contains("request")) {
    if (!body["request"].is_string()) {
      return Status::InvalidArgument(
          "field 'request' must be a string in flavor syntax, e.g. "
          "\"gpu:2,nic:1\"");
    }
    text = body["request"].get<std::string>();
  }
  if (body.contains("aliases")) {
    if (!text.empty()) {
      return Status::InvalidArgument(
          "give either 'request' (\"gpu:2\") or 'aliases' ([{\"name\": "
          "\"gpu\", \"count\": 2}]), not both");
    }
    const json& a = body["aliases"];
    if (!a.is_array() || a.empty()) {
      return Status::InvalidArgument(
          "field 'aliases' must be a non-empty array of {\"name\", \"count\"}");
    }
    for (const json& item : a) {
      if (!item.is_object() || !item.contains("name") ||
          !item["name"].is_string() || !item.contains("count") ||
          !item["count"].is_number_integer()) {
        return Status::InvalidArgument(
            "each entry of 'aliases' must be {\"name\": string, \"count\": "
            "integer}, got " +
            item.dump());
      }
      if (!text.empty()) text += ",";
      text += item["name"].get<std::string>() + ":" +
              std::to_string(item["count"].get<int64_t>());
    }
  }
  if (text.empty()) {
    return Status::InvalidArgument(
        "no devices asked: give 'request' (\"gpu:2\") or 'aliases'");
  }
  NumaOverride numa;
  if (body.contains("numa_policy")) {
    if (!body["numa_policy"].is_string()) {
      return Status::InvalidArgument(
          "field 'numa_policy' must be one of required, legacy, preferred, "
          "socket");
    }
    numa.flavor = body["numa_policy"].get<std::string>();
  }
  Result<std::vector<PciRequest>> reqs =
      ParsePciRequests(text, options.aliases, numa);
  if (!reqs.ok()) {
    return Status(reqs.status().code() == StatusCode::kNotFound
                      ? StatusCode::kInvalidArgument
                      : reqs.status().code(),
                  "field 'request': " + reqs.status().message());
  }
  p.spec.requests = *reqs;
  p.index_request.requests = *reqs;
  if (body.contains("numa_cells") && body.contains("numa")) {
    return Status::InvalidArgument(
        "give either 'numa_cells' ([0, 1]) or 'numa' (\"any-cell\"), not both");
  }
  if (body.contains("numa_cells")) {
    const json& c = body["numa_cells"];
    if (!c.is_array() || c.empty()) {
      return Status::InvalidArgument(
          "field 'numa_cells' must be a non-empty array of host NUMA cell "
          "ids");
    }
    p.index_request.numa.mode = cluster::GuestNuma::Mode::kCells;
    for (const json& x : c) {
      if (!x.is_number_integer() || x.get<int>() < 0) {
        return Status::InvalidArgument(
            "field 'numa_cells' must hold non-negative integers, got " +
            x.dump());
      }
      p.index_request.numa.cells.push_back(x.get<int>());
    }
  }
  if (body.contains("numa")) {
    if (body["numa"] != "any-cell") {
      return Status::InvalidArgument(
          "field 'numa' accepts only \"any-cell\" (the guest fits in one host "
          "cell, any)");
    }
    p.index_request.numa.mode = cluster::GuestNuma::Mode::kAnyOneCell;
  }
  claims::Placement weigh = options.placement;
  if (body.contains("placement")) {
    Result<claims::Placement> w = claims::ParsePlacement(
        body["placement"].is_string() ? body["placement"].get<std::string>()
                                      : body["placement"].dump());
    if (!w.ok()) {
      return Status::InvalidArgument("field 'placement': " +
                                     w.status().message());
    }
    weigh = *w;
  }
  p.spec.fit.placement = weigh;
  p.index_request.weigher = weigh == claims::Placement::kSpread
                                ? cluster::Weigher::kSpread
                                : cluster::Weigher::kPack;
  Result<std::vector<std::string>> traits = StringList(body, "traits");
  if (!traits.ok()) return traits.status();
  p.spec.traits = *traits;
  p.index_request.required_traits = *traits;
  Result<std::vector<std::string>> forbidden =
      StringList(body, "forbidden_traits");
  if (!forbidden.ok()) return forbidden.status();
  p.index_request.forbidden_traits = *forbidden;
  if (body.contains("aggregate")) {
    if (!body["aggregate"].is_string() ||
        body["aggregate"].get<std::string>().empty()) {
      return Status::InvalidArgument(
          "field 'aggregate' must be a non-empty string");
    }
    p.spec.aggregate = body["aggregate"].get<std::string>();
    p.index_request.aggregate = p.spec.aggregate;
  }
  Result<std::vector<std::string>> anti = StringList(body, "anti_affinity");
  if (!anti.ok()) return anti.status();
  p.spec.anti_affinity = *anti;
  if (body.contains("ttl_s")) {
    if (!body["ttl_s"].is_number_integer() || body["ttl_s"].get<int>() < 1 ||
        body["ttl_s"].get<int>() > 86400) {
      return Status::InvalidArgument(
          "field 'ttl_s' must be an integer from 1 to 86400 (seconds the "
          "reservation waits for the agent's confirmation)");
    }
    p.spec.reservation_ttl_s = body["ttl_s"].get<int>();
  }
  p.index_request.max_candidates = static_cast<size_t>(options.candidates);
  return p;
}

// A pool of ClusterStores, one per concurrent request.
class StorePool {
 public:
  explicit StorePool(std::string conninfo, int dead_after_s)
      : conninfo_(std::move(conninfo)), dead_after_s_(dead_after_s) {}

  class Lease {
   public:
    Lease(StorePool* pool, std::unique_ptr<ClusterStore> s)
        : pool_(pool), store_(std::move(s)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (store_) pool_->Return(std::move(store_));
    }
    ClusterStore* operator->() { return store_.get(); }
    ClusterStore& operator*() { return *store_; }

   private:
    StorePool* pool_;
    std::unique_ptr<ClusterStore> store_;
  };

  Result<Lease> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        auto s = std::move(free_.back());
        free_.pop_back();
        return Lease(this, std::move(s));
      }
    }
    Result<std::unique_ptr<ClusterStore>> s =
        ClusterStore::Open(conninfo_, false);
    if (!s.ok()) return s.status();
    (*s)->set_dead_after_s(dead_after_s_);
    return Lease(this, std::move(*s));
  }

 private:
  void Return(std::unique_ptr<ClusterStore> s) {
    if (!s->connection().Healthy()) return;  // dropped; reopened on demand
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(s));
  }
  std::string conninfo_;
  int dead_after_s_;
  std::mutex mu_;
  std::vector<std::unique_ptr<ClusterStore>> free_;
};

json RejectedJson(const std::map<std::string, size_t>& rejected) {
  json j = json::object();
  for (const auto& [k, v] : rejected) j[k] = v;
  return j;
}

}  // namespace

ApiReply ErrorReply(const Status& s) {
  int http = 500;
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      http = 400;
      break;
    case StatusCode::kNotFound:
      http = 404;
      break;
    case StatusCode::kConflict:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      http = 409;
      break;
    case StatusCode::kUnavailable:
      http = 503;
      break;
    default:
      break;
  }
  return {http,
          {{"error",
            {{"code", std::string(StatusCodeName(s.code()))},
             {"message", s.message()}}}}};
}

struct Scheduler::Impl {
  explicit Impl(SchedulerOptions o)
      : options(std::move(o)),
        index(cluster::IndexOptions{options.dead_after_s}),
        pool(options.conninfo, options.dead_after_s) {}

  SchedulerOptions options;
  cluster::ClusterIndex index;
  StorePool pool;
  httplib::Server server;
  int port = 0;
  std::thread http_thread;
  std::thread watch_thread;
  std::thread sweep_thread;
  std::atomic<bool> stopping{false};
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopped = false;

  void Upsert(const HostState& st) {
    cluster::HostIdentity id;
    id.host = st.name;
    id.generation = st.generation;
    id.last_heartbeat_unix = st.heartbeat_unix;
    id.traits = std::set<std::string>(st.traits.begin(), st.traits.end());
    id.aggregate = st.aggregates.empty() ? "" : st.aggregates.front();
    auto inv = std::make_shared<cluster::HostInventory>();
    for (const auto& [a, d] : st.fit.table.devices()) inv->devices.push_back(d);
    inv->tags = st.fit.tags;
    inv->group_outsiders = st.fit.group_outsiders;
    inv->topology = st.fit.topology;
    cluster::HostSummary summary =
        cluster::Summarize(id, st.fit, options.aliases);
    (void)index.Upsert(std::move(summary), std::move(inv));
  }

  // Re-reads |host| into the index (removes it when gone).
  Status Reload(ClusterStore& store, const std::string& host) {
    Result<HostState> st = store.LoadHost(host);
    if (!st.ok()) {
      if (st.status().code() == StatusCode::kNotFound) {
        index.Remove(host);
        return Status::Ok();
      }
      return st.status();
    }
    Upsert(*st);
    return Status::Ok();
  }

  Status ResyncAll(ClusterStore& store) {
    Result<std::vector<HostState>> all = store.LoadAllHosts();
    if (!all.ok()) return all.status();
    std::set<std::string> seen;
    for (const HostState& st : *all) {
      seen.insert(st.name);
      Upsert(st);
    }
    Result<std::map<std::string, HostHead>> heads = store.HostHeads();
    if (heads.ok()) {
      (void)heads;  // hosts deleted meanwhile are caught by the poll
    }
    return Status::Ok();
  }

  ApiReply PlacedReply(const PlacementRecord& p, bool existing) {
    json j = PlacementJson(p);
    j["existing"] = existing;
    return {existing ? 200 : 201, j};
  }

  // One attempt; database errors are returned for the caller to retry.
  Result<ApiReply> PlaceOnce(ClusterStore& store, ParsedPlace& p) {
    Result<PlacementRecord> existing = store.GetPlacement(p.spec.id);
    if (existing.ok()) return PlacedReply(*existing, true);
    if (existing.status().code() != StatusCode::kNotFound) {
      return existing.status();
    }
    if (!p.spec.anti_affinity.empty()) {
      Result<std::vector<std::string>> hosts =
          store.HostsOfInstances(p.spec.anti_affinity);
      if (!hosts.ok()) return hosts.status();
      p.index_request.anti_affinity_hosts = *hosts;
    }
    std::vector<std::string> tried;
    // Tries |host|; a reply when placed (or the id turned out to exist).
    auto attempt =
        [&](const std::string& host,
            const std::vector<int>& cells) -> Result<std::optional<ApiReply>> {
      PlaceSpec spec = p.spec;
      if (p.index_request.numa.mode != cluster::GuestNuma::Mode::kNone) {
        spec.fit.numa_cells = cells;
      }
      Result<PlaceOnHostOutcome> out = store.PlaceOnHost(host, spec);
      if (!out.ok()) {
        if (out.status().code() != StatusCode::kConflict) return out.status();
        if (out.status().message().find("placements_pkey") !=
            std::string::npos) {
          // The same id committed meanwhile (a retry racing its original).
          Result<PlacementRecord> again = store.GetPlacement(p.spec.id);
          if (again.ok()) {
            return std::optional<ApiReply>(PlacedReply(*again, true));
          }
          return again.status();
        }
        // The database refused a claim the fit allowed (the trigger or
        // the key): our view was wrong; read the host again, go on.
        tried.push_back(host + ": " + out.status().message());
        PCIPASS_RETURN_IF_ERROR(Reload(store, host));
        return std::optional<ApiReply>();
      }
      if (out->placed) {
        Upsert(out->host_after);
        return std::optional<ApiReply>(PlacedReply(out->placement, false));
      }
      tried.push_back(host + ": " + out->message);
      PCIPASS_RETURN_IF_ERROR(Reload(store, host));  // it was stale
      return std::optional<ApiReply>();
    };
    if (index.size() == 0) PCIPASS_RETURN_IF_ERROR(ResyncAll(store));
    if (index.size() == 0) {
      return ApiReply{409,
                      {{"error",
                        {{"code", "no_valid_host"},
                         {"message",
                          "the cluster has no hosts: start pcipass cluster "
                          "agent on the compute hosts"},
                         {"hosts_total", 0}}}}};
    }
    Result<cluster::PlacementResult> first =
        index.Place(p.index_request, NowUnix());
    if (!first.ok()) return ErrorReply(first.status());
    for (const cluster::Candidate& c : first->candidates) {
      auto r = attempt(c.host, c.numa_cells);
      if (!r.ok()) return r.status();
      if (*r) return **r;
    }
    // Every candidate failed (or none): decide on one fresh snapshot.
    for (int round = 0; round < 4; ++round) {
      PCIPASS_RETURN_IF_ERROR(ResyncAll(store));
      Result<cluster::FitPlacement> fp =
          index.PlaceAndFit(p.index_request, NowUnix(), p.spec.instance);
      if (!fp.ok()) return ErrorReply(fp.status());
      if (!fp->ok) {
        json err = {
            {"code", "no_valid_host"},
            {"message",
             "no host can take " +
                 p.spec.request_json.value("request", std::string("it")) +
                 " now (checked every host in one database snapshot)"},
            {"hosts_total", fp->placement.hosts_total},
            {"rejected", RejectedJson(fp->placement.rejected)},
            {"fit_rejected", fp->fit_rejected}};
        return ApiReply{409, {{"error", err}}};
      }
      auto r = attempt(fp->host, fp->numa_cells);
      if (!r.ok()) return r.status();
      if (*r) return **r;
    }
    return ApiReply(ErrorReply(Status::Unavailable(
        "hosts that fit kept being taken by concurrent placements; retry "
        "with the same id")));
  }

  // Runs |fn| with a pooled store, retrying database outages for ~30 s.
  ApiReply WithStore(const std::function<Result<ApiReply>(ClusterStore&)>& fn) {
    Status last;
    for (int attempt = 0; attempt < 60 && !stopping.load(); ++attempt) {
      Result<StorePool::Lease> lease = pool.Acquire();
      if (lease.ok()) {
        Result<ApiReply> r = fn(**lease);
        if (r.ok()) return *r;
        last = r.status();
        if (last.code() != StatusCode::kUnavailable) return ErrorReply(last);
      } else {
        last = lease.status();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return ErrorReply(last.ok() ? Status::Unavailable("scheduler stopping")
                                : last);
  }

  void WatchLoop() {
    std::unique_ptr<PgConnection> listen;
    std::unique_ptr<ClusterStore> store;
    int64_t last_poll = 0;
    int64_t last_resync = NowMs();
    while (!stopping.load()) {
      if (!listen || !listen->Healthy() || !store ||
          !store->connection().Healthy()) {
        listen.reset();
        store.reset();
        auto l = PgConnection::Open(options.conninfo);
        auto s = ClusterStore::Open(options.conninfo, false);
        if (!l.ok() || !s.ok() || !(*l)->Listen("pcipass_hosts").ok()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          continue;
        }
        listen = std::move(*l);
        store = std::move(*s);
        store->set_dead_after_s(options.dead_after_s);
        // Notifications sent while we were away are lost: reload all.
        if (!ResyncAll(*store).ok()) continue;
      }
      Result<std::vector<PgNotice>> notes = listen->WaitNotices(200);
      if (!notes.ok()) continue;
      std::set<std::string> reload;
      for (const PgNotice& n : *notes) {
        size_t sp = n.payload.rfind(' ');
        if (sp == std::string::npos) continue;
        std::string host = n.payload.substr(0, sp);
        std::string gen = n.payload.substr(sp + 1);
        if (gen == "deleted") {
          index.Remove(host);
          continue;
        }
        std::optional<cluster::HostSummary> have = index.Find(host);
        if (!have || have->generation < std::atoll(gen.c_str())) {
          reload.insert(host);
        }
      }
      for (const std::string& h : reload) (void)Reload(*store, h);
      int64_t now = NowMs();
      if (now - last_resync >= options.resync_interval_ms) {
        (void)ResyncAll(*store);
        last_resync = now;
      }
      if (now - last_poll >= options.poll_interval_ms) {
        last_poll = now;
        Result<std::map<std::string, HostHead>> heads = store->HostHeads();
        if (!heads.ok()) continue;
        for (const auto& [name, head] : *heads) {
          std::optional<cluster::HostSummary> have = index.Find(name);
          if (!have || have->generation < head.generation) {
            (void)Reload(*store, name);
          } else {
            (void)index.Heartbeat(name, head.heartbeat_unix);
          }
        }
        (void)index.ExpireHeartbeats(NowUnix());
      }
    }
  }

  void SweepLoop() {
    std::unique_ptr<ClusterStore> store;
    while (!stopping.load()) {
      std::unique_lock<std::mutex> lock(stop_mu);
      stop_cv.wait_for(lock,
                       std::chrono::milliseconds(options.sweep_interval_ms),
                       [&] { return stopping.load(); });
      lock.unlock();
      if (stopping.load()) break;
      if (!store || !store->connection().Healthy()) {
        auto s = ClusterStore::Open(options.conninfo, false);
        if (!s.ok()) continue;
        store = std::move(*s);
      }
      (void)store->SweepExpired();
    }
  }
};

Scheduler::Scheduler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Scheduler::~Scheduler() { Stop(); }

int Scheduler::port() const { return impl_->port; }

Result<std::unique_ptr<Scheduler>> Scheduler::Start(SchedulerOptions options) {
  if (options.name.empty()) {
    options.name = "scheduler-" + std::to_string(getpid());
  }
  if (options.aliases.empty()) {
    return Status::InvalidArgument(
        "pcipass-scheduler: the config defines no [pci] alias: requests name "
        "aliases, so at least one is needed");
  }
  // Migrate once, before anything else uses the schema.
  Result<std::unique_ptr<ClusterStore>> first =
      ClusterStore::Open(options.conninfo, true);
  if (!first.ok()) return first.status();
  (*first)->set_dead_after_s(options.dead_after_s);
  auto impl = std::make_unique<Impl>(std::move(options));
  PCIPASS_RETURN_IF_ERROR(impl->ResyncAll(**first));
  std::unique_ptr<Scheduler> s(new Scheduler(std::move(impl)));
  Impl* im = s->impl_.get();
  Scheduler* self = s.get();
  int threads = im->options.http_threads;
  im->server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  auto send = [](httplib::Response& res, const ApiReply& r) {
    res.status = r.status;
    if (r.status != 204) res.set_content(r.body.dump(), "application/json");
  };
  im->server.Post("/v1/placements", [self, send](const httplib::Request& req,
                                                 httplib::Response& res) {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
      send(res,
           ErrorReply(Status::InvalidArgument("the body is not valid JSON")));
      return;
    }
    send(res, self->Place(body));
  });
  im->server.Get("/v1/placements", [self, send](const httplib::Request& req,
                                                httplib::Response& res) {
    send(res, self->ListPlacements(req.get_param_value("host")));
  });
  im->server.Get(
      R"(/v1/placements/([^/]+))",
      [self, send](const httplib::Request& req, httplib::Response& res) {
        send(res, self->GetPlacement(req.matches[1]));
      });
  im->server.Post(
      R"(/v1/placements/([^/]+)/confirm)",
      [self, send](const httplib::Request& req, httplib::Response& res) {
        send(res, self->Confirm(req.matches[1]));
      });
  im->server.Delete(
      R"(/v1/placements/([^/]+))",
      [self, send](const httplib::Request& req, httplib::Response& res) {
        send(res, self->Release(req.matches[1]));
      });
  im->server.Get("/v1/hosts",
                 [self, send](const httplib::Request&, httplib::Response& res) {
                   send(res, self->Hosts());
                 });
  im->server.Get("/v1/explain", [self, send](const httplib::Request& req,
                                             httplib::Response& res) {
    json body = json::object();
    body["instance"] = "(explain)";
    for (const auto& [k, v] : req.params) {
      if (k == "host") continue;
      if (k == "numa_cells" || k == "traits" || k == "forbidden_traits" ||
          k == "anti_affinity") {
        json list = json::array();
        std::string item;
        for (char c : v + ",") {
          if (c != ',') {
            item += c;
          } else if (!item.empty()) {
            if (k == "numa_cells") {
              list.push_back(std::atoi(item.c_str()));
            } else {
              list.push_back(item);
            }
            item.clear();
          }
        }
        body[k] = list;
      } else {
        body[k] = v;
      }
    }
    if (!req.has_param("host")) {
      send(res, ErrorReply(Status::InvalidArgument(
                    "explain needs ?host=NAME (and the request: "
                    "&request=gpu:2)")));
      return;
    }
    send(res, self->Explain(req.get_param_value("host"), body));
  });
  im->server.Get("/v1/health",
                 [im](const httplib::Request&, httplib::Response& res) {
                   json j = {{"ok", true},
                             {"scheduler", im->options.name},
                             {"hosts_indexed", im->index.size()}};
                   res.set_content(j.dump(), "application/json");
                 });
  if (im->options.listen_port == 0) {
    im->port = im->server.bind_to_any_port(im->options.listen_host);
  } else {
    im->port = im->server.bind_to_port(im->options.listen_host,
                                       im->options.listen_port)
                   ? im->options.listen_port
                   : -1;
  }
  if (im->port <= 0) {
    return Status::Unavailable("pcipass-scheduler: cannot listen on " +
                               im->options.listen_host + ":" +
                               std::to_string(im->options.listen_port) +
                               " (in use? set [cluster] listen or --listen)");
  }
  im->http_thread = std::thread([im] { im->server.listen_after_bind(); });
  im->watch_thread = std::thread([im] { im->WatchLoop(); });
  im->sweep_thread = std::thread([im] { im->SweepLoop(); });
  return s;
}

void Scheduler::Stop() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->stop_mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  impl_->server.stop();
  if (impl_->http_thread.joinable()) impl_->http_thread.join();
  if (impl_->watch_thread.joinable()) impl_->watch_thread.join();
  if (impl_->sweep_thread.joinable()) impl_->sweep_thread.join();
}

void Scheduler::Wait() {
  std::unique_lock<std::mutex> lock(impl_->stop_mu);
  impl_->stop_cv.wait(lock, [&] { return impl_->stopped; });
}

ApiReply Scheduler::Place(const json& body) {
  Result<ParsedPlace> parsed = ParsePlaceBody(body, impl_->options);
  if (!parsed.ok()) return ErrorReply(parsed.status());
  return impl_->WithStore(
      [&](ClusterStore& store) { return impl_->PlaceOnce(store, *parsed); });
}

ApiReply Scheduler::GetPlacement(const std::string& id) {
  return impl_->WithStore([&](ClusterStore& store) -> Result<ApiReply> {
    Result<PlacementRecord> p = store.GetPlacement(id);
    if (!p.ok()) {
      return p.status().code() == StatusCode::kUnavailable
                 ? Result<ApiReply>(p.status())
                 : Result<ApiReply>(ErrorReply(p.status()));
    }
    return ApiReply{200, PlacementJson(*p)};
  });
}

ApiReply Scheduler::ListPlacements(const std::string& host) {
  return impl_->WithStore([&](ClusterStore& store) -> Result<ApiReply> {
    Result<std::vector<PlacementRecord>> ps = store.ListPlacements(
        host.empty() ? std::nullopt : std::optional<std::string>(host));
    if (!ps.ok()) return ps.status();
    json arr = json::array();
    for (const PlacementRecord& p : *ps) arr.push_back(PlacementJson(p));
    return ApiReply{200, {{"placements", arr}}};
  });
}

ApiReply Scheduler::Confirm(const std::string& id) {
  return impl_->WithStore([&](ClusterStore& store) -> Result<ApiReply> {
    Result<PlacementRecord> p = store.Confirm(id);
    if (!p.ok()) {
      return p.status().code() == StatusCode::kUnavailable
                 ? Result<ApiReply>(p.status())
                 : Result<ApiReply>(ErrorReply(p.status()));
    }
    return ApiReply{200, PlacementJson(*p)};
  });
}

ApiReply Scheduler::Release(const std::string& id) {
  return impl_->WithStore([&](ClusterStore& store) -> Result<ApiReply> {
    Status s = store.Release(id);
    if (s.code() == StatusCode::kUnavailable) return s;
    if (!s.ok()) return ErrorReply(s);
    return ApiReply{204, json()};
  });
}

ApiReply Scheduler::Hosts() {
  return impl_->WithStore([&](ClusterStore& store) -> Result<ApiReply> {
    Result<std::vector<HostListing>> hs = store.ListHosts();
    if (!hs.ok()) return hs.status();
    json arr = json::array();
    for (const HostListing& h : *hs) arr.push_back(HostListingJson(h));
    return ApiReply{
        200, {{"hosts", arr}, {"dead_after_s", impl_->options.dead_after_s}}};
  });
}

ApiReply Scheduler::Explain(const std::string& host, const json& request) {
  Result<ParsedPlace> parsed = ParsePlaceBody(request, impl_->options);
  if (!parsed.ok()) return ErrorReply(parsed.status());
  return impl_->WithStore([&](ClusterStore& store) -> Result<ApiReply> {
    PCIPASS_RETURN_IF_ERROR(impl_->Reload(store, host));  // fresh
    if (!parsed->spec.anti_affinity.empty()) {
      Result<std::vector<std::string>> hosts =
          store.HostsOfInstances(parsed->spec.anti_affinity);
      if (!hosts.ok()) return hosts.status();
      parsed->index_request.anti_affinity_hosts = *hosts;
    }
    Result<cluster::Explanation> e =
        impl_->index.Explain(parsed->index_request, host, NowUnix());
    if (!e.ok()) return ErrorReply(e.status());
    json filters = json::array();
    for (const cluster::FilterVerdict& f : e->filters) {
      filters.push_back(
          {{"filter", f.filter}, {"passed", f.passed}, {"detail", f.detail}});
    }
    json j = {{"host", e->host},
              {"passes", e->passes},
              {"failed_filter", e->failed_filter},
              {"message", e->message},
              {"filters", filters}};
    if (e->fit) j["fit"] = claims::FitJson(*e->fit, parsed->spec.fit);
    return ApiReply{200, j};
  });
}

}  // namespace pcipass::clusterdb
