#include "clusterdb/scheduler.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <set>
#include <thread>

#include "claims/session.h"
#include "clusterdb/agent.h"
#include "clusterdb/test_cluster_hosts.h"
#include "clusterdb/test_pg.h"
#include "select/config.h"

namespace pcipass::clusterdb {
namespace {

using nlohmann::json;
using testing::TestDatabase;

// Real agents on generated fixture roots (discovery + rules), and
// schedulers in-process, on one PostgreSQL database.
class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PCIPASS_REQUIRE_PG();
    ASSERT_EQ(db_.error(), "");
    config_tree_.WriteFile("pcipass.conf", testing::kClusterConfig);
    ConfigLoad load =
        ParseConfig(testing::kClusterConfig, "pcipass.conf", HostRoot("/"));
    ASSERT_TRUE(load.ok()) << load.errors.front().message();
    aliases_ = load.config.aliases;
  }

  // Generates a host tree and registers it with a real agent (one tick).
  void AddHost(const std::string& name, int gpus, int pfs, int vfs) {
    auto tree = std::make_unique<pcipass::testing::FixtureTree>();
    pcipass::testing::GenerateHost(*tree, testing::SmallShape(gpus, pfs, vfs));
    AgentOptions o;
    o.conninfo = db_.conninfo();
    o.host_name = name;
    o.aggregates = {name == "h3" ? "rack-b" : "rack-a"};
    claims::SessionOptions so;
    so.host = tree->host();
    so.config_path = config_tree_.Abs("pcipass.conf").string();
    so.state_dir = tree->Abs("state").string();
    so.create_ledger = false;
    o.snapshot = [so]() -> Result<claims::HostSnapshot> {
      Result<claims::Session> s = claims::OpenSession(so);
      if (!s.ok()) return s.status();
      return std::move(s->snapshot);
    };
    auto agent = Agent::Start(std::move(o));
    ASSERT_TRUE(agent.ok()) << agent.status().ToString();
    auto tick = (*agent)->Tick();
    ASSERT_TRUE(tick.ok()) << tick.status().ToString();
    EXPECT_TRUE(tick->pushed);
    agents_.push_back(std::move(*agent));
    trees_.push_back(std::move(tree));
  }

