// Fit: nova-pci-semantics.md section 12 rows 34-46 (pools, filters, NUMA,
// PF/VF dependency) with the documented fixes (B6, B7/B8, B11), plus
// IOMMU-group exclusivity and placement.
#include "claims/fit.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "claims/pools.h"

namespace pcipass::claims {
namespace {

PciAddress A(const std::string& s) { return *PciAddress::Parse(s); }

LedgerDevice Dev(const std::string& addr, uint16_t product,
                 std::optional<int> numa = std::nullopt,
                 DeviceType type = DeviceType::kPci,
                 std::optional<std::string> parent = std::nullopt,
                 std::optional<int> group = std::nullopt) {
  LedgerDevice d;
  d.address = A(addr);
  d.vendor_id = 0x8086;
  d.product_id = product;
  d.numa_node = numa;
  d.dev_type = type;
  if (parent) d.parent_addr = A(*parent);
  d.iommu_group = group;
  return d;
}

PciRequest Req(std::vector<RequestSpec> specs, int count,
               NumaPolicy policy = NumaPolicy::kLegacy,
               std::string alias = "a") {
  PciRequest r;
  r.alias_name = std::move(alias);
  r.count = count;
  r.specs = std::move(specs);
  r.numa_policy = policy;
  return r;
}

RequestSpec Product(const char* p) {
  return {{"vendor_id", "8086"}, {"product_id", p}};
}

FitHost Host(std::vector<LedgerDevice> devs,
             std::map<PciAddress, TagMap> tags = {}) {
  FitHost h;
  h.table = DeviceTable(std::move(devs));
  h.tags = std::move(tags);
  return h;
}

std::vector<std::string> Chosen(const FitResult& r) {
  std::vector<std::string> out;
  for (const Pick& p : r.picks) out.push_back(p.address.ToString());
  return out;
}

// Row 34/35 pools: v1@numa0 (2 devices), v2@numa1 (1), v3@null (1).
FitHost Row34Host() {
  return Host({Dev("0000:01:00.0", 0x0001, 0), Dev("0000:01:00.1", 0x0001, 0),
               Dev("0000:02:00.0", 0x0002, 1), Dev("0000:03:00.0", 0x0003)});
}

TEST(FitTest, Row34RequestsConsumeFromEachOtherAndFailureChangesNothing) {
  FitHost host = Row34Host();
  FitResult r =
      Fit(host, {Req({Product("0001")}, 1), Req({Product("0002")}, 3)}, {});
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.requests[0].ok);
  EXPECT_FALSE(r.requests[1].ok);
  EXPECT_EQ(r.requests[1].failed_step, "spec");
  EXPECT_TRUE(r.picks.empty());
  for (const auto& [a, d] : r.after.devices()) {
    EXPECT_EQ(d.state, DeviceState::kAvailable) << a.ToString();
  }
  // Two requests against one device: the second sees the first's take.
  FitResult twice =
      Fit(host, {Req({Product("0002")}, 1), Req({Product("0002")}, 1)}, {});
  EXPECT_FALSE(twice.ok);
  EXPECT_EQ(twice.requests[1].failed_step, "in_use");
}

TEST(FitTest, Row35NumaWithCells) {
  FitHost host = Row34Host();
  FitOptions cells0;
  cells0.numa_cells = {0};
  EXPECT_FALSE(
      Fit(host, {Req({Product("0001")}, 1), Req({Product("0002")}, 1)}, cells0)
          .ok);
  EXPECT_TRUE(Fit(host, {Req({Product("0003")}, 1)}, cells0).ok);
  FitResult req =
      Fit(host, {Req({Product("0003")}, 1, NumaPolicy::kRequired)}, cells0);
  EXPECT_FALSE(req.ok);
  EXPECT_EQ(req.requests[0].failed_step, "numa");
}

TEST(FitTest, Row36NumaPolicyTable) {
  // One device each on NUMA 0, NUMA 1 and none; host cells 0 and 1 on
  // socket 0, cell 2 on socket 1.
  FitHost host =
      Host({Dev("0000:10:00.0", 0x1111, 0), Dev("0000:11:00.0", 0x1111, 1),
            Dev("0000:12:00.0", 0x1111)});
  host.topology.cell_socket = {{0, 0}, {1, 0}, {2, 1}};
  const std::string n0 = "0000:10:00.0", n1 = "0000:11:00.0",
                    nn = "0000:12:00.0";
  struct Case {
    NumaPolicy policy;
    std::vector<int> cells;
    int count;
    std::vector<std::string> want;  // empty: FAIL
  } cases[] = {
      {NumaPolicy::kRequired, {0}, 1, {n0}},
      {NumaPolicy::kRequired, {0}, 2, {}},
      {NumaPolicy::kRequired, {2}, 1, {}},
      {NumaPolicy::kLegacy, {0}, 1, {n0}},
      {NumaPolicy::kLegacy, {0}, 2, {n0, nn}},
      {NumaPolicy::kLegacy, {0}, 3, {}},
      {NumaPolicy::kLegacy, {2}, 1, {nn}},
      {NumaPolicy::kLegacy, {5}, 1, {nn}},
      {NumaPolicy::kPreferred, {0}, 3, {n0, nn, n1}},
      {NumaPolicy::kPreferred, {5}, 1, {nn}},
      {NumaPolicy::kSocket, {0}, 2, {n0, n1}},
      {NumaPolicy::kSocket, {0}, 3, {}},
      {NumaPolicy::kSocket, {2}, 1, {}},
  };
  for (const Case& c : cases) {
    std::string name = std::string(NumaPolicyName(c.policy)) + " cells " +
                       std::to_string(c.cells[0]) + " count " +
                       std::to_string(c.count);
    FitOptions opt;
    opt.numa_cells = c.cells;
    FitResult r = Fit(host, {Req({Product("1111")}, c.count, c.policy)}, opt);
    EXPECT_EQ(r.ok, !c.want.empty()) << name;
    if (r.ok) {
      EXPECT_EQ(Chosen(r), c.want) << name;
    } else {
      EXPECT_EQ(r.requests[0].failed_step, "numa") << name;
    }
  }
}

TEST(FitTest, Row37SocketWithoutSocketInformation) {
  FitHost host =
      Host({Dev("0000:10:00.0", 0x1111, 0), Dev("0000:11:00.0", 0x1111, 1)});
  host.topology.cell_socket = {{0, std::nullopt}, {1, std::nullopt}};
  FitOptions opt;
  opt.numa_cells = {0};
  FitResult fail =
      Fit(host, {Req({Product("1111")}, 2, NumaPolicy::kSocket)}, opt);
  EXPECT_FALSE(fail.ok);
  EXPECT_NE(fail.requests[0].numa_note.find("no socket information"),
            std::string::npos);
  EXPECT_TRUE(
      Fit(host, {Req({Product("1111")}, 1, NumaPolicy::kSocket)}, opt).ok);
}

// One PF 0000:0a:00.0 (1528) with 4 VFs (1515).
std::vector<LedgerDevice> PfAndVfs(const std::string& bus = "0a", int vfs = 4,
                                   uint16_t pf_product = 0x1528,
                                   std::optional<int> numa = std::nullopt) {
  std::string pf = "0000:" + bus + ":00.0";
  std::vector<LedgerDevice> v = {Dev(pf, pf_product, numa, DeviceType::kPf)};
  for (int i = 1; i <= vfs; ++i) {
    v.push_back(Dev("0000:" + bus + ":00." + std::to_string(i), 0x1515, numa,
                    DeviceType::kVf, pf));
  }
  return v;
}

TEST(FitTest, Row38PfAndVfDependency) {
  FitHost host = Host(PfAndVfs());
  FitResult pf = Fit(host, {Req({{{"dev_type", "type-PF"}}}, 1)}, {});
  ASSERT_TRUE(pf.ok);
  EXPECT_EQ(Chosen(pf), std::vector<std::string>{"0000:0a:00.0"});
  EXPECT_EQ(pf.after.Find(A("0000:0a:00.1"))->state, DeviceState::kUnavailable);

  FitResult vfs = Fit(host, {Req({Product("1515")}, 2)}, {});
  ASSERT_TRUE(vfs.ok);
  EXPECT_EQ(Chosen(vfs),
            (std::vector<std::string>{"0000:0a:00.1", "0000:0a:00.2"}));
  EXPECT_EQ(vfs.after.Find(A("0000:0a:00.0"))->state,
            DeviceState::kUnavailable);
}

TEST(FitTest, Row39UnrequestedPfIsFiltered) {
  FitResult r = Fit(Host(PfAndVfs()), {Req({Product("1528")}, 1)}, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.requests[0].failed_step, "unrequested_pf");
}

TEST(FitTest, Row40OnlyVfsAreEligibleWhenPfsShareTheProduct) {
  std::vector<LedgerDevice> devs = PfAndVfs("0a", 4, 0x1515);
  for (const auto& d : PfAndVfs("0b", 4, 0x1515)) devs.push_back(d);
  FitHost host = Host(devs);
  FitResult nine = Fit(host, {Req({Product("1515")}, 9)}, {});
  EXPECT_FALSE(nine.ok);
  EXPECT_EQ(nine.requests[0].failed_step, "unrequested_pf");
  EXPECT_TRUE(Fit(host, {Req({Product("1515")}, 8)}, {}).ok);
}

TEST(FitTest, Row41VfPlusItsPfIsANoUpFront) {
  // Nova's scheduler says yes and the compute claim fails (B7) leaving the
  // PF pool lost (B8); here the fit says no and nothing is consumed.
  FitHost host = Host(PfAndVfs("0a", 2));
  FitResult r =
      Fit(host,
          {Req({Product("1515")}, 1), Req({{{"dev_type", "type-PF"}}}, 1)}, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.requests[1].failed_step, "dependency");
  EXPECT_NE(r.requests[1].message.find("0000:0a:00.0"), std::string::npos);
  EXPECT_EQ(r.after.Find(A("0000:0a:00.0"))->state, DeviceState::kAvailable);
  // A PF alone still fits afterwards: nothing was lost.
  EXPECT_TRUE(Fit(host, {Req({{{"dev_type", "type-PF"}}}, 1)}, {}).ok);
}

TEST(FitTest, Row42RemoteManaged) {
  std::vector<LedgerDevice> devs;
  std::map<PciAddress, TagMap> tags;
  for (int i = 1; i <= 2; ++i) {
    auto d = Dev("0000:20:00." + std::to_string(i), 0x101e, {}, DeviceType::kVf,
                 "0000:20:00.0");
    tags[d.address] = {{"remote_managed", "true"}};
    devs.push_back(d);
    auto e = Dev("0000:21:00." + std::to_string(i), 0x101d, {}, DeviceType::kVf,
                 "0000:21:00.0");
    tags[e.address] = {{"remote_managed", "false"}};
    devs.push_back(e);
  }
  FitHost host = Host(devs, tags);
  FitResult r =
      Fit(host,
          {Req({{{"product_id", "101e"}, {"remote_managed", "False"}}}, 1),
           Req({{{"product_id", "101e"}}}, 1)},
          {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.requests[0].failed_step, "spec");
  EXPECT_EQ(r.requests[1].failed_step, "remote_managed");
  FitResult ok = Fit(host, {Req({{{"remote_managed", "true"}}}, 2)}, {});
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(Chosen(ok),
            (std::vector<std::string>{"0000:20:00.1", "0000:20:00.2"}));
}

TEST(FitTest, Row43LiveMigratableWithUntaggedAsFalse) {
  auto lm = Dev("0000:30:00.0", 0xaaaa);
  auto plain = Dev("0000:31:00.0", 0xbbbb);
  FitHost host =
      Host({lm, plain}, {{lm.address, {{"live_migratable", "true"}}}});
  RequestSpec want_true = {{"live_migratable", "true"}};
  RequestSpec want_false = {{"live_migratable", "false"}};
  struct Case {
    const char* name;
    std::vector<RequestSpec> specs;
    int count;
    bool ok;
  } cases[] = {
      {"true x1", {want_true}, 1, true},
      {"true x2", {want_true}, 2, false},
      {"false x1 (B6: Nova says no)", {want_false}, 1, true},
      {"unset x2", {RequestSpec{{"vendor_id", "8086"}}}, 2, true},
  };
  for (const Case& c : cases) {
    FitResult r = Fit(host, {Req(c.specs, c.count)}, {});
    EXPECT_EQ(r.ok, c.ok) << c.name;
  }
  FitResult f = Fit(host, {Req({want_false}, 1)}, {});
  EXPECT_EQ(Chosen(f), std::vector<std::string>{"0000:31:00.0"});
}

TEST(FitTest, Rows44To46SpecMatching) {
  auto vf = Dev("0000:40:00.1", 0x1515, {}, DeviceType::kVf, "0000:40:00.0");
  auto pci = Dev("0000:41:00.0", 0x1521);
  TagMap vf_tags = {{"physical_network", "PhysNet1"}};
  TagMap pci_tags = {{"physical_network", "p"}};
  PoolKey vf_key = MakePoolKey(vf, vf_tags);
  PoolKey pci_key = MakePoolKey(pci, pci_tags);
  PoolKey untagged_vf = MakePoolKey(vf, {});
  struct Case {
    const char* name;
    RequestSpec spec;
    const PoolKey* key;
    bool want;
  } cases[] = {
      {"44 capability_type",
       {{"vendor_id", "8086"}, {"capability_type", "pci"}},
       &pci_key,
       false},
      {"45 neutron vs type-PCI",
       {{"physical_network", "p"}, {"remote_managed", "False"}},
       &pci_key,
       false},
      {"45 case-insensitive physnet",
       {{"physical_network", "physnet1"}, {"remote_managed", "False"}},
       &vf_key,
       true},
      {"46 null physnet vs untagged VF",
       {{"physical_network", std::nullopt}, {"remote_managed", "False"}},
       &untagged_vf,
       true},
      {"46 alias spec vs tagged VF (B13)", Product("1515"), &vf_key, true},
      {"resource_class ignored",
       {{"vendor_id", "8086"}, {"resource_class", "CUSTOM_X"}},
       &pci_key,
       true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SpecMatches(c.spec, *c.key), c.want) << c.name;
  }
}

TEST(FitTest, LegacyPrefersLocalOverNoNumaB11) {
  // Nova: pools [null(3), numa0(1)], count 2, legacy -> two null devices.
  FitHost host =
      Host({Dev("0000:50:00.0", 0x1111), Dev("0000:50:00.1", 0x1111),
            Dev("0000:50:00.2", 0x1111), Dev("0000:51:00.0", 0x1111, 0)});
  FitOptions opt;
  opt.numa_cells = {0};
  FitResult r = Fit(host, {Req({Product("1111")}, 2)}, opt);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(Chosen(r),
            (std::vector<std::string>{"0000:51:00.0", "0000:50:00.0"}));
}

TEST(FitTest, PackKeepsWholePfsFreeAndSpreadBalances) {
  std::vector<LedgerDevice> devs = PfAndVfs("0a", 4);
  for (const auto& d : PfAndVfs("0b", 4)) devs.push_back(d);
  FitHost host = Host(devs);
  // Another VM already holds a VF of the second PF.
  ASSERT_TRUE(host.table.Allocate(A("0000:0b:00.1"), "vm-x", "").ok());
  FitOptions pack;
  FitResult p = Fit(host, {Req({Product("1515")}, 2)}, pack);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(Chosen(p),
            (std::vector<std::string>{"0000:0b:00.2", "0000:0b:00.3"}));
  // The first PF stays whole, so a PF request still fits.
  FitHost after = host;
  after.table = p.after;
  EXPECT_TRUE(Fit(after, {Req({{{"dev_type", "type-PF"}}}, 1)}, {}).ok);

  FitOptions spread;
  spread.placement = Placement::kSpread;
  // Least-loaded PF first (ties by address): 0a has 0 held, then 1:1,
  // then 0b has fewer.
  FitResult s = Fit(host, {Req({Product("1515")}, 3)}, spread);
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(Chosen(s), (std::vector<std::string>{"0000:0a:00.1", "0000:0a:00.2",
                                                 "0000:0b:00.2"}));
}

TEST(FitTest, GroupRules) {
  FitHost host =
      Host({Dev("0000:60:00.0", 0x2222, {}, DeviceType::kPci, {}, 5),
            Dev("0000:60:00.1", 0x2222, {}, DeviceType::kPci, {}, 5),
            Dev("0000:61:00.0", 0x2222, {}, DeviceType::kPci, {}, 6)});
  host.group_outsiders[6] = {"0000:61:00.1 (e1000e)"};
  // Group 6 holds a device the rules do not allow: only group 5 is usable,
  // and one VM may take both its members.
  FitResult two = Fit(host, {Req({Product("2222")}, 2)}, {});
  ASSERT_TRUE(two.ok);
  EXPECT_EQ(Chosen(two),
            (std::vector<std::string>{"0000:60:00.0", "0000:60:00.1"}));
  FitResult three = Fit(host, {Req({Product("2222")}, 3)}, {});
  EXPECT_FALSE(three.ok);
  EXPECT_EQ(three.requests[0].failed_step, "group");
  EXPECT_NE(three.requests[0].message.find("0000:61:00.1 (e1000e)"),
            std::string::npos)
      << three.requests[0].message;
  // Another VM holding a group mate blocks the group.
  ASSERT_TRUE(host.table.Allocate(A("0000:60:00.0"), "vm-x", "").ok());
  FitOptions opt;
  opt.instance = "vm-y";
  FitResult blocked = Fit(host, {Req({Product("2222")}, 1)}, opt);
  EXPECT_FALSE(blocked.ok);
  EXPECT_EQ(blocked.requests[0].failed_step, "group");
  opt.instance = "vm-x";
  EXPECT_TRUE(Fit(host, {Req({Product("2222")}, 1)}, opt).ok);
}

TEST(FitTest, EmptyRequestListIsNotAFit) {
  EXPECT_FALSE(Fit(Row34Host(), {}, {}).ok);
}

TEST(PlacementTest, Parse) {
  EXPECT_EQ(*ParsePlacement("pack"), Placement::kPack);
  EXPECT_EQ(*ParsePlacement("spread"), Placement::kSpread);
  auto bad = ParsePlacement("Spread");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'Spread'"), std::string::npos);
}

TEST(NumaTest, ParseLists) {
  EXPECT_EQ(*ParseCpuList("0-2,5\n"), (std::vector<int>{0, 1, 2, 5}));
  EXPECT_TRUE(ParseCpuList("")->empty());
  for (const char* bad : {"3-1", "a", "1,,2", "-1"}) {
    EXPECT_FALSE(ParseCpuList(bad).ok()) << bad;
  }
  EXPECT_EQ(*ParseNumaCells("0,1"), (std::vector<int>{0, 1}));
  for (const char* bad : {"", "0,0", "x", "-1", "0,"}) {
    auto r = ParseNumaCells(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

// Rows 47-50 are Nova's pool bookkeeping and Placement internals; pcipass's
// documented replacements (docs/design.md):
// 47: pools are derived from the device table on every fit, so nothing is
//     left behind with count 0 and a failed fit changes no state.
TEST(FitTest, Row47NoPoolBookkeepingLeftBehind) {
  FitHost host =
      Host({Dev("0000:01:00.0", 0x0001), Dev("0000:02:00.0", 0x0001)});
  FitResult one = Fit(host, {Req({Product("0001")}, 1)}, {});
  ASSERT_TRUE(one.ok);
  size_t taken = 0;
  for (const auto& [a, d] : one.after.devices()) {
    if (d.state != DeviceState::kAvailable) ++taken;
  }
  EXPECT_EQ(taken, 1u);
  // The input table is untouched: fit is pure.
  for (const auto& [a, d] : host.table.devices()) {
    EXPECT_EQ(d.state, DeviceState::kAvailable) << a.ToString();
  }
}

// 48: Nova takes the last-added device of a pool (LIFO, depends on the
//     order devices were discovered); pcipass takes the lowest address, so
//     the same host state always gives the same answer.
TEST(FitTest, Row48DeterministicOrderNotLifo) {
  std::vector<LedgerDevice> devs = {
      Dev("0000:0a:00.1", 0x10ed, std::nullopt, DeviceType::kPci),
      Dev("0000:0a:00.2", 0x10ed), Dev("0000:0a:00.3", 0x10ed)};
  FitResult fwd = Fit(Host(devs), {Req({Product("10ed")}, 1)}, {});
  std::reverse(devs.begin(), devs.end());
  FitResult rev = Fit(Host(devs), {Req({Product("10ed")}, 1)}, {});
  EXPECT_EQ(Chosen(fwd), std::vector<std::string>{"0000:0a:00.1"});
  EXPECT_EQ(Chosen(rev), Chosen(fwd)) << "insertion order must not matter";
}

// 49/50: Placement resource-provider mappings (rp_uuids, request-to-RP
//     mapping) do not exist in pcipass; such keys in a request spec never
//     narrow or widen the match, so the fit is the same with and without.
TEST(FitTest, Rows49And50PlacementKeysIgnored) {
  FitHost host =
      Host({Dev("0000:01:00.0", 0x0001), Dev("0000:02:00.0", 0x0001)});
  RequestSpec with_rp = Product("0001");
  with_rp["rp_uuids"] = "pf1,pf2";
  FitResult a = Fit(host, {Req({Product("0001")}, 2)}, {});
  FitResult b = Fit(host, {Req({with_rp}, 2)}, {});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(b.ok, a.ok);
  EXPECT_EQ(Chosen(b), Chosen(a));
}

}  // namespace
}  // namespace pcipass::claims
