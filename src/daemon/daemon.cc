#include "daemon/daemon.h"

#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <thread>

#include "clusterdb/agent.h"
#include "clusterdb/settings.h"
#include "core/host_root.h"
#include "daemon/auth.h"
#include "daemon/metrics.h"
#include "daemon/operations.h"
#include "daemon/reconcile_loop.h"
#include "daemon/routes.h"
#include "daemon/unix_http_server.h"
#include "select/config.h"
#include "select/ini.h"
#include "service/claims_ops.h"

namespace pcipass::daemon {

namespace {

// "8080", ":8080" -> 127.0.0.1:8080; "HOST:PORT"; "[::1]:8080".
Status ParseListen(const std::string& text, std::string* host, int* port) {
  std::string h = "127.0.0.1";
  std::string p = text;
  size_t colon = text.rfind(':');
  if (colon != std::string::npos) {
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.empty()) h = "127.0.0.1";
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
      h = h.substr(1, h.size() - 2);
    }
  }
  char* end = nullptr;
  long v = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || !end || *end || v < 0 || v > 65535) {
    return Status::InvalidArgument("--listen " + text +
                                   ": expected PORT, :PORT or HOST:PORT with "
                                   "a port 0-65535 (0: any free port, logged)");
  }
  *host = h;
  *port = static_cast<int>(v);
  return Status::Ok();
}

class Logger {
 public:
  explicit Logger(std::ostream& out) : out_(out) {}
  void operator()(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    out_ << "pcipassd: " << line << std::endl;
  }

 private:
  std::mutex mu_;
  std::ostream& out_;
};

Status ValidateConfig(const DaemonOptions& o, const HostRoot& host) {
  if (o.config.empty()) return Status::Ok();
  ConfigLoad load = LoadConfig(o.config, host);
  if (load.ok()) return Status::Ok();
  std::string msg = "invalid config " + o.config + ":";
  for (const Status& e : load.errors) msg += "\n  " + e.message();
  return Status::FailedPrecondition(msg);
}

// The cluster agent of this host when the config's [cluster] names a
// database; nullptr when it does not (a single-host pcipassd). Errors: a
// bad [cluster] section or a database that cannot be reached.
Result<std::unique_ptr<clusterdb::Agent>> StartClusterAgent(
    const service::ServiceEnv& env) {
  if (env.config_path.empty()) return std::unique_ptr<clusterdb::Agent>();
  Result<IniFile> ini = IniFile::Load(env.config_path);
  if (!ini.ok()) return ini.status();
  Result<clusterdb::ClusterSettings> settings =
      clusterdb::ReadClusterSettings(*ini);
  if (!settings.ok()) return settings.status();
  if (settings->db.empty()) return std::unique_ptr<clusterdb::Agent>();
  clusterdb::AgentOptions a = clusterdb::AgentOptionsFromSettings(*settings);
  a.snapshot = service::HostSnapshotReader(env);
  a.handoff = service::GroupHandOffToVfio(env);
  return clusterdb::Agent::Start(std::move(a));
}

}  // namespace

