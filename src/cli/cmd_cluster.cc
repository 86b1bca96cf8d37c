// pcipass cluster hosts|claims|place|release|confirm|explain|agent|migrate
//
// The cluster client and the agent role:
//   hosts, claims, migrate   read/write the cluster database directly
//                            (--db CONNINFO or [cluster] db);
//   place, release, confirm, explain   talk to a pcipass-scheduler over
//                            REST (--scheduler URL, default
//                            http://<[cluster] listen>), because placement
//                            needs the scheduler's index;
//   agent                    registers this host (--root, --config: the
//                            [pci] rules), pushes its inventory, heartbeats
//                            and completes the placements reserved on it
//                            (hand-off to vfio-pci, then confirm). --once:
//                            one round, printed.
// Exit 0 on success, 1 when refused (no valid host, not found), 2 on
// usage or connection errors.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "binding/handoff.h"
#include "claims/numa.h"
#include "claims/session.h"
#include "cli/cmd_claims_common.h"
#include "cli/commands.h"
#include "clusterdb/agent.h"
#include "clusterdb/schema.h"
#include "clusterdb/settings.h"
#include "clusterdb/store.h"
#include "service/claims_ops.h"

namespace pcipass::cli {

namespace {

using nlohmann::json;

struct ClusterOpts {
  std::string db;
  std::string scheduler;
  std::string host;
  int dead_after = 0;
};

std::atomic<bool> g_agent_stop{false};

// [cluster] of the config (if any), with flags on top.
Result<clusterdb::ClusterSettings> Settings(CommandContext& ctx,
                                            const ClusterOpts& o) {
  clusterdb::ClusterSettings s;
  std::string path = ctx.ConfigPath();
  if (!path.empty()) {
    Result<IniFile> ini = IniFile::Load(path);
    if (!ini.ok()) return ini.status();
    Result<clusterdb::ClusterSettings> r = clusterdb::ReadClusterSettings(*ini);
    if (!r.ok()) return r.status();
    s = *r;
  }
  if (!o.db.empty()) s.db = o.db;
  if (!o.host.empty()) s.host = o.host;
  if (o.dead_after > 0) s.dead_after_s = o.dead_after;
  return s;
}

Result<std::unique_ptr<clusterdb::ClusterStore>> OpenDb(
    const clusterdb::ClusterSettings& s, bool migrate) {
  if (s.db.empty()) {
    return Status::InvalidArgument(
        "no cluster database: pass --db CONNINFO (e.g. \"host=db1 "
        "dbname=pcipass user=pcipass\") or set [cluster] db in the config");
  }
  auto store = clusterdb::ClusterStore::Open(s.db, migrate);
  if (!store.ok()) return store.status();
  (*store)->set_dead_after_s(s.dead_after_s);
  return store;
}

std::string SchedulerUrl(const clusterdb::ClusterSettings& s,
                         const ClusterOpts& o) {
  if (!o.scheduler.empty()) return o.scheduler;
  return "http://" + s.listen_host + ":" + std::to_string(s.listen_port);
}

// One REST call; the reply's JSON (or null) and HTTP status.
Result<std::pair<int, json>> Call(const std::string& url,
                                  const std::string& method,
                                  const std::string& path,
                                  const json& body = nullptr) {
  httplib::Client cli(url);
  if (!cli.is_valid()) {
    return Status::InvalidArgument("--scheduler '" + url +
                                   "' is not a URL like http://127.0.0.1:8470");
  }
  cli.set_connection_timeout(5);
  cli.set_read_timeout(60);
  httplib::Result r(nullptr, httplib::Error::Unknown);
  if (method == "GET") {
    r = cli.Get(path);
  } else if (method == "POST") {
    r = cli.Post(path, body.is_null() ? "" : body.dump(), "application/json");
  } else {
    r = cli.Delete(path);
  }
  if (!r) {
    return Status::Unavailable("cannot reach pcipass-scheduler at " + url +
                               ": " + httplib::to_string(r.error()));
  }
  json j = r->body.empty() ? json() : json::parse(r->body, nullptr, false);
  return std::make_pair(r->status, j);
}

int PrintReply(CommandContext& ctx, const std::pair<int, json>& reply) {
  const json& j = reply.second;
  ctx.out() << j.dump(2) << "\n";
  if (reply.first >= 200 && reply.first < 300) return kExitOk;
  if (reply.first == 409 || reply.first == 404) return kExitRefused;
  return kExitUsage;
}

}  // namespace

RunFn SetupClusterCommand(CLI::App& sub) {
  auto o = std::make_shared<ClusterOpts>();
  sub.require_subcommand(1);
  sub.add_option("--db", o->db,
                 "cluster database, libpq conninfo (default: [cluster] db)");
  sub.add_option("--scheduler", o->scheduler,
                 "pcipass-scheduler URL (default: http://[cluster] listen)");
  auto chosen = std::make_shared<std::function<int(CommandContext&)>>();

  CLI::App* hosts = sub.add_subcommand(
      "hosts",
      "every host: alive or dead (missed heartbeats), devices, claims");
  hosts->add_option("--dead-after", o->dead_after,
                    "seconds without heartbeat = dead (default [cluster] "
                    "dead_after, 30)");
  hosts->callback([chosen, o] {
    *chosen = [o](CommandContext& ctx) -> int {
      auto fail = [&](const Status& s) {
        return ReportError(s, ctx.json(), ctx.out(), ctx.err());
      };
      auto s = Settings(ctx, *o);
      if (!s.ok()) return fail(s.status());
      auto store = OpenDb(*s, false);
      if (!store.ok()) return fail(store.status());
      auto list = (*store)->ListHosts();
      if (!list.ok()) return fail(list.status());
      if (ctx.json()) {
        json arr = json::array();
        for (const auto& h : *list)
          arr.push_back(clusterdb::HostListingJson(h));
        ctx.out()
            << json{{"hosts", arr}, {"dead_after_s", s->dead_after_s}}.dump(2)
            << "\n";
        return kExitOk;
      }
      ctx.out() << std::left << std::setw(20) << "HOST" << std::setw(7)
                << "STATE" << std::setw(11) << "HEARTBEAT" << std::setw(9)
                << "DEVICES" << std::setw(9) << "CLAIMED"
                << "PLACEMENTS\n";
      for (const auto& h : *list) {
        ctx.out() << std::left << std::setw(20) << h.name << std::setw(7)
                  << (h.alive ? "alive" : "DEAD") << std::setw(11)
                  << (std::to_string(static_cast<int64_t>(h.heartbeat_age_s)) +
                      "s ago")
                  << std::setw(9) << h.devices << std::setw(9) << h.claimed
                  << h.placements << "\n";
      }
      return kExitOk;
    };
  });

  auto host_filter = std::make_shared<std::string>();
  CLI::App* claims_cmd =
      sub.add_subcommand("claims", "every placement and its devices");
  claims_cmd->add_option("--host", *host_filter, "only this host's");
  claims_cmd->callback([chosen, o, host_filter] {
    *chosen = [o, host_filter](CommandContext& ctx) -> int {
      auto fail = [&](const Status& s) {
        return ReportError(s, ctx.json(), ctx.out(), ctx.err());
      };
      auto s = Settings(ctx, *o);
      if (!s.ok()) return fail(s.status());
      auto store = OpenDb(*s, false);
      if (!store.ok()) return fail(store.status());
      auto ps = (*store)->ListPlacements(
          host_filter->empty() ? std::nullopt
                               : std::optional<std::string>(*host_filter));
      if (!ps.ok()) return fail(ps.status());
      if (ctx.json()) {
        json arr = json::array();
        for (const auto& p : *ps) arr.push_back(clusterdb::PlacementJson(p));
        ctx.out() << json{{"placements", arr}}.dump(2) << "\n";
        return kExitOk;
      }
      for (const auto& p : *ps) {
        ctx.out() << p.id << " " << p.host << " " << p.instance << " "
                  << p.status << ":";
        for (const auto& d : p.devices) {
          ctx.out() << " " << d.address.ToString() << "(" << d.alias_name
                    << ")";
        }
        ctx.out() << "\n";
      }
      return kExitOk;
    };
  });

  CLI::App* migrate =
      sub.add_subcommand("migrate", "create/upgrade the cluster schema");
  migrate->callback([chosen, o] {
    *chosen = [o](CommandContext& ctx) -> int {
      auto fail = [&](const Status& s) {
        return ReportError(s, ctx.json(), ctx.out(), ctx.err());
      };
      auto s = Settings(ctx, *o);
      if (!s.ok()) return fail(s.status());
      if (s->db.empty()) return fail(OpenDb(*s, false).status());
      auto conn = clusterdb::PgConnection::Open(s->db);
      if (!conn.ok()) return fail(conn.status());
      auto applied = clusterdb::Migrate(**conn);
      if (!applied.ok()) return fail(applied.status());
      ctx.out() << json{{"applied", *applied},
                        {"version", clusterdb::LatestSchemaVersion()}}
                       .dump()
                << "\n";
      return kExitOk;
    };
  });

  struct PlaceOpts {
    std::string request, instance, id, numa_policy, numa_cells, aggregate,
        traits, anti, placement;
    int ttl = 0;
  };
  auto po = std::make_shared<PlaceOpts>();
  CLI::App* place = sub.add_subcommand(
      "place",
      "ask the scheduler for a host and devices (reserved until the "
      "agent confirms)");
  place->add_option("REQUEST", po->request, "alias request, e.g. gpu:2,nic:1")
      ->required();
  place->add_option("--instance", po->instance, "the VM that will own them")
      ->required();
  place->add_option("--id", po->id, "placement id (idempotent retries)");
  place->add_option("--numa-policy", po->numa_policy,
                    "required|legacy|preferred|socket");
  place->add_option("--numa-cells", po->numa_cells, "guest's host cells: 0,1");
  place->add_option("--aggregate", po->aggregate, "host aggregate");
  place->add_option("--traits", po->traits, "required host traits: A,B");
  place->add_option("--anti-affinity", po->anti,
                    "instances not to share a host with: vm-1,vm-2");
  place->add_option("--placement", po->placement, "pack|spread");
  place->add_option("--ttl", po->ttl, "seconds to wait for confirmation");
  place->callback([chosen, o, po] {
    *chosen = [o, po](CommandContext& ctx) -> int {
      auto fail = [&](const Status& s) {
        return ReportError(s, ctx.json(), ctx.out(), ctx.err());
      };
      auto s = Settings(ctx, *o);
      if (!s.ok()) return fail(s.status());
      auto list = [](const std::string& text) {
        json a = json::array();
        std::string item;
        for (char c : text + ",") {
          if (c != ',') {
            item += c;
          } else if (!item.empty()) {
            a.push_back(item);
            item.clear();
          }
        }
        return a;
      };
      json body = {{"request", po->request}, {"instance", po->instance}};
      if (!po->id.empty()) body["id"] = po->id;
      if (!po->numa_policy.empty()) body["numa_policy"] = po->numa_policy;
      if (!po->numa_cells.empty()) {
        // The same rule as fit --numa-cells (atoi made "x" cell 0).
        auto cells = claims::ParseNumaCells(po->numa_cells);
        if (!cells.ok()) {
          ctx.err() << "pcipass cluster place: " << cells.status().message()
                    << "\n";
          return kExitUsage;
        }
        body["numa_cells"] = *cells;
      }
      if (!po->aggregate.empty()) body["aggregate"] = po->aggregate;
      if (!po->traits.empty()) body["traits"] = list(po->traits);
      if (!po->anti.empty()) body["anti_affinity"] = list(po->anti);
      if (!po->placement.empty()) body["placement"] = po->placement;
      if (po->ttl > 0) body["ttl_s"] = po->ttl;
      auto r = Call(SchedulerUrl(*s, *o), "POST", "/v1/placements", body);
      if (!r.ok()) return fail(r.status());
      return PrintReply(ctx, *r);
    };
  });

  auto pid = std::make_shared<std::string>();
  for (const char* verb : {"release", "confirm"}) {
    CLI::App* c = sub.add_subcommand(
        verb, std::string(verb) == "release"
                  ? "release a placement (its devices go back to the pool)"
                  : "confirm a placement (the agent does this after the "
                    "hand-off)");
    c->add_option("ID", *pid, "placement id")->required();
    std::string v = verb;
    c->callback([chosen, o, pid, v] {
      *chosen = [o, pid, v](CommandContext& ctx) -> int {
        auto fail = [&](const Status& s) {
          return ReportError(s, ctx.json(), ctx.out(), ctx.err());
        };
        auto s = Settings(ctx, *o);
        if (!s.ok()) return fail(s.status());
        auto r = v == "release" ? Call(SchedulerUrl(*s, *o), "DELETE",
                                       "/v1/placements/" + *pid)
                                : Call(SchedulerUrl(*s, *o), "POST",
                                       "/v1/placements/" + *pid + "/confirm");
        if (!r.ok()) return fail(r.status());
        if (r->first == 204) {
          ctx.out() << json{{"released", *pid}}.dump() << "\n";
          return kExitOk;
        }
        return PrintReply(ctx, *r);
      };
    });
  }

  auto ex = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* explain =
      sub.add_subcommand("explain", "why a host can or cannot take a request");
  explain->add_option("HOST", ex->first, "host name")->required();
  explain->add_option("REQUEST", ex->second, "alias request, e.g. gpu:2")
      ->required();
  explain->callback([chosen, o, ex] {
    *chosen = [o, ex](CommandContext& ctx) -> int {
      auto fail = [&](const Status& s) {
        return ReportError(s, ctx.json(), ctx.out(), ctx.err());
      };
      auto s = Settings(ctx, *o);
      if (!s.ok()) return fail(s.status());
      auto r = Call(
          SchedulerUrl(*s, *o), "GET",
          "/v1/explain?host=" + httplib::detail::encode_query_param(ex->first) +
              "&request=" + httplib::detail::encode_query_param(ex->second));
      if (!r.ok()) return fail(r.status());
      return PrintReply(ctx, *r);
    };
  });

  struct AgentOpts {
    bool once = false;
    bool no_detach = false;
    int heartbeat = 0;
  };
  auto ao = std::make_shared<AgentOpts>();
  CLI::App* agent = sub.add_subcommand(
      "agent",
      "run this host's cluster agent (register, inventory, heartbeat, "
      "confirm placements)");
  agent->add_option("--host", o->host,
                    "host name (default [cluster] host, "
                    "else the hostname)");
  agent->add_flag("--once", ao->once, "one round, print what it did, exit");
  agent->add_flag("--no-detach", ao->no_detach,
                  "confirm without handing devices to vfio-pci (libvirt "
                  "managed devices, fixture roots)");
  agent->add_option("--heartbeat", ao->heartbeat,
                    "seconds between heartbeats (default [cluster] "
                    "heartbeat_interval)");
  agent->callback([chosen, o, ao] {
    *chosen = [o, ao](CommandContext& ctx) -> int {
      auto fail = [&](const Status& s) {
        return ReportError(s, ctx.json(), ctx.out(), ctx.err());
      };
      auto s = Settings(ctx, *o);
      if (!s.ok()) return fail(s.status());
      if (s->db.empty()) return fail(OpenDb(*s, false).status());
      clusterdb::AgentOptions a = clusterdb::AgentOptionsFromSettings(*s);
      if (ao->heartbeat > 0) {
        a.heartbeat_ms = 1000 * ao->heartbeat;
        a.rescan_ms = std::max(a.heartbeat_ms * 5, 5000);
      }
      a.snapshot = service::HostSnapshotReader(ctx.Env());
      if (!ao->no_detach) a.handoff = service::GroupHandOffToVfio(ctx.Env());
      auto agent = clusterdb::Agent::Start(std::move(a));
      if (!agent.ok()) return fail(agent.status());
      if (ao->once) {
        auto t = (*agent)->Tick();
        if (!t.ok()) return fail(t.status());
        ctx.out() << json{{"host", s->host.empty() ? "" : s->host},
                          {"pushed", t->pushed},
                          {"confirmed", t->confirmed},
                          {"failed", t->failed}}
                         .dump()
                  << "\n";
        return kExitOk;
      }
      struct sigaction sa = {};
      sa.sa_handler = [](int) { g_agent_stop = true; };
      sigaction(SIGTERM, &sa, nullptr);
      sigaction(SIGINT, &sa, nullptr);
      std::ostream& err = ctx.err();
      (*agent)->Run(g_agent_stop, [&err](const std::string& line) {
        err << "pcipass cluster agent: " << line << std::endl;
      });
      return kExitOk;
    };
  });

  return [chosen](CommandContext& ctx) -> int {
    if (!*chosen) return kExitUsage;
    return (*chosen)(ctx);
  };
}

}  // namespace pcipass::cli
