// pcipass-cluster-stress: the cluster's concurrency proof, end to end with
// real processes: its own PostgreSQL 15 (scripts/pg-test-server), one
// `pcipass cluster agent` per generated fixture host, two
// `pcipass-scheduler` processes, and N concurrent clients (threads) doing
// place/release over REST. With --chaos it kill -9s a scheduler (twice,
// one each), kill -9s an agent, and restarts PostgreSQL (immediate mode, a
// crash) while the clients run.
//
// Checks (exit 0 only if all hold; the report is JSON on stdout):
//  - 0 double allocations: no device in two placements (client view and
//    the database audit: PF/VF, IOMMU groups, one owner);
//  - 0 lost / 0 leaked: the placements in the database are exactly the
//    ones the clients hold, with the same devices; a release never finds
//    its placement gone;
//  - capacity-exact: GPU clients have quotas summing to exactly the GPU
//    capacity and ask for one GPU only while below their quota, so at
//    least one GPU is free whenever one of them asks: every refusal of a
//    GPU request is an error. After the run one client fills every GPU
//    (all must succeed) and one more request must be refused (409).
//  - after releasing everything: no claims, no placements, every device
//    free again.
// Clients give every request an id; after a lost answer (scheduler
// killed, database restarting) they retry with the same id on either
// scheduler, which returns the existing placement instead of a second.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "clusterdb/store.h"
#include "clusterdb/test_cluster_hosts.h"
#include "testing/fixture_tree.h"
#include "testing/host_generator.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace pcipass;
using namespace pcipass::clusterdb;