int ParseDaemonArgs(int argc, const char* const* argv, DaemonOptions* o,
                    std::ostream& out, std::ostream& err) {
  CLI::App app{
      "pcipassd: the pcipass per-host agent: REST API (/v1/), metrics "
      "(/metrics) and a reconcile loop",
      "pcipassd"};
  app.option_defaults()->always_capture_default(false);
  app.add_option("--root", o->root,
                 "directory that plays the part of / (fixture trees); "
                 "default: $PCIPASS_ROOT or /");
  app.add_option("--config", o->config, "pcipass INI config (as pcipass)");
  app.add_option("--state", o->state,
                 "state directory (ledger, journal); default "
                 "<root>/var/lib/pcipass");
  app.add_option("--pci-ids", o->pci_ids, "pci.ids names database");
  app.add_option("--socket", o->socket,
                 "Unix socket path; default <root>/run/pcipass/pcipassd.sock");
  app.add_option("--socket-group", o->socket_group,
                 "group (name or gid) whose members may use the socket "
                 "(mode 0660); default: root only");
  app.add_option("--listen", o->listen,
                 "also serve TCP on HOST:PORT (PORT alone: 127.0.0.1); "
                 "needs --token-file");
  app.add_option("--token-file", o->token_file,
                 "bearer token for TCP clients (first line, mode 0600)");
  app.add_option("--tls-cert", o->tls_cert, "TLS certificate (PEM) for TCP");
  app.add_option("--tls-key", o->tls_key, "TLS private key (PEM) for TCP");
  app.add_option("--reconcile-interval", o->reconcile_interval_s,
                 "seconds between drift checks (0: only at start); "
                 "default 60")
      ->check(CLI::Range(0, 86400));
  app.add_option("--workers", o->workers,
                 "Unix-socket connections served at once; default 8")
      ->check(CLI::Range(1, 256));
  app.add_option("--max-body", o->max_body_bytes,
                 "largest request body in bytes; default 65536")
      ->check(CLI::Range(256, 16 * 1024 * 1024));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  if (!o->listen.empty() && o->token_file.empty()) {
    err << "pcipassd: --listen needs --token-file (TCP clients must send a "
           "bearer token)\n";
    return 2;
  }
  if (o->tls_cert.empty() != o->tls_key.empty()) {
    err << "pcipassd: give both --tls-cert and --tls-key, or neither\n";
    return 2;
  }
  if (!o->tls_cert.empty() && o->listen.empty()) {
    err << "pcipassd: --tls-cert/--tls-key need --listen\n";
    return 2;
  }
  return -1;
}