  std::unique_ptr<Scheduler> StartScheduler() {
    SchedulerOptions o;
    o.conninfo = db_.conninfo();
    o.listen_port = 0;
    o.aliases = aliases_;
    o.http_threads = 4;
    o.poll_interval_ms = 200;
    o.sweep_interval_ms = 200;
    auto s = Scheduler::Start(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  TestDatabase db_;
  pcipass::testing::FixtureTree config_tree_;
  AliasTable aliases_;
  std::vector<std::unique_ptr<pcipass::testing::FixtureTree>> trees_;
  std::vector<std::unique_ptr<Agent>> agents_;
};

TEST_F(SchedulerTest, PlacesOverRestConfirmsThroughTheAgentAndReleases) {
  AddHost("h1", 2, 1, 4);
  AddHost("h2", 4, 0, 0);
  auto sched = StartScheduler();
  ASSERT_TRUE(sched);
  httplib::Client cli("127.0.0.1", sched->port());
  auto r = cli.Post("/v1/placements",
                    R"({"id": "p1", "instance": "vm-1", "request": "gpu:3"})",
                    "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  json p = json::parse(r->body);
  EXPECT_EQ(p["host"], "h2");  // only h2 has 3 GPUs
  EXPECT_EQ(p["status"], "reserved");
  ASSERT_EQ(p["devices"].size(), 3u);
  // Same id again: the same placement, not a second one.
  auto again =
      cli.Post("/v1/placements",
               R"({"id": "p1", "instance": "vm-1", "request": "gpu:3"})",
               "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(json::parse(again->body)["devices"], p["devices"]);
  // h2's agent confirms after its (here: skipped) hand-off.
  auto tick = agents_[1]->Tick();
  ASSERT_TRUE(tick.ok());
  EXPECT_EQ(tick->confirmed, std::vector<std::string>{"p1"});
  auto got = cli.Get("/v1/placements/p1");
  ASSERT_TRUE(got);
  EXPECT_EQ(json::parse(got->body)["status"], "confirmed");
  // 2 GPUs remain on h1 and 1 on h2: a request of 3 is refused with the
  // per-filter breakdown.
  auto no =
      cli.Post("/v1/placements", R"({"instance": "vm-2", "request": "gpu:3"})",
               "application/json");
  ASSERT_TRUE(no);
  EXPECT_EQ(no->status, 409) << no->body;
  json err = json::parse(no->body)["error"];
  EXPECT_EQ(err["code"], "no_valid_host");
  EXPECT_TRUE(err["rejected"].contains("capacity")) << err.dump();
  // Explain names the failing filter for h2.
  auto ex = cli.Get("/v1/explain?host=h2&request=gpu:3");
  ASSERT_TRUE(ex);
  ASSERT_EQ(ex->status, 200) << ex->body;
  json e = json::parse(ex->body);
  EXPECT_FALSE(e["passes"]);
  EXPECT_EQ(e["failed_filter"], "capacity");
  auto del = cli.Delete("/v1/placements/p1");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  auto del2 = cli.Delete("/v1/placements/p1");
  EXPECT_EQ(del2->status, 404);
  auto yes =
      cli.Post("/v1/placements", R"({"instance": "vm-2", "request": "gpu:3"})",
               "application/json");
  EXPECT_EQ(yes->status, 201) << yes->body;
}

TEST_F(SchedulerTest, BadRequestsNameTheField) {
  AddHost("h1", 2, 0, 0);
  auto sched = StartScheduler();
  ASSERT_TRUE(sched);
  struct Case {
    json body;
    std::string needle;
  };
  const Case cases[] = {
      {json{{"request", "gpu:1"}}, "field 'instance'"},
      {json{{"instance", "vm"}, {"request", "nope:1"}}, "nope"},
      {json{{"instance", "vm"}, {"request", "gpu:0"}}, "field 'request'"},
      {json{{"instance", "vm"}, {"request", "gpu:1"}, {"colour", "red"}},
       "unknown field 'colour'"},
      {json{{"instance", "vm"}, {"request", "gpu:1"}, {"numa_cells", "0"}},
       "field 'numa_cells'"},
      {json{{"instance", "vm"}, {"request", "gpu:1"}, {"ttl_s", 0}},
       "field 'ttl_s'"},
      {json{{"instance", "vm"}, {"request", "gpu:1"}, {"placement", "fill"}},
       "field 'placement'"},
      {json{{"instance", "vm"}}, "no devices asked"},
  };
  for (const Case& c : cases) {
    ApiReply r = sched->Place(c.body);
    EXPECT_EQ(r.status, 400) << c.body.dump();
    EXPECT_NE(r.body["error"]["message"].get<std::string>().find(c.needle),
              std::string::npos)
        << c.body.dump() << " -> " << r.body.dump();
  }
  httplib::Client cli("127.0.0.1", sched->port());
  auto bad = cli.Post("/v1/placements", "{not json", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(sched->Confirm("nope").status, 404);
}

TEST_F(SchedulerTest, DeadHostIsSkippedAndTwoSchedulersShareState) {
  AddHost("h1", 2, 0, 0);
  AddHost("h2", 2, 0, 0);
  AddHost("h3", 2, 1, 2);
  auto a = StartScheduler();
  auto b = StartScheduler();
  ASSERT_TRUE(a && b);
  {
    auto s = ClusterStore::Open(db_.conninfo());
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->AgeHeartbeat("h1", 120).ok());
  }
  // Placements alternate between the schedulers; h1 is dead, so the 4
  // live GPUs (h2, h3) are all there is.
  std::set<std::string> hosts;
  for (int i = 0; i < 4; ++i) {
    Scheduler& s = i % 2 ? *b : *a;
    ApiReply r = s.Place(
        json{{"instance", "vm-" + std::to_string(i)}, {"request", "gpu:1"}});
    ASSERT_EQ(r.status, 201) << r.body.dump();
    hosts.insert(r.body["host"].get<std::string>());
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"h2", "h3"}));
  ApiReply full = b->Place(json{{"instance", "vm-x"}, {"request", "gpu:1"}});
  EXPECT_EQ(full.status, 409) << full.body.dump();
  EXPECT_TRUE(full.body["error"]["rejected"].contains("liveness") ||
              full.body["error"]["rejected"].contains("capacity"))
      << full.body.dump();
  ApiReply hs = a->Hosts();
  ASSERT_EQ(hs.status, 200);
  for (const json& h : hs.body["hosts"]) {
    EXPECT_EQ(h["state"], h["name"] == "h1" ? "dead" : "alive") << h.dump();
  }
  // Aggregate and anti-affinity.
  ApiReply agg = a->Place(
      json{{"instance", "vm-y"}, {"request", "vf:1"}, {"aggregate", "rack-b"}});
  EXPECT_EQ(agg.status, 201) << agg.body.dump();
  EXPECT_EQ(agg.body["host"], "h3");
  ApiReply anti = a->Place(json{
      {"instance", "vm-z"}, {"request", "vf:1"}, {"anti_affinity", {"vm-y"}}});
  EXPECT_EQ(anti.status, 409) << anti.body.dump();
  // The heartbeat comes back: h1 is placeable again (through b's index,
  // refreshed by its poll).
  ASSERT_TRUE(agents_[0]->Tick().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ApiReply back = b->Place(json{{"instance", "vm-w"}, {"request", "gpu:2"}});
  EXPECT_EQ(back.status, 201) << back.body.dump();
  EXPECT_EQ(back.body["host"], "h1");
}

TEST_F(SchedulerTest, UnconfirmedReservationIsRolledBackBySweeper) {
  AddHost("h1", 1, 0, 0);
  auto sched = StartScheduler();
  ASSERT_TRUE(sched);
  ApiReply r = sched->Place(json{{"id", "short"},
                                 {"instance", "vm-1"},
                                 {"request", "gpu:1"},
                                 {"ttl_s", 1}});
  ASSERT_EQ(r.status, 201) << r.body.dump();
  EXPECT_EQ(
      sched->Place(json{{"instance", "vm-2"}, {"request", "gpu:1"}}).status,
      409);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(sched->GetPlacement("short").status, 404);
  EXPECT_EQ(sched->Confirm("short").status, 404);
  ApiReply again =
      sched->Place(json{{"instance", "vm-2"}, {"request", "gpu:1"}});
  EXPECT_EQ(again.status, 201) << again.body.dump();
}

}  // namespace
}  // namespace pcipass::clusterdb
