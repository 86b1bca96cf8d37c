// Cluster scheduler benchmarks (docs/performance.md, "Cluster scheduler").
//
// One seeded synthetic cluster (src/cluster/synthetic.h, 10,000 hosts by
// default) is summarised and loaded into a ClusterIndex. Modes:
//   (default)            Google Benchmark: BM_Place per request kind,
//                        BM_PlaceAndFit, BM_FitIdenticalGpus (8 of 8 or 16
//                        identical GPUs), BM_Upsert;
//   --latency            every request kind --decisions times, each
//                        decision timed on its own: median and p99 (us);
//   --export-nova FILE   the cluster and the requests as JSON for
//                        bench/nova_filter_bench.py.
// --hosts N and --seed S choose the cluster (before the other flags).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>

#include "cluster/index.h"
#include "cluster/synthetic.h"

namespace pcipass::cluster {
namespace {

int g_hosts = 10000;
uint64_t g_seed = 1;

struct BenchRequest {
  std::string label;  // flavor alias string, as Nova reads it
  std::vector<std::pair<std::string, int>> items;
};

const std::vector<BenchRequest>& Requests() {
  static const std::vector<BenchRequest> kRequests = {
      {"gpu:1", {{"gpu", 1}}},
      {"gpu:8", {{"gpu", 8}}},
      {"nic-vf:2", {{"nic-vf", 2}}},
      {"nic-pf:1", {{"nic-pf", 1}}},
      {"nvme:2", {{"nvme", 2}}},
      {"gpu:2,nic-vf:1", {{"gpu", 2}, {"nic-vf", 1}}},
      {"gpu:16", {{"gpu", 16}}},
      {"nvme:12", {{"nvme", 12}}},  // no host has 12: refused
  };
  return kRequests;
}

PlacementRequest MakeRequest(const AliasTable& aliases, const BenchRequest& b) {
  PlacementRequest r;
  for (const auto& [name, count] : b.items) {
    r.requests.push_back(synthetic::AliasRequest(aliases, name, count));
  }
  return r;
}

struct World {
  AliasTable aliases = synthetic::Aliases();
  synthetic::Options options;
  std::vector<synthetic::Host> hosts;
  std::vector<HostSummary> summaries;
  ClusterIndex index;
  double build_ms = 0;
  double load_ms = 0;

