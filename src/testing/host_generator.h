// GenerateHost: a big synthetic host in a FixtureTree, for tests and
// benchmarks.
//
// The shape is a typical 2-socket GPU/NFV server: per socket a root bus
// (pci0000:00, pci0000:80) with one PCIe root port (pcieport, own IOMMU
// group) above every endpoint; GPUs with an HDA audio function sharing the
// GPU's group; SR-IOV NIC PFs (i40e) with up to 256 VFs each (each VF its
// own group, placed after the PF with ARI numbering, spilling onto the next
// bus); NVMe controllers (the first one holds the mounted root filesystem
// and swap); PCIe-to-PCI bridges with two conventional devices behind each,
// all three in one shared group; two host NICs with addresses and the
// default route; an ASPEED BMC VGA that is the boot VGA; optionally a VMD
// domain (10000:...) with one NVMe. NUMA node = socket. Everything is
// deterministic: the same shape gives the same tree.
#ifndef PCIPASS_TESTING_HOST_GENERATOR_H_
#define PCIPASS_TESTING_HOST_GENERATOR_H_

#include <string>

#include "testing/fixture_tree.h"

namespace pcipass::testing {

struct HostShape {
  int sockets = 2;
  int gpus = 8;          // each with an audio function (2 functions)
  int sriov_pfs = 4;     // NIC PFs, spread over sockets
  int vfs_per_pf = 256;  // created VFs per PF (totalvfs = max(this, 64))
  int nvme = 4;
  int bridges_with_shared_groups = 2;  // each: bridge + 2 devices, 1 group
  int host_nics = 2;                   // e1000e/igb with addresses (host use)
  bool boot_vga = true;                // ASPEED VGA with boot_vga=1
  bool vmd_domain = true;              // one NVMe in domain 10000
  bool iommu = true;  // dmar units and groups; false: no groups at all
  // Fraction of VFs bound to vfio-pci (the rest iavf), in percent.
  int vfio_vf_percent = 50;
};

struct GeneratedHost {
  int functions = 0;  // PCI functions created
  int groups = 0;     // IOMMU groups created
};

// Writes the host into |tree| (which should be empty). Aborts on fixture
// I/O errors like the builder.
GeneratedHost GenerateHost(const FixtureTree& tree, const HostShape& shape);

// Functions a shape produces (without writing anything).
int CountFunctions(const HostShape& shape);

}  // namespace pcipass::testing

#endif  // PCIPASS_TESTING_HOST_GENERATOR_H_
