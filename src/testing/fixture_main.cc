// pcipass-fixture: writes a synthetic host (sysfs + procfs) into DIR.
//
//   pcipass-fixture DIR [--sockets N] [--gpus N] [--sriov-pfs N]
//       [--vfs-per-pf N] [--nvme N] [--shared-bridges N] [--host-nics N]
//       [--no-iommu] [--no-vmd] [--no-boot-vga] [--vfio-vf-percent P]
//
// Then `pcipass --root DIR list` (or lspci -A linux-sysfs -O
// sysfs.path=DIR/sys) reads it like a live host. DIR must be empty or
// absent. Prints the number of functions and groups created.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "testing/fixture_tree.h"
#include "testing/host_generator.h"

namespace {

int Usage(const char* why) {
  std::fprintf(stderr,
               "pcipass-fixture: %s\n"
               "usage: pcipass-fixture DIR [--sockets N] [--gpus N] "
               "[--sriov-pfs N] [--vfs-per-pf N] [--nvme N] "
               "[--shared-bridges N] [--host-nics N] [--vfio-vf-percent P] "
               "[--no-iommu] [--no-vmd] [--no-boot-vga]\n",
               why);
  return 2;
}

bool ParseCount(const char* text, int max, int* out) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (!end || *end || v < 0 || v > max) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using pcipass::testing::HostShape;
  HostShape shape;
  std::string dir;
  struct Flag {
    const char* name;
    int* value;
    int max;
  } flags[] = {
      {"--sockets", &shape.sockets, 2},
      {"--gpus", &shape.gpus, 24},
      {"--sriov-pfs", &shape.sriov_pfs, 64},
      {"--vfs-per-pf", &shape.vfs_per_pf, 256},
      {"--nvme", &shape.nvme, 24},
      {"--shared-bridges", &shape.bridges_with_shared_groups, 12},
      {"--host-nics", &shape.host_nics, 8},
      {"--vfio-vf-percent", &shape.vfio_vf_percent, 100},
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-iommu") {
      shape.iommu = false;
    } else if (a == "--no-vmd") {
      shape.vmd_domain = false;
    } else if (a == "--no-boot-vga") {
      shape.boot_vga = false;
    } else if (a == "-h" || a == "--help") {
      Usage("write a synthetic PCI host tree");
      return 0;
    } else if (a.rfind("--", 0) == 0) {
      bool found = false;
      for (Flag& f : flags) {
        if (a != f.name) continue;
        found = true;
        if (i + 1 >= argc) return Usage((a + " needs a value").c_str());
        if (!ParseCount(argv[++i], f.max, f.value)) {
          return Usage((a + " takes 0.." + std::to_string(f.max) + ", got '" +
                        argv[i] + "'")
                           .c_str());
        }
      }
      if (!found) return Usage(("unknown flag " + a).c_str());
    } else if (dir.empty()) {
      dir = a;
    } else {
      return Usage(("unexpected argument " + a).c_str());
    }
  }
  if (dir.empty()) return Usage("DIR is required");
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    return Usage((dir + " exists and is not empty").c_str());
  }
  if (pcipass::testing::CountFunctions(shape) > 20000) {
    return Usage("shape too large (over 20,000 functions)");
  }
  pcipass::testing::FixtureTree tree{std::filesystem::path(dir)};
  auto made = pcipass::testing::GenerateHost(tree, shape);
  std::printf("%d functions, %d IOMMU groups in %s\n", made.functions,
              made.groups, dir.c_str());
  return 0;
}