  World() {
    options.hosts = g_hosts;
    options.seed = g_seed;
    auto t0 = std::chrono::steady_clock::now();
    hosts = synthetic::GenerateCluster(options);
    summaries.reserve(hosts.size());
    for (const auto& h : hosts) {
      summaries.push_back(Summarize(h.identity, h.inventory, aliases));
    }
    auto t1 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < hosts.size(); ++i) {
      (void)index.Upsert(summaries[i],
                         std::make_shared<HostInventory>(hosts[i].inventory));
    }
    auto t2 = std::chrono::steady_clock::now();
    build_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    load_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  }
};

World& TheWorld() {
  static World* w = new World();
  return *w;
}

void BM_Place(benchmark::State& state) {
  World& w = TheWorld();
  const BenchRequest& b = Requests()[state.range(0)];
  PlacementRequest req = MakeRequest(w.aliases, b);
  size_t candidates = 0, examined = 0;
  for (auto _ : state) {
    auto r = w.index.Place(req, w.options.now_unix);
    candidates = r->candidates.size();
    examined = r->hosts_examined;
    benchmark::DoNotOptimize(candidates);
  }
  state.SetLabel(b.label + ": " + std::to_string(candidates) + " candidates, " +
                 std::to_string(examined) + " of " +
                 std::to_string(w.hosts.size()) + " hosts examined");
}
BENCHMARK(BM_Place)->DenseRange(0, 7)->Unit(benchmark::kMicrosecond);

void BM_PlaceAndFit(benchmark::State& state) {
  World& w = TheWorld();
  const BenchRequest& b = Requests()[state.range(0)];
  PlacementRequest req = MakeRequest(w.aliases, b);
  std::string placed_on;
  for (auto _ : state) {
    auto r = w.index.PlaceAndFit(req, w.options.now_unix, "vm-bench");
    placed_on = r.ok() && r->ok ? r->host : "";
    benchmark::DoNotOptimize(placed_on.data());
  }
  state.SetLabel(
      b.label + (placed_on.empty() ? ": refused" : ": placed on " + placed_on));
}
BENCHMARK(BM_PlaceAndFit)->DenseRange(0, 6)->Unit(benchmark::kMicrosecond);

// claims::Fit of 8 identical GPUs on a host with range(0) of them, all free.
void BM_FitIdenticalGpus(benchmark::State& state) {
  HostInventory inv;
  const int n = static_cast<int>(state.range(0));
  for (int i = 0; i < n; ++i) {
    LedgerDevice d;
    d.address = PciAddress{0, static_cast<uint8_t>(0x40 + i), 0, 0};
    d.vendor_id = 0x10de;
    d.product_id = 0x20b0;
    d.numa_node = i < n / 2 ? 0 : 1;
    d.iommu_group = 10 + i;
    inv.devices.push_back(d);
  }
  inv.topology.cell_socket = {{0, 0}, {1, 1}};
  claims::FitHost fit = MakeFitHost(inv);
  AliasTable aliases = synthetic::Aliases();
  std::vector<PciRequest> reqs = {synthetic::AliasRequest(aliases, "gpu", 8)};
  claims::FitOptions opt;  // guest without NUMA topology
  opt.instance = "vm-bench";
  size_t picked = 0;
  for (auto _ : state) {
    claims::FitResult r = claims::Fit(fit, reqs, opt);
    picked = r.picks.size();
    benchmark::DoNotOptimize(r.picks.data());
  }
  state.SetLabel("gpu:8 of " + std::to_string(n) +
                 " identical GPUs: " + std::to_string(picked) + " picked");
}
BENCHMARK(BM_FitIdenticalGpus)->Arg(8)->Arg(16)->Unit(benchmark::kMicrosecond);

void BM_Upsert(benchmark::State& state) {
  World& w = TheWorld();
  size_t i = 0;
  for (auto _ : state) {
    HostSummary s = w.summaries[i % w.summaries.size()];
    ++s.generation;
    w.summaries[i % w.summaries.size()].generation = s.generation;
    (void)w.index.Upsert(std::move(s));
    ++i;
  }
  state.SetLabel("summary replace (no inventory) in a 10k-host index");
}
BENCHMARK(BM_Upsert)->Unit(benchmark::kMicrosecond);

double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 +
         static_cast<double>(ts.tv_nsec) / 1e3;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(
      v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

int RunLatency(int decisions) {
  World& w = TheWorld();
  std::printf(
      "cluster: %zu hosts (seed %llu), summaries built in %.0f ms, "
      "index loaded in %.0f ms\n",
      w.hosts.size(), static_cast<unsigned long long>(g_seed), w.build_ms,
      w.load_ms);
  std::printf("%-16s %6s %7s %8s %10s %10s %10s %10s %10s\n", "request",
              "cands", "passing", "examined", "median_us", "p99_us",
              "cpu_med_us", "cpu_p99_us", "fit_med_us");
  std::vector<double> all, all_cpu;
  nlohmann::json summary = nlohmann::json::object();
  for (const BenchRequest& b : Requests()) {
    PlacementRequest req = MakeRequest(w.aliases, b);
    std::vector<double> us, cpu_us, fit_us;
    size_t candidates = 0, examined = 0;
    for (int i = 0; i < decisions; ++i) {
      const double c0 = ThreadCpuUs();
      auto t0 = std::chrono::steady_clock::now();
      auto r = w.index.Place(req, w.options.now_unix);
      auto t1 = std::chrono::steady_clock::now();
      cpu_us.push_back(ThreadCpuUs() - c0);
      candidates = r->candidates.size();
      examined = r->hosts_examined;
      us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    for (int i = 0; i < std::max(1, decisions / 10); ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = w.index.PlaceAndFit(req, w.options.now_unix, "vm-bench");
      auto t1 = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(r->host.data());
      fit_us.push_back(
          std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    PlacementRequest every = req;
    every.max_candidates = 0;
    const size_t passing =
        w.index.Place(every, w.options.now_unix)->candidates.size();
    summary[b.label] = {{"median_us", Percentile(us, 0.5)},
                        {"p99_us", Percentile(us, 0.99)},
                        {"cpu_median_us", Percentile(cpu_us, 0.5)},
                        {"cpu_p99_us", Percentile(cpu_us, 0.99)},
                        {"candidates", candidates},
                        {"passing_hosts", passing},
                        {"examined", examined},
                        {"fit_median_us", Percentile(fit_us, 0.5)}};
    all.insert(all.end(), us.begin(), us.end());
    all_cpu.insert(all_cpu.end(), cpu_us.begin(), cpu_us.end());
    std::printf("%-16s %6zu %7zu %8zu %10.2f %10.2f %10.2f %10.2f %10.2f\n",
                b.label.c_str(), candidates, passing, examined,
                Percentile(us, 0.5), Percentile(us, 0.99),
                Percentile(cpu_us, 0.5), Percentile(cpu_us, 0.99),
                Percentile(fit_us, 0.5));
  }
  std::printf("%-16s %6s %7s %8s %10.2f %10.2f %10.2f %10.2f\n", "all", "", "",
              "", Percentile(all, 0.5), Percentile(all, 0.99),
              Percentile(all_cpu, 0.5), Percentile(all_cpu, 0.99));
  std::printf("%s\n", summary.dump().c_str());
  return 0;
}

int ExportNova(const char* path) {
  synthetic::Options o;
  o.hosts = g_hosts;
  o.seed = g_seed;
  auto hosts = synthetic::GenerateCluster(o);
  nlohmann::json j = synthetic::NovaExport(hosts);
  nlohmann::json reqs = nlohmann::json::array();
  for (const BenchRequest& b : Requests()) reqs.push_back({{"alias", b.label}});
  j["requests"] = reqs;
  std::ofstream out(path);
  out << j.dump();
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path);
    return 1;
  }
  std::printf("wrote %zu hosts to %s\n", hosts.size(), path);
  return 0;
}

}  // namespace
}  // namespace pcipass::cluster

int main(int argc, char** argv) {
  using namespace pcipass::cluster;
  int decisions = 1000;
  const char* export_path = nullptr;
  bool latency = false;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--hosts" && i + 1 < argc) {
      g_hosts = std::atoi(argv[++i]);
    } else if (a == "--seed" && i + 1 < argc) {
      g_seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--decisions" && i + 1 < argc) {
      decisions = std::atoi(argv[++i]);
    } else if (a == "--latency") {
      latency = true;
    } else if (a == "--export-nova" && i + 1 < argc) {
      export_path = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (export_path) return ExportNova(export_path);
  if (latency) return RunLatency(decisions);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