int RunDaemon(const DaemonOptions& o, std::ostream& log_stream) {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Logger log(log_stream);
  auto fail = [&](const Status& s) {
    log("cannot start: " + s.message());
    return 1;
  };
  HostRoot host = HostRoot::FromFlagOrEnv(o.root);
  service::ServiceEnv env;
  env.host = host;
  env.config_path = o.config;
  env.state_dir =
      o.state.empty() ? host.Path("var/lib/pcipass").string() : o.state;
  env.pci_ids = o.pci_ids;
  if (Status s = ValidateConfig(o, host); !s.ok()) return fail(s);

  PeerPolicy policy;
  if (!o.socket_group.empty()) {
    Result<gid_t> gid = ResolveGroup(o.socket_group);
    if (!gid.ok()) return fail(gid.status());
    policy.group = *gid;
    policy.group_name = o.socket_group;
  }
  std::string token;
  if (!o.token_file.empty()) {
    Result<std::string> t = ReadTokenFile(o.token_file);
    if (!t.ok()) return fail(t.status());
    token = *t;
  }

  Metrics metrics;
  Operations operations;
  ApiContext api(env, &metrics, &operations);
  api.SetPeerPolicy(policy);
  api.SetToken(token);
  auto log_fn = [&log](const std::string& line) { log(line); };
  ReconcileLoop reconcile(env, &metrics, log_fn);
  // Before serving: a ledger left behind by a killed daemon or CLI is
  // brought in line with the host first.
  if (Status s = reconcile.RunOnce(); !s.ok()) {
    log("warning: the start-up reconcile failed; serving anyway: " +
        s.message());
  }

  std::string socket_path =
      o.socket.empty() ? host.Path("run/pcipass/pcipassd.sock").string()
                       : o.socket;
  std::error_code ec;
  std::filesystem::create_directories(
      std::filesystem::path(socket_path).parent_path(), ec);
  UnixHttpServer unix_server;
  InstallApi(unix_server, api, Transport::kUnix, o.max_body_bytes);
  if (Status s = unix_server.Bind(socket_path, 0660, policy.group); !s.ok()) {
    return fail(s);
  }

  std::unique_ptr<httplib::Server> tcp;
  std::string tcp_host;
  int tcp_port = 0;
  if (!o.listen.empty()) {
    if (Status s = ParseListen(o.listen, &tcp_host, &tcp_port); !s.ok()) {
      unix_server.Shutdown();
      return fail(s);
    }
    if (!o.tls_cert.empty()) {
      tcp = std::make_unique<httplib::SSLServer>(o.tls_cert.c_str(),
                                                 o.tls_key.c_str());
    } else {
      tcp = std::make_unique<httplib::Server>();
    }
    if (!tcp->is_valid()) {
      return fail(Status::InvalidArgument(
          "--tls-cert " + o.tls_cert + " / --tls-key " + o.tls_key +
          ": not a usable PEM certificate and key pair"));
    }
    InstallApi(*tcp, api, Transport::kTcp, o.max_body_bytes);
    if (tcp_port == 0) {
      tcp_port = tcp->bind_to_any_port(tcp_host);
    } else if (!tcp->bind_to_port(tcp_host, tcp_port)) {
      tcp_port = -1;
    }
    if (tcp_port <= 0) {
      return fail(Status(StatusCode::kUnavailable,
                         "--listen " + o.listen + ": cannot bind it" +
                             " (in use, or not an address of this host)"));
    }
  }

  std::thread unix_thread([&] { unix_server.Serve(o.workers); });
  std::thread tcp_thread;
  if (tcp) tcp_thread = std::thread([&] { tcp->listen_after_bind(); });
  reconcile.Start(o.reconcile_interval_s);
  // [cluster] db set: this host is a cluster member. Its agent registers
  // the host, pushes inventory, heartbeats and completes the placements
  // schedulers reserve on it (clusterdb/agent.h), until the daemon stops.
  std::atomic<bool> agent_stop{false};
  std::thread agent_thread;
  {
    Result<std::unique_ptr<clusterdb::Agent>> agent = StartClusterAgent(env);
    if (!agent.ok()) {
      log("warning: the cluster agent did not start; serving anyway: " +
          agent.status().message());
    } else if (*agent) {
      log("cluster agent: host registered with the cluster database");
      agent_thread =
          std::thread([&agent_stop, &log, a = std::move(*agent)]() mutable {
            a->Run(agent_stop, [&log](const std::string& line) {
              log("cluster agent: " + line);
            });
          });
    }
  }
  log("serving on " + socket_path +
      (tcp ? std::string(" and ") + (o.tls_cert.empty() ? "http" : "https") +
                 "://" + tcp_host + ":" + std::to_string(tcp_port)
           : std::string()) +
      " (pid " + std::to_string(getpid()) + ")");
  sd_notify(0, "READY=1\nSTATUS=serving");

  while (true) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      sd_notify(0, "RELOADING=1");
      bool ok = true;
      if (!o.token_file.empty()) {
        Result<std::string> t = ReadTokenFile(o.token_file);
        if (t.ok()) {
          api.SetToken(*t);
        } else {
          ok = false;
          log("reload: keeping the old token: " + t.status().message());
        }
      }
      if (!o.socket_group.empty()) {
        Result<gid_t> gid = ResolveGroup(o.socket_group);
        if (gid.ok()) {
          PeerPolicy p;
          p.group = *gid;
          p.group_name = o.socket_group;
          api.SetPeerPolicy(p);
        } else {
          ok = false;
          log("reload: " + gid.status().message());
        }
      }
      Status config = ValidateConfig(o, host);
      metrics.SetConfigValid(config.ok());
      if (!config.ok()) {
        ok = false;
        log("reload: " + config.message());
      }
      metrics.CountConfigReload(ok);
      log(ok ? "reload: done" : "reload: finished with errors (see above)");
      sd_notify(0, "READY=1");
      continue;
    }
    log(std::string("signal ") + (sig == SIGTERM ? "TERM" : "INT") +
        ": draining");
    sd_notify(0, "STOPPING=1\nSTATUS=draining");
    break;
  }
  // Drain: stop accepting, finish what is in flight, then exit.
  unix_server.Shutdown();
  if (tcp) tcp->stop();
  unix_thread.join();
  if (tcp_thread.joinable()) tcp_thread.join();
  operations.WaitIdle();
  agent_stop = true;
  if (agent_thread.joinable()) agent_thread.join();
  reconcile.Stop();
  log("stopped");
  return 0;
}

}  // namespace pcipass::daemon
