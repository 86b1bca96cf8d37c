#include "cluster/summary.h"

#include <gtest/gtest.h>

#include "cluster/synthetic.h"
#include "cluster/test_cluster.h"

namespace pcipass::cluster {
namespace {

using testing::Addr;
using testing::Identity;
using testing::InventoryBuilder;

const AliasTable& Aliases() {
  static const AliasTable kAliases = synthetic::Aliases();
  return kAliases;
}

TEST(Summarize, CountsClaimableGpusPerNumaNode) {
  HostInventory inv = InventoryBuilder()
                          .Gpu(0x40, 0)
                          .Gpu(0x41, 0)
                          .Gpu(0x42, 1)
                          .Gpu(0x43, std::nullopt)
                          .Hold(Addr(0x41))
                          .Build();
  HostSummary s = Summarize(Identity("h1"), inv, Aliases());
  const AliasCapacity& gpu = s.aliases.at("gpu");
  EXPECT_EQ(gpu.claimable, 3);
  EXPECT_EQ(gpu.by_numa, (std::map<int, int>{{kNoNuma, 1}, {0, 1}, {1, 1}}));
  EXPECT_EQ(s.aliases.at("nic-vf").claimable, 0);  // every alias listed
  EXPECT_EQ(s.devices_total, 4);
  EXPECT_EQ(s.devices_free, 3);
  EXPECT_EQ(s.cell_socket.size(), 2u);
}

TEST(Summarize, HeldVfMakesItsPfNotWhollyFree) {
  HostInventory inv = InventoryBuilder()
                          .Nic(0x10, 4, 0)
                          .Nic(0x11, 2, 1)
                          .Hold(Addr(0x10, 0, 1))
                          .Build();
  HostSummary s = Summarize(Identity("h1"), inv, Aliases());
  EXPECT_EQ(s.aliases.at("nic-vf").claimable, 3 + 2);
  EXPECT_EQ(s.aliases.at("nic-pf").claimable, 1);  // only 0x11 is whole
  EXPECT_EQ(s.aliases.at("nic-pf").by_numa, (std::map<int, int>{{1, 1}}));
  ASSERT_EQ(s.pfs.size(), 2u);
  EXPECT_EQ(s.pfs[0].pf, Addr(0x10));
  EXPECT_EQ(s.pfs[0].vfs_total, 4);
  EXPECT_EQ(s.pfs[0].vfs_free, 3);
  EXPECT_FALSE(s.pfs[0].wholly_free);
  EXPECT_TRUE(s.pfs[1].wholly_free);
  EXPECT_EQ(s.pfs[1].vfs_free, 2);
}

TEST(Summarize, HeldPfTakesAllItsVfs) {
  HostInventory inv =
      InventoryBuilder().Nic(0x10, 4, 0).Hold(Addr(0x10)).Build();
  HostSummary s = Summarize(Identity("h1"), inv, Aliases());
  EXPECT_EQ(s.aliases.at("nic-vf").claimable, 0);
  EXPECT_EQ(s.aliases.at("nic-pf").claimable, 0);
  EXPECT_EQ(s.pfs[0].vfs_free, 0);
  EXPECT_EQ(s.devices_free, 0);
}

TEST(Summarize, IommuGroupHeldByAnotherInstanceBlocksItsMates) {
  HostInventory inv = InventoryBuilder()
                          .Gpu(0x40, 0, 7)
                          .Gpu(0x41, 0, 7)
                          .Gpu(0x42, 1, 8)
                          .Gpu(0x43, 1, 8)
                          .Hold(Addr(0x40), "vm-a")
                          .Build();
  HostSummary s = Summarize(Identity("h1"), inv, Aliases());
  // 0x41 shares group 7 with a device vm-a holds; group 8 is whole and a
  // new instance may take both of its members.
  EXPECT_EQ(s.aliases.at("gpu").claimable, 2);
  ASSERT_EQ(s.groups.size(), 2u);
  EXPECT_EQ(s.groups[0].group, 7);
  EXPECT_EQ(s.groups[0].free_members, 0);
  EXPECT_NE(s.groups[0].blocked_by.find("0000:40:00.0"), std::string::npos);
  EXPECT_NE(s.groups[0].blocked_by.find("vm-a"), std::string::npos);
  EXPECT_EQ(s.groups[1].free_members, 2);
  EXPECT_EQ(s.groups[1].blocked_by, "");
}

TEST(Summarize, GroupOutsiderBlocksTheGroup) {
  HostInventory inv = InventoryBuilder()
                          .Gpu(0x40, 0, 7)
                          .Gpu(0x42, 1)
                          .Outsider(7, "0000:40:00.1 (snd_hda_intel)")
                          .Build();
  HostSummary s = Summarize(Identity("h1"), inv, Aliases());
  EXPECT_EQ(s.aliases.at("gpu").claimable, 1);
  EXPECT_EQ(s.groups[0].blocked_by,
            "0000:40:00.1 (snd_hda_intel) is outside the device_spec rules");
}

// The summary's count is exactly what Fit keeps before its NUMA step: a
// request for one more than claimable fails at a device step, never at
// numa or count.
TEST(Summarize, CountsMatchFitsDeviceStepsOnSyntheticHosts) {
  synthetic::Options o;
  o.hosts = 40;
  o.seed = 5;
  for (const synthetic::Host& h : synthetic::GenerateCluster(o)) {
    claims::FitHost fit = MakeFitHost(h.inventory);
    HostSummary s = Summarize(h.identity, fit, Aliases());
    for (const auto& [name, cap] : s.aliases) {
      std::vector<PciRequest> more = {
          synthetic::AliasRequest(Aliases(), name, cap.claimable + 1)};
      claims::FitResult r = claims::Fit(fit, more, {});
      ASSERT_FALSE(r.ok) << h.identity.host << " " << name;
      EXPECT_NE(r.requests[0].failed_step, "numa");
      EXPECT_NE(r.requests[0].failed_step, "count");
      ASSERT_FALSE(r.requests[0].steps.empty());
      EXPECT_EQ(r.requests[0].steps.back().after,
                static_cast<size_t>(cap.claimable))
          << h.identity.host << " " << name;
    }
  }
}

TEST(SummaryJson, RoundTrips) {
  HostInventory inv = InventoryBuilder()
                          .Gpu(0x40, 0, 7)
                          .Gpu(0x41, std::nullopt, 7)
                          .Nic(0x10, 3, 1)
                          .Hold(Addr(0x10, 0, 2))
                          .Build();
  HostSummary s = Summarize(Identity("h1", 77, {"CUSTOM_GPU", "ssd"}, "az1"),
                            inv, Aliases());
  s.cell_socket[2] = std::nullopt;
  auto back = SummaryFromJson(SummaryToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
}

TEST(SummaryJson, RejectsWhatToJsonWouldNotWrite) {
  HostSummary s = Summarize(Identity("h1"),
                            InventoryBuilder().Gpu(0x40, 0).Build(), Aliases());
  nlohmann::json good = SummaryToJson(s);

  nlohmann::json j = good;
  j.erase("host");
  auto r = SummaryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'host'"), std::string::npos);

  j = good;
  j["aliases"]["gpu"]["claimable"] = 5;  // by_numa sums to 1
  r = SummaryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("aliases.gpu"), std::string::npos);
  EXPECT_NE(r.status().message().find("sum of by_numa (1), got 5"),
            std::string::npos);

  j = good;
  j["aliases"]["gpu"]["by_numa"] = {{"zero", 1}};
  r = SummaryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'zero'"), std::string::npos);

  j = good;
  j["pfs"] = {{{"pf", "not-an-address"}}};
  r = SummaryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pfs.pf"), std::string::npos);

  // Wrong types in optional fields are errors naming the field, not a
  // type_error exception out of json::value().
  j = good;
  j["pfs"] = {{{"pf", "0000:01:00.0"}, {"vfs_total", "8"}}};
  r = SummaryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pfs.vfs_total"), std::string::npos);
  j["pfs"] = {{{"pf", "0000:01:00.0"}, {"wholly_free", 1}}};
  r = SummaryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pfs.wholly_free"), std::string::npos);
  j = good;
  j["groups"] = {{{"group", 3}, {"free_members", -1}}};
  r = SummaryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("groups.free_members"),
            std::string::npos);
  j = good;
  j["devices_total"] = 18446744073709551615u;  // reads as -1 in int64
  r = SummaryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("devices_total"), std::string::npos);
  j["devices_total"] = 99999999999;
  r = SummaryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("devices_total"), std::string::npos);

  EXPECT_FALSE(SummaryFromJson(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace pcipass::cluster
