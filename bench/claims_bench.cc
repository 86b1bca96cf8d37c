// Claims benchmarks (docs/performance.md, "Claims"):
//  - BM_FitOneRequest: Fit() of one request against a host with 1,024
//    allowed devices (16 PFs x 63 VFs + 16 GPUs), with a quarter of the
//    VFs already held, for VF and GPU requests of 1 and 8 devices;
//  - BM_ClaimRelease: a full claim (reconcile + fit + ledger writes, two
//    write transactions) and its release on a durable SQLite ledger (WAL,
//    synchronous=FULL) on a 64-device host; items/s = claims per second.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>

#include "claims/fit.h"
#include "claims/service.h"
#include "store/ledger.h"

namespace pcipass::claims {
namespace {

PciAddress A(const std::string& s) { return *PciAddress::Parse(s); }

HostSnapshot MakeHost(int pfs, int vfs_per_pf, int gpus) {
  HostSnapshot s;
  int group = 1;
  auto add = [&](const std::string& addr, uint16_t product, DeviceType t,
                 std::optional<std::string> parent, int numa) {
    LedgerDevice d;
    d.address = A(addr);
    d.vendor_id = product == 0x20b0 ? 0x10de : 0x8086;
    d.product_id = product;
    d.dev_type = t;
    if (parent) d.parent_addr = A(*parent);
    d.numa_node = numa;
    d.iommu_group = group++;
    s.devices.push_back(d);
    s.tags[d.address] = {{"physical_network", "physnet1"}};
    s.present.insert(d.address);
  };
  char buf[32];
  for (int p = 0; p < pfs; ++p) {
    snprintf(buf, sizeof buf, "0000:%02x:00.0", 0x10 + p);
    std::string pf = buf;
    add(pf, 0x1572, DeviceType::kPf, std::nullopt, p % 2);
    for (int v = 1; v <= vfs_per_pf; ++v) {
      snprintf(buf, sizeof buf, "0000:%02x:%02x.%d", 0x10 + p, v / 8, v % 8);
      add(buf, 0x154c, DeviceType::kVf, pf, p % 2);
    }
  }
  for (int g = 0; g < gpus; ++g) {
    snprintf(buf, sizeof buf, "0000:%02x:00.0", 0x80 + g);
    add(buf, 0x20b0, DeviceType::kPci, std::nullopt, g % 2);
  }
  s.topology.cell_socket = {{0, 0}, {1, 1}};
  return s;
}

PciRequest Req(const char* product, int count) {
  PciRequest r;
  r.alias_name = product;
  r.count = count;
  r.specs = {{{"product_id", product}}};
  return r;
}

void BM_FitOneRequest(benchmark::State& state) {
  HostSnapshot snap = MakeHost(16, 63, 16);  // 16 + 1008 + 16 = 1,040
  snap.devices.resize(1024);                 // exactly 1,024 devices
  FitHost host;
  host.table = DeviceTable(snap.devices);
  host.tags = snap.tags;
  host.topology = snap.topology;
  int i = 0;
  for (const LedgerDevice& d : snap.devices) {
    if (d.dev_type == DeviceType::kVf && i++ % 4 == 0) {
      (void)host.table.Allocate(d.address, "vm-x", "");
    }
  }
  const char* product = state.range(0) ? "20b0" : "154c";
  std::vector<PciRequest> reqs = {
      Req(product, static_cast<int>(state.range(1)))};
  FitOptions opt;
  opt.numa_cells = {0};
  for (auto _ : state) {
    FitResult r = Fit(host, reqs, opt);
    benchmark::DoNotOptimize(r.ok);
  }
  state.SetLabel(std::string(product == std::string("20b0") ? "gpu" : "vf") +
                 " x" + std::to_string(state.range(1)) + ", " +
                 std::to_string(snap.devices.size()) + " devices");
}
BENCHMARK(BM_FitOneRequest)
    ->Args({0, 1})
    ->Args({0, 8})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond);

void BM_ClaimRelease(benchmark::State& state) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("pcipass-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  HostSnapshot snap = MakeHost(4, 15, 0);  // 64 devices
  auto ledger = Ledger::OpenSqlite(dir + "/ledger.sqlite");
  if (!ledger.ok()) {
    state.SkipWithError(ledger.status().ToString().c_str());
    return;
  }
  (void)Reconcile(**ledger, snap);
  std::vector<PciRequest> reqs = {Req("154c", 2)};
  ClaimOptions co;
  co.instance = "vm-bench";
  co.detach = false;
  ReleaseOptions ro;
  ro.instance = "vm-bench";
  for (auto _ : state) {
    auto out = Claim(**ledger, snap, reqs, co);
    if (!out.ok() || !out->ok) {
      state.SkipWithError("claim failed");
      break;
    }
    state.PauseTiming();
    (void)Release(**ledger, snap, ro);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("claim of 2 VFs, 64-device host, WAL + synchronous=FULL");
  ledger->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ClaimRelease)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace pcipass::claims

BENCHMARK_MAIN();
