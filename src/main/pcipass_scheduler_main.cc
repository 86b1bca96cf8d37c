// pcipass-scheduler: the cluster scheduler service (clusterdb/scheduler.h).
//
//   pcipass-scheduler --config FILE [--db CONNINFO] [--listen HOST:PORT]
//       [--dead-after S] [--reservation-ttl S] [--threads N]
//       [--candidates K] [--name NAME] [--port-file FILE]
//
// Reads [pci] alias and [cluster] from the config (flags override),
// migrates the cluster schema, serves the REST API until SIGTERM/SIGINT.
// --listen 127.0.0.1:0 takes any free port; --port-file receives it.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "clusterdb/scheduler.h"
#include "clusterdb/settings.h"
#include "select/config.h"

namespace {
std::atomic<bool> g_stop{false};
}

int main(int argc, char** argv) {
  using namespace pcipass;
  CLI::App app{"pcipass-scheduler: places PCI requests over the cluster",
               "pcipass-scheduler"};
  std::string config, db, listen, name, port_file;
  int dead_after = 0, ttl = 0, threads = 16, candidates = 8;
  app.add_option("--config", config, "pcipass config: [pci] alias, [cluster]")
      ->required();
  app.add_option("--db", db, "libpq conninfo (default [cluster] db)");
  app.add_option("--listen", listen, "HOST:PORT (default [cluster] listen)");
  app.add_option("--dead-after", dead_after, "seconds without heartbeat");
  app.add_option("--reservation-ttl", ttl, "seconds to wait for confirm");
  app.add_option("--threads", threads, "request threads (= DB connections)");
  app.add_option("--candidates", candidates, "exact fits before full pass");
  app.add_option("--name", name, "scheduler name (default scheduler-<pid>)");
  app.add_option("--port-file", port_file, "write the bound port here");
  CLI11_PARSE(app, argc, argv);

  ConfigLoad load = LoadConfig(config, HostRoot("/"));
  if (!load.ok()) {
    for (const Status& e : load.errors) {
      std::cerr << "pcipass-scheduler: " << e.message() << "\n";
    }
    return 1;
  }
  Result<clusterdb::ClusterSettings> cs =
      clusterdb::ReadClusterSettings(load.config.ini);
  if (!cs.ok()) {
    std::cerr << "pcipass-scheduler: " << cs.status().message() << "\n";
    return 1;
  }
  clusterdb::SchedulerOptions o;
  o.conninfo = db.empty() ? cs->db : db;
  if (o.conninfo.empty()) {
    std::cerr << "pcipass-scheduler: no database: set [cluster] db = "
                 "<libpq conninfo> or pass --db\n";
    return 1;
  }
  o.listen_host = cs->listen_host;
  o.listen_port = cs->listen_port;
  if (!listen.empty()) {
    Status s = clusterdb::ParseListen(listen, &o.listen_host, &o.listen_port);
    if (!s.ok()) {
      std::cerr << "pcipass-scheduler: --listen: " << s.message() << "\n";
      return 1;
    }
  }
  o.aliases = load.config.aliases;
  o.dead_after_s = dead_after > 0 ? dead_after : cs->dead_after_s;
  o.reservation_ttl_s = ttl > 0 ? ttl : cs->reservation_ttl_s;
  o.http_threads = threads;
  o.candidates = candidates;
  o.name = name;
  Result<std::unique_ptr<clusterdb::Scheduler>> s =
      clusterdb::Scheduler::Start(std::move(o));
  if (!s.ok()) {
    std::cerr << "pcipass-scheduler: " << s.status().ToString() << "\n";
    return 1;
  }
  std::cerr << "pcipass-scheduler: listening on port " << (*s)->port()
            << std::endl;
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (*s)->port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  struct sigaction sa = {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  while (!g_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (*s)->Stop();
  return 0;
}
