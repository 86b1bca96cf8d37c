// Test-only snapshots of small and big hosts for the claims tests.
#ifndef PCIPASS_CLAIMS_TEST_HOSTS_H_
#define PCIPASS_CLAIMS_TEST_HOSTS_H_

#include <string>

#include "claims/service.h"

namespace pcipass::claims::testhosts {

inline PciAddress A(const std::string& s) { return *PciAddress::Parse(s); }

inline void AddDevice(HostSnapshot* snap, const std::string& addr,
                      uint16_t vendor, uint16_t product, DeviceType type,
                      std::optional<std::string> parent,
                      std::optional<int> numa, std::optional<int> group,
                      const char* driver, TagMap tags = {}) {
  LedgerDevice d;
  d.address = A(addr);
  d.vendor_id = vendor;
  d.product_id = product;
  d.dev_type = type;
  if (parent) d.parent_addr = A(*parent);
  d.numa_node = numa;
  d.iommu_group = group;
  if (driver) d.driver = driver;
  snap->devices.push_back(d);
  snap->tags[d.address] = std::move(tags);
  snap->present.insert(d.address);
}

// PF (8086:1528) with |vfs| VFs (8086:1515) tagged physnet1, one group each.
inline void AddPf(HostSnapshot* snap, int bus, int vfs, int numa,
                  int first_group) {
  char pf[32];
  snprintf(pf, sizeof pf, "0000:%02x:00.0", bus);
  AddDevice(snap, pf, 0x8086, 0x1528, DeviceType::kPf, std::nullopt, numa,
            first_group, "ixgbe", {{"physical_network", "physnet1"}});
  for (int i = 1; i <= vfs; ++i) {
    char vf[32];
    snprintf(vf, sizeof vf, "0000:%02x:%02x.%d", bus, i / 8, i % 8);
    AddDevice(snap, vf, 0x8086, 0x1515, DeviceType::kVf, std::string(pf), numa,
              first_group + i, "ixgbevf", {{"physical_network", "physnet1"}});
  }
}

// One PF 0000:3b:00.0 with 4 VFs on NUMA 0; GPUs 0000:41:00.0 and
// 0000:42:00.0 (10de:20b0, managed=true) on NUMA 1.
inline HostSnapshot SmallHost() {
  HostSnapshot s;
  AddPf(&s, 0x3b, 4, 0, 10);
  AddDevice(&s, "0000:41:00.0", 0x10de, 0x20b0, DeviceType::kPci, std::nullopt,
            1, 50, "nouveau", {{"managed", "true"}});
  AddDevice(&s, "0000:42:00.0", 0x10de, 0x20b0, DeviceType::kPci, std::nullopt,
            1, 51, "nouveau", {{"managed", "true"}});
  s.topology.cell_socket = {{0, 0}, {1, 1}};
  return s;
}

// 4 PFs with 8 VFs each (NUMA 0 and 1), 4 GPUs of which two share group 90.
inline HostSnapshot BigHost() {
  HostSnapshot s;
  for (int p = 0; p < 4; ++p) AddPf(&s, 0x10 + p, 8, p % 2, 100 + 10 * p);
  AddDevice(&s, "0000:81:00.0", 0x10de, 0x20b0, DeviceType::kPci, std::nullopt,
            1, 90, "nouveau");
  AddDevice(&s, "0000:81:00.1", 0x10de, 0x20b0, DeviceType::kPci, std::nullopt,
            1, 90, "nouveau");
  AddDevice(&s, "0000:82:00.0", 0x10de, 0x20b0, DeviceType::kPci, std::nullopt,
            0, 91, "nouveau");
  AddDevice(&s, "0000:83:00.0", 0x10de, 0x20b0, DeviceType::kPci, std::nullopt,
            0, 92, "nouveau");
  s.topology.cell_socket = {{0, 0}, {1, 1}};
  return s;
}

inline void DropDevice(HostSnapshot* s, const PciAddress& a) {
  std::erase_if(s->devices,
                [&](const LedgerDevice& d) { return d.address == a; });
  s->tags.erase(a);
  s->host_use.erase(a);
  s->present.erase(a);
}

// A request for |count| devices with product |product| (and dev_type).
inline PciRequest Request(const std::string& alias, int count,
                          const std::string& product,
                          const std::string& dev_type = "") {
  PciRequest r;
  r.alias_name = alias;
  r.count = count;
  RequestSpec spec = {{"product_id", product}};
  if (!dev_type.empty()) spec["dev_type"] = dev_type;
  r.specs = {spec};
  return r;
}

}  // namespace pcipass::claims::testhosts

#endif  // PCIPASS_CLAIMS_TEST_HOSTS_H_
