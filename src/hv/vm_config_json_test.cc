#include "hv/vm_config_json.h"

#include <gtest/gtest.h>

#include <vector>

namespace pcipass::hv {
namespace {

PciAddress Addr(const char* text) { return *PciAddress::Parse(text); }

TEST(VmConfigJsonTest, Fields) {
  std::vector<HostdevAssignment> v(2);
  v[0].host = Addr("0000:81:00.1");
  v[0].id = "hostdev0";
  v[0].pci_alias = "gpu";
  v[0].guest = Addr("0000:00:05.0");
  v[1].host = Addr("0000:0a:00.1");
  v[1].id = "net0";
  v[1].dev_type = DeviceType::kVf;
  v[1].as_interface = true;
  v[1].mac = "52:54:00:AA:BB:CC";
  v[1].vlan = 7;
  v[1].managed = false;
  Result<nlohmann::json> j = VmConfigJson("vm-1", v);
  ASSERT_TRUE(j.ok()) << j.status().message();
  const nlohmann::json& d0 = (*j)["devices"][0];
  const nlohmann::json& d1 = (*j)["devices"][1];
  EXPECT_EQ((*j)["instance"], "vm-1");
  EXPECT_EQ(d0["host_address"], "0000:81:00.1");
  EXPECT_EQ(d0["guest_address"], "0000:00:05.0");
  EXPECT_EQ(d0["dev_type"], "type-PCI");
  EXPECT_EQ(d0["pci_alias"], "gpu");
  EXPECT_EQ(d0["form"], "hostdev");
  EXPECT_TRUE(d0["mac"].is_null());
  EXPECT_TRUE(d0["vlan"].is_null());
  EXPECT_EQ(d0["managed"], true);
  EXPECT_EQ(d0["libvirt_alias"], "ua-hostdev0");
  EXPECT_EQ(d0["qemu_device"],
            "vfio-pci,host=0000:81:00.1,id=hostdev0,bus=pcie.0,addr=0x05.0");
  EXPECT_EQ(d0["libvirt_xml"].get<std::string>().rfind("<hostdev ", 0), 0u);
  EXPECT_EQ(d1["form"], "interface");
  EXPECT_EQ(d1["mac"], "52:54:00:aa:bb:cc");
  EXPECT_EQ(d1["vlan"], 7);
  EXPECT_EQ(d1["managed"], false);
  EXPECT_TRUE(d1["pci_alias"].is_null());
  EXPECT_TRUE(d1["guest_address"].is_null());
  EXPECT_EQ((*j)["qemu_args"].size(), 4u);
  EXPECT_EQ((*j)["notes"].size(), 1u);
}

TEST(VmConfigJsonTest, RefusesWhatTheOthersRefuse) {
  HostdevAssignment d;
  d.host = Addr("0000:81:00.1");
  d.id = "hostdev0";
  d.vlan = 3;  // not an interface
  Result<nlohmann::json> j = VmConfigJson("vm-1", {&d, 1});
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("0000:81:00.1"), std::string::npos);
}

}  // namespace
}  // namespace pcipass::hv
