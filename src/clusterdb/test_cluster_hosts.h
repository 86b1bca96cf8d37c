// Fixture hosts and the config for the cluster tests: small generated
// hosts (GPUs with their audio function in one IOMMU group, an SR-IOV PF
// with VFs) and device_spec/alias rules that select them.
#ifndef PCIPASS_CLUSTERDB_TEST_CLUSTER_HOSTS_H_
#define PCIPASS_CLUSTERDB_TEST_CLUSTER_HOSTS_H_

#include <memory>
#include <string>

#include "testing/fixture_tree.h"
#include "testing/host_generator.h"

namespace pcipass::clusterdb::testing {

inline constexpr const char kClusterConfig[] =
    "[pci]\n"
    "device_spec = {\"vendor_id\": \"10de\"}\n"
    "device_spec = {\"vendor_id\": \"8086\", \"product_id\": \"1572\", "
    "\"physical_network\": \"physnet1\"}\n"
    "device_spec = {\"vendor_id\": \"8086\", \"product_id\": \"154c\", "
    "\"physical_network\": \"physnet1\"}\n"
    "alias = {\"name\": \"gpu\", \"vendor_id\": \"10de\", \"product_id\": "
    "\"20b0\"}\n"
    "alias = {\"name\": \"vf\", \"vendor_id\": \"8086\", \"product_id\": "
    "\"154c\", \"device_type\": \"type-VF\"}\n"
    "alias = {\"name\": \"pf\", \"vendor_id\": \"8086\", \"product_id\": "
    "\"1572\", \"device_type\": \"type-PF\"}\n";

// A host with |gpus| GPUs and |pfs| PFs of |vfs| VFs each, nothing else
// that the rules allow; one host NIC (host use), no NVMe.
inline pcipass::testing::HostShape SmallShape(int gpus, int pfs, int vfs) {
  pcipass::testing::HostShape s;
  s.sockets = 2;
  s.gpus = gpus;
  s.sriov_pfs = pfs;
  s.vfs_per_pf = vfs;
  s.nvme = 0;
  s.bridges_with_shared_groups = 0;
  s.host_nics = 1;
  s.boot_vga = false;
  s.vmd_domain = false;
  return s;
}

}  // namespace pcipass::clusterdb::testing

#endif  // PCIPASS_CLUSTERDB_TEST_CLUSTER_HOSTS_H_
