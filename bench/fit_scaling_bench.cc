// Fit scaling (docs/performance.md, "fit: scaling with host size"): what
// `pcipass fit` does after discovery, at 256, 1,024, 4,096 and 16,384
// allowed devices (PFs with 63 VFs each, NICs' VFs in their own IOMMU
// groups, every eighth PF used by the host):
//  - BM_FitNoLedger: the devices a first reconcile would record
//    (UnrecordedDevices: every device added, host-used ones reserved), the
//    fit host, and Fit() of one "2 VFs" request (`fit` with no ledger);
//  - BM_FitWithLedger: one read-only reconcile of an in-memory SQLite
//    ledger that already holds every device, then the same Fit() (`fit`
//    with a ledger; every device goes through UpdateIdentity).
// Both must grow linearly: bench/fit_scaling.sh prints the log-log slope of
// the real binary, and these give the same figure without discovery.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "claims/fit.h"
#include "claims/service.h"
#include "store/ledger.h"

namespace pcipass::claims {
namespace {

// |n| devices: PFs with 63 VFs each (64 functions per PF) on buses from
// 0x01 up, PCI domain by thousands so the addresses stay valid.
HostSnapshot MakeHost(int n) {
  HostSnapshot s;
  int group = 1;
  char buf[32];
  for (int i = 0; i < n; ++i) {
    int pf_index = i / 64;
    int fn = i % 64;  // 0 = the PF, 1..63 its VFs
    unsigned domain = static_cast<unsigned>(pf_index / 128);
    unsigned bus = 1 + static_cast<unsigned>(pf_index % 128) * 2;
    std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%d", domain, bus + fn / 64,
                  (fn % 64) / 8, fn % 8);
    LedgerDevice d;
    d.address = *PciAddress::Parse(buf);
    d.vendor_id = 0x8086;
    d.product_id = fn == 0 ? 0x1572 : 0x154c;
    d.dev_type = fn == 0 ? DeviceType::kPf : DeviceType::kVf;
    if (fn != 0) {
      std::snprintf(buf, sizeof buf, "%04x:%02x:00.0", domain, bus);
      d.parent_addr = *PciAddress::Parse(buf);
    }
    d.numa_node = pf_index % 2;
    d.iommu_group = group++;
    d.driver = fn == 0 ? "i40e" : "vfio-pci";
    s.present.insert(d.address);
    s.tags[d.address] = {{"physical_network", "physnet1"}};
    if (fn == 0 && pf_index % 8 == 0) {
      s.host_use[d.address] = "netdev: ens1f0 has addresses";
    }
    s.devices.push_back(std::move(d));
  }
  s.topology.cell_socket = {{0, 0}, {1, 1}};
  return s;
}

std::vector<PciRequest> TwoVfs() {
  PciRequest r;
  r.alias_name = "nic-vf";
  r.count = 2;
  r.specs = {{{"vendor_id", "8086"}, {"product_id", "154c"}}};
  return {r};
}

void BM_FitNoLedger(benchmark::State& state) {
  HostSnapshot snap = MakeHost(static_cast<int>(state.range(0)));
  std::vector<PciRequest> reqs = TwoVfs();
  FitOptions opt;
  for (auto _ : state) {
    FitResult r = Fit(MakeFitHost(UnrecordedDevices(snap), snap), reqs, opt);
    if (!r.ok) state.SkipWithError("does not fit");
    benchmark::DoNotOptimize(r.ok);
  }
  state.SetComplexityN(state.range(0));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FitNoLedger)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(4096)
    ->Arg(16384)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

void BM_FitWithLedger(benchmark::State& state) {
  HostSnapshot snap = MakeHost(static_cast<int>(state.range(0)));
  auto ledger = Ledger::OpenSqlite(":memory:");
  if (!ledger.ok()) {
    state.SkipWithError(ledger.status().ToString().c_str());
    return;
  }
  if (!Reconcile(**ledger, snap).ok()) {
    state.SkipWithError("first reconcile failed");
    return;
  }
  std::vector<PciRequest> reqs = TwoVfs();
  FitOptions opt;
  for (auto _ : state) {
    // As cmd_fit.cc: reconcile and read inside a transaction that is
    // rolled back, then fit.
    std::vector<LedgerDevice> devices;
    Status s = (*ledger)->Transact([&](LedgerTxn& txn) -> Status {
      ReconcileReport drift;
      PCIPASS_RETURN_IF_ERROR(ReconcileIn(txn, snap, &drift));
      Result<std::vector<LedgerDevice>> d = txn.Devices();
      if (!d.ok()) return d.status();
      devices = std::move(*d);
      return Status::Conflict("read-only");
    });
    if (s.message() != "read-only") state.SkipWithError(s.ToString().c_str());
    FitResult r = Fit(MakeFitHost(std::move(devices), snap), reqs, opt);
    if (!r.ok) state.SkipWithError("does not fit");
    benchmark::DoNotOptimize(r.ok);
  }
  state.SetComplexityN(state.range(0));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FitWithLedger)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(4096)
    ->Arg(16384)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

}  // namespace
}  // namespace pcipass::claims

BENCHMARK_MAIN();