namespace {

struct Opts {
  std::string pcipass, scheduler, pg_script, work;
  int ops = 6000;
  int clients = 64;
  int gpu_hosts = 12;
  int gpus = 8;
  int nic_hosts = 4;
  int pfs = 2;
  int vfs = 8;
  int gpu_clients = 48;
  bool chaos = false;
  int timeout_s = 1200;
};

std::mutex g_log_mu;
void Log(const std::string& s) {
  std::lock_guard<std::mutex> l(g_log_mu);
  std::cerr << "[stress] " << s << std::endl;
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int RunScript(const std::vector<std::string>& argv) {
  pid_t pid = Spawn(argv, "/dev/stderr");
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

void KillWait(pid_t pid, int sig) {
  if (pid <= 0) return;
  kill(pid, sig);
  int st = 0;
  waitpid(pid, &st, 0);
}

struct Held {
  std::string id;
  std::string host;
  std::set<std::string> devices;  // addresses
};

class Cluster {
 public:
  explicit Cluster(Opts o) : o_(std::move(o)) {}
  ~Cluster() { Shutdown(); }

  bool Setup() {
    fs::create_directories(o_.work);
    pg_dir_ = o_.work + "/pg";
    if (RunScript({o_.pg_script, "start", pg_dir_}) != 0) return false;
    conninfo_ = "host=" + pg_dir_ + " port=54329 user=postgres dbname=postgres";
    config_ = o_.work + "/pcipass.conf";
    std::ofstream(config_) << pcipass::clusterdb::testing::kClusterConfig
                           << "[cluster]\n"
                           << "db = " << conninfo_ << "\n"
                           << "heartbeat_interval = 1\n"
                           << "dead_after = 30\n"
                           << "reservation_ttl = 120\n";
    int n = 0;
    for (int i = 0; i < o_.gpu_hosts; ++i, ++n) {
      AddHost("gpu" + std::to_string(i), o_.gpus, 0, 0);
    }
    for (int i = 0; i < o_.nic_hosts; ++i, ++n) {
      AddHost("nic" + std::to_string(i), 0, o_.pfs, o_.vfs);
    }
    // Every agent registered?
    auto store = ClusterStore::Open(conninfo_);
    if (!store.ok()) {
      Log(store.status().ToString());
      return false;
    }
    for (int t = 0; t < 600; ++t) {
      auto hosts = (*store)->ListHosts();
      if (hosts.ok() && static_cast<int>(hosts->size()) == n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    auto hosts = (*store)->ListHosts();
    if (!hosts.ok() || static_cast<int>(hosts->size()) != n) {
      Log("agents did not register");
      return false;
    }
    for (int i = 0; i < 2; ++i) {
      if (!StartScheduler(i)) return false;
    }
    return true;
  }

  void AddHost(const std::string& name, int gpus, int pfs, int vfs) {
    std::string root = o_.work + "/hosts/" + name;
    fs::remove_all(root);
    fs::create_directories(root);
    pcipass::testing::FixtureTree tree{fs::path(root)};
    pcipass::testing::GenerateHost(
        tree, pcipass::clusterdb::testing::SmallShape(gpus, pfs, vfs));
    if (gpus > 0) gpu_capacity_ += gpus;
    roots_[name] = root;
    StartAgent(name);
  }

  void StartAgent(const std::string& name) {
    agents_[name] = Spawn({o_.pcipass, "--root", roots_[name], "--config",
                           config_, "--state", roots_[name] + "/state",
                           "cluster", "agent", "--host", name, "--no-detach"},
                          o_.work + "/agent-" + name + ".log");
  }

  bool StartScheduler(int i) {
    std::string port_file = o_.work + "/sched" + std::to_string(i) + ".port";
    fs::remove(port_file);
    sched_pid_[i] = Spawn({o_.scheduler, "--config", config_, "--listen",
                           "127.0.0.1:0", "--port-file", port_file, "--threads",
                           "12", "--name", "sched" + std::to_string(i)},
                          o_.work + "/sched" + std::to_string(i) + ".log");
    for (int t = 0; t < 300; ++t) {
      std::ifstream f(port_file);
      int port = 0;
      if (f >> port && port > 0) {
        sched_port_[i] = port;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    Log("scheduler " + std::to_string(i) + " did not start");
    return false;
  }

  void KillScheduler(int i) {
    sched_port_[i] = 0;
    KillWait(sched_pid_[i], SIGKILL);
    sched_pid_[i] = 0;
  }

  void KillAgent(const std::string& name) {
    KillWait(agents_[name], SIGKILL);
    agents_[name] = 0;
  }

  bool RestartPg() {
    return RunScript({o_.pg_script, "restart", pg_dir_}) == 0;
  }

  void Shutdown() {
    for (int i = 0; i < 2; ++i) KillWait(sched_pid_[i], SIGTERM);
    for (auto& [n, pid] : agents_) KillWait(pid, SIGTERM);
    sched_pid_[0] = sched_pid_[1] = 0;
    agents_.clear();
    if (!pg_dir_.empty()) {
      RunScript({o_.pg_script, "stop", pg_dir_});
      pg_dir_.clear();
    }
  }

  int port(int i) const { return sched_port_[i].load(); }
  const std::string& conninfo() const { return conninfo_; }
  int gpu_capacity() const { return gpu_capacity_; }

 private:
  Opts o_;
  std::string pg_dir_, conninfo_, config_;
  std::map<std::string, std::string> roots_;
  std::map<std::string, pid_t> agents_;
  pid_t sched_pid_[2] = {0, 0};
  std::atomic<int> sched_port_[2] = {0, 0};
  int gpu_capacity_ = 0;
};

struct Stats {
  std::atomic<int64_t> ops{0}, placed{0}, released{0}, refused_gpu{0},
      refused_nic{0}, retries{0}, existing{0}, errors{0}, lost{0};
  std::mutex mu;
  std::vector<std::string> problems;
  void Problem(const std::string& p) {
    std::lock_guard<std::mutex> l(mu);
    if (problems.size() < 50) problems.push_back(p);
    Log("PROBLEM: " + p);
  }
};

// One REST call with retries across both schedulers until a definitive
// answer (not a transport error, not 503). |status| gets the final code.
json Call(const Cluster& c, std::mt19937& rng, const std::string& method,
          const std::string& path, const json& body, int* status, Stats& stats,
          int* attempts) {
  *attempts = 0;
  for (int tries = 0; tries < 400; ++tries) {
    int which = static_cast<int>(rng() % 2);
    int port = c.port(which);
    if (port == 0) port = c.port(1 - which);
    if (port == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    ++*attempts;
    httplib::Client cli("127.0.0.1", port);
    cli.set_connection_timeout(2);
    cli.set_read_timeout(60);
    httplib::Result r(nullptr, httplib::Error::Unknown);
    if (method == "POST") {
      r = cli.Post(path, body.dump(), "application/json");
    } else {
      r = cli.Delete(path);
    }
    if (!r || r->status == 503 || r->status == 500) {
      ++stats.retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 200));
      continue;
    }
    *status = r->status;
    return r->body.empty() ? json() : json::parse(r->body, nullptr, false);
  }
  *status = 0;
  return json();
}

}  // namespace

int main(int argc, char** argv) {
  Opts o;
  CLI::App app{"pcipass-cluster-stress"};
  app.add_option("--pcipass", o.pcipass)->required();
  app.add_option("--scheduler", o.scheduler)->required();
  app.add_option("--pg-script", o.pg_script)->required();
  app.add_option("--work", o.work)->required();
  app.add_option("--ops", o.ops);
  app.add_option("--clients", o.clients);
  app.add_option("--gpu-clients", o.gpu_clients);
  app.add_option("--gpu-hosts", o.gpu_hosts);
  app.add_option("--gpus", o.gpus);
  app.add_option("--nic-hosts", o.nic_hosts);
  app.add_option("--pfs", o.pfs);
  app.add_option("--vfs", o.vfs);
  app.add_flag("--chaos", o.chaos);
  app.add_option("--timeout", o.timeout_s);
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);

  auto t_setup = std::chrono::steady_clock::now();
  Cluster cluster(o);
  if (!cluster.Setup()) {
    Log("setup failed");
    return 1;
  }
  double setup_s = Since(t_setup);
  const int capacity = cluster.gpu_capacity();
  if (o.gpu_clients > capacity || o.gpu_clients > o.clients) {
    Log("need gpu_clients <= GPU capacity and <= clients");
    return 2;
  }
  Log("cluster up in " + std::to_string(setup_s) + " s; GPU capacity " +
      std::to_string(capacity));

  Stats stats;
  std::vector<std::map<std::string, Held>> held(o.clients);
  std::atomic<bool> timed_out{false};
  auto t0 = std::chrono::steady_clock::now();
  auto deadline = t0 + std::chrono::seconds(o.timeout_s);

  std::vector<std::string> chaos_log;
  std::thread chaos;
  if (o.chaos) {
    chaos = std::thread([&] {
      auto at = [&](double frac) {
        while (stats.ops.load() < static_cast<int64_t>(frac * o.ops) &&
               std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      };
      at(0.2);
      cluster.KillScheduler(0);
      chaos_log.push_back("kill -9 scheduler 0 at op " +
                          std::to_string(stats.ops.load()));
      Log(chaos_log.back());
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      cluster.StartScheduler(0);
      at(0.4);
      chaos_log.push_back("restart PostgreSQL (immediate) at op " +
                          std::to_string(stats.ops.load()));
      Log(chaos_log.back());
      if (!cluster.RestartPg()) stats.Problem("PostgreSQL restart failed");
      at(0.6);
      cluster.KillAgent("gpu0");
      chaos_log.push_back("kill -9 agent gpu0 at op " +
                          std::to_string(stats.ops.load()));
      Log(chaos_log.back());
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      cluster.StartAgent("gpu0");
      at(0.8);
      cluster.KillScheduler(1);
      chaos_log.push_back("kill -9 scheduler 1 at op " +
                          std::to_string(stats.ops.load()));
      Log(chaos_log.back());
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      cluster.StartScheduler(1);
    });
  }

  // GPU client quotas sum to the GPU capacity exactly.
  std::vector<int> quota(o.clients, 0);
  for (int i = 0; i < capacity; ++i) quota[i % o.gpu_clients] += 1;

  std::vector<std::thread> clients;
  clients.reserve(static_cast<size_t>(o.clients));
  for (int ci = 0; ci < o.clients; ++ci) {
    clients.emplace_back([&, ci] {
      std::mt19937 rng(static_cast<unsigned>(ci * 7919 + 17));
      bool gpu_client = ci < o.gpu_clients;
      int seq = 0;
      auto& mine = held[ci];
      while (true) {
        int64_t op = stats.ops.fetch_add(1);
        if (op >= o.ops) break;
        if (std::chrono::steady_clock::now() > deadline) {
          timed_out = true;
          break;
        }
        bool place;
        std::string request;
        if (gpu_client) {
          place = static_cast<int>(mine.size()) < quota[ci];
          request = "gpu:1";
        } else {
          place = mine.size() < 3 && rng() % 10 < 6;
          const char* kinds[] = {"vf:1", "vf:2", "pf:1", "vf:1,vf:1"};
          request = kinds[rng() % 4];
        }
        if (place) {
          std::string id =
              "c" + std::to_string(ci) + "-" + std::to_string(seq++);
          json body = {
              {"id", id}, {"instance", "vm-" + id}, {"request", request}};
          int status = 0, attempts = 0;
          json r = Call(cluster, rng, "POST", "/v1/placements", body, &status,
                        stats, &attempts);
          if (status == 201 || status == 200) {
            if (status == 200) ++stats.existing;
            if (status == 200 && attempts == 1) {
              stats.Problem("fresh id " + id + " answered as existing");
            }
            Held h{id, r["host"].get<std::string>(), {}};
            for (const json& d : r["devices"]) {
              h.devices.insert(d["address"].get<std::string>());
            }
            mine[id] = h;
            ++stats.placed;
          } else if (status == 409) {
            if (gpu_client) {
              ++stats.refused_gpu;
              stats.Problem("GPU request refused below quota: " + r.dump());
            } else {
              ++stats.refused_nic;
            }
          } else {
            ++stats.errors;
            stats.Problem("place " + id + ": HTTP " + std::to_string(status) +
                          " " + r.dump());
          }
        } else if (!mine.empty()) {
          auto it = mine.begin();
          std::advance(it, rng() % mine.size());
          std::string id = it->first;
          int status = 0, attempts = 0;
          json r = Call(cluster, rng, "DELETE", "/v1/placements/" + id, nullptr,
                        &status, stats, &attempts);
          if (status == 204 || (status == 404 && attempts > 1)) {
            mine.erase(id);
            ++stats.released;
          } else if (status == 404) {
            ++stats.lost;
            stats.Problem("placement " + id + " vanished before its release");
            mine.erase(id);
          } else {
            ++stats.errors;
            stats.Problem("release " + id + ": HTTP " + std::to_string(status));
          }
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  double run_s = Since(t0);
  if (chaos.joinable()) chaos.join();
  Log("ops done in " + std::to_string(run_s) + " s");

  // Audit: the database against what the clients hold.
  json report;
  auto store = ClusterStore::Open(cluster.conninfo(), false);
  if (!store.ok()) {
    Log(store.status().ToString());
    return 1;
  }
  std::map<std::string, Held> all;
  std::map<std::string, std::string> owner;  // host/address -> id
  int64_t doubled = 0;
  for (const auto& m : held) {
    for (const auto& [id, h] : m) {
      all[id] = h;
      for (const std::string& a : h.devices) {
        auto [it, fresh] = owner.emplace(h.host + "/" + a, id);
        if (!fresh) {
          ++doubled;
          std::string problem = "device " + h.host;
          problem += "/" + a + " held by " + it->second;
          problem += " and " + id;
          stats.Problem(problem);
        }
      }
    }
  }
  auto audit = (*store)->Audit();
  auto placements = (*store)->ListPlacements();
  int64_t leaked = 0, lost = stats.lost.load(), mismatched = 0;
  if (!audit.ok() || !placements.ok()) {
    stats.Problem("audit query failed");
  } else {
    for (const std::string& p : audit->problems) stats.Problem("audit: " + p);
    std::set<std::string> in_db;
    for (const PlacementRecord& p : *placements) {
      in_db.insert(p.id);
      auto it = all.find(p.id);
      if (it == all.end()) {
        ++leaked;
        stats.Problem("placement " + p.id +
                      " in the database, held by no client");
        continue;
      }
      std::set<std::string> devs;
      for (const auto& d : p.devices) devs.insert(d.address.ToString());
      if (devs != it->second.devices || p.host != it->second.host) {
        ++mismatched;
        stats.Problem("placement " + p.id +
                      " devices differ from the client's");
      }
    }
    for (const auto& [id, h] : all) {
      if (!in_db.count(id)) {
        ++lost;
        stats.Problem("client holds " + id + ", the database does not");
      }
    }
  }
  // Release everything, then every device must be free.
  std::mt19937 rng(1);
  for (const auto& [id, h] : all) {
    int status = 0, attempts = 0;
    Call(cluster, rng, "DELETE", "/v1/placements/" + id, nullptr, &status,
         stats, &attempts);
    if (status != 204)
      stats.Problem("final release " + id + ": " + std::to_string(status));
  }
  auto after = (*store)->Audit();
  if (!after.ok() || after->claims != 0 || after->placements != 0) {
    stats.Problem("claims or placements left after releasing everything");
  }
  // Capacity-exact: exactly |capacity| single-GPU placements fit, the next
  // is refused.
  int fill_ok = 0, fill_refused = 0;
  std::vector<std::string> fill_ids;
  for (int i = 0; i <= capacity; ++i) {
    std::string id = "fill-" + std::to_string(i);
    int status = 0, attempts = 0;
    json r =
        Call(cluster, rng, "POST", "/v1/placements",
             json{{"id", id}, {"instance", "vm-" + id}, {"request", "gpu:1"}},
             &status, stats, &attempts);
    if (status == 201) {
      ++fill_ok;
      fill_ids.push_back(id);
    } else if (status == 409) {
      ++fill_refused;
    }
  }
  if (fill_ok != capacity || fill_refused != 1) {
    stats.Problem("capacity fill: " + std::to_string(fill_ok) + " placed of " +
                  std::to_string(capacity) + ", " +
                  std::to_string(fill_refused) +
                  " refused (want all placed, then 1 refused)");
  }
  for (const std::string& id : fill_ids) {
    int status = 0, attempts = 0;
    Call(cluster, rng, "DELETE", "/v1/placements/" + id, nullptr, &status,
         stats, &attempts);
  }
  auto hosts = (*store)->ListHosts();
  int64_t devices_total = 0, claimed_left = 0;
  if (hosts.ok()) {
    for (const HostListing& h : *hosts) {
      devices_total += h.devices;
      claimed_left += h.claimed;
    }
  }
  if (claimed_left != 0) stats.Problem("devices still claimed at the end");
  if (timed_out) stats.Problem("timed out before all operations ran");

  report = {{"ops", std::min<int64_t>(stats.ops.load(), o.ops)},
            {"clients", o.clients},
            {"gpu_clients", o.gpu_clients},
            {"schedulers", 2},
            {"hosts", o.gpu_hosts + o.nic_hosts},
            {"devices", devices_total},
            {"gpu_capacity", capacity},
            {"run_s", run_s},
            {"setup_s", setup_s},
            {"ops_per_s", static_cast<double>(o.ops) / run_s},
            {"placed", stats.placed.load()},
            {"released", stats.released.load()},
            {"refused_gpu_below_quota", stats.refused_gpu.load()},
            {"refused_nic", stats.refused_nic.load()},
            {"retried_calls", stats.retries.load()},
            {"answered_existing_on_retry", stats.existing.load()},
            {"double_allocations", doubled},
            {"lost", lost},
            {"leaked", leaked},
            {"mismatched", mismatched},
            {"errors", stats.errors.load()},
            {"capacity_fill_placed", fill_ok},
            {"capacity_fill_refused", fill_refused},
            {"chaos", chaos_log},
            {"problems", stats.problems},
            {"ok", stats.problems.empty()}};
  std::cout << report.dump(2) << std::endl;
  cluster.Shutdown();
  if (stats.problems.empty()) {
    // Keep the logs (agents, schedulers) of a failed run only.
    std::error_code ec;
    fs::remove_all(o.work, ec);
  }
  return stats.problems.empty() ? 0 : 1;
}
