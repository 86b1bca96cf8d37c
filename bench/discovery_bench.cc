// Discover() on a generated host with >= 4096 functions (Google
// Benchmark). The end-to-end comparison with lspci is
// bench/list_vs_lspci.sh; this isolates the library cost per phase.
#include <benchmark/benchmark.h>

#include <memory>

#include "core/discovery.h"
#include "testing/fixture_tree.h"
#include "testing/host_generator.h"

namespace {

// Generated once (about 15 s on a loaded 2-core VM), shared by all runs.
const pcipass::testing::FixtureTree& BigHost() {
  static std::unique_ptr<pcipass::testing::FixtureTree> tree = [] {
    auto t = std::make_unique<pcipass::testing::FixtureTree>();
    pcipass::testing::HostShape shape;
    shape.sriov_pfs = 16;
    shape.vfs_per_pf = 256;
    pcipass::testing::GenerateHost(*t, shape);
    return t;
  }();
  return *tree;
}

void BM_Discover(benchmark::State& state) {
  const auto& tree = BigHost();
  pcipass::DiscoveryOptions opts;
  opts.lookup_names = state.range(0) != 0;
  opts.host_use = state.range(1) != 0;
  size_t n = 0;
  for (auto _ : state) {
    auto inv = pcipass::Discover(tree.host(), opts);
    if (!inv.ok()) {
      state.SkipWithError(inv.status().message().c_str());
      break;
    }
    n = inv->devices().size();
    benchmark::DoNotOptimize(n);
  }
  state.counters["functions"] = static_cast<double>(n);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Discover)
    ->ArgNames({"names", "host_use"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
