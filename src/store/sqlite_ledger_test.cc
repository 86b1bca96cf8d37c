// Tests of the SQLite ledger on real database files in a scratch directory.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/lock_wait.h"
#include "store/ledger.h"
#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

PciAddress Addr(const char* text) { return *PciAddress::Parse(text); }

LedgerDevice Dev(const char* addr,
                 DeviceState state = DeviceState::kAvailable) {
  LedgerDevice d;
  d.address = Addr(addr);
  d.vendor_id = 0x8086;
  d.product_id = 0x1515;
  d.dev_type = DeviceType::kVf;
  d.parent_addr = Addr("0000:0a:00.0");
  d.numa_node = 1;
  d.iommu_group = 17;
  d.driver = "iavf";
  d.state = state;
  return d;
}

ClaimRecord Claim(const char* instance, const char* addr) {
  ClaimRecord c;
  c.instance = instance;
  c.address = Addr(addr);
  c.alias_name = "nic";
  c.request_id = std::string(instance) + "/0";
  c.dev_type = DeviceType::kVf;
  c.parent_addr = Addr("0000:0a:00.0");
  c.tags = {{"physical_network", "physnet1"}, {"trusted", std::nullopt}};
  c.state = "claimed";
  return c;
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = Ledger::OpenSqlite(tree_.Abs("state/ledger.sqlite"));
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
  }
  testing::FixtureTree tree_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, RoundTripsDevicesClaimsAndEvents) {
  ASSERT_TRUE(ledger_
                  ->Transact([](LedgerTxn& t) {
                    PCIPASS_RETURN_IF_ERROR(t.PutDevice(Dev("0000:0a:00.1")));
                    PCIPASS_RETURN_IF_ERROR(t.PutDevice(Dev("10000:01:00.0")));
                    PCIPASS_RETURN_IF_ERROR(
                        t.AddClaim(Claim("vm-1", "0000:0a:00.1")));
                    Event e;
                    e.kind = "claim";
                    e.instance = "vm-1";
                    e.address = Addr("0000:0a:00.1");
                    e.why = "request nic:1";
                    return t.AppendEvent(e);
                  })
                  .ok());
  auto devs = ledger_->ListDevices();
  ASSERT_TRUE(devs.ok());
  ASSERT_EQ(devs->size(), 2u);
  EXPECT_EQ((*devs)[0].address, Addr("0000:0a:00.1"));  // address order
  EXPECT_EQ((*devs)[1].address, Addr("10000:01:00.0"));
  EXPECT_EQ((*devs)[0].vendor_id, 0x8086);
  EXPECT_EQ((*devs)[0].parent_addr, Addr("0000:0a:00.0"));
  EXPECT_EQ((*devs)[0].numa_node, 1);
  EXPECT_EQ((*devs)[0].driver, "iavf");
  EXPECT_NE((*devs)[0].updated_at_unix, 0);

  auto claims = ledger_->ListClaims("vm-1");
  ASSERT_TRUE(claims.ok());
  ASSERT_EQ(claims->size(), 1u);
  EXPECT_EQ((*claims)[0].tags.at("physical_network"), "physnet1");
  EXPECT_EQ((*claims)[0].tags.at("trusted"), std::nullopt);
  EXPECT_EQ((*claims)[0].dev_type, DeviceType::kVf);
  EXPECT_TRUE(ledger_->ListClaims("vm-other")->empty());

  auto events = ledger_->ListEvents({});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_NE((*events)[0].who.find("pid="), std::string::npos);
  EXPECT_EQ((*events)[0].address, Addr("0000:0a:00.1"));
}

TEST_F(LedgerTest, FailedTransactionLeavesNothing) {
  Status s = ledger_->Transact([](LedgerTxn& t) {
    PCIPASS_RETURN_IF_ERROR(t.PutDevice(Dev("0000:0a:00.1")));
    PCIPASS_RETURN_IF_ERROR(t.AddClaim(Claim("vm-1", "0000:0a:00.1")));
    return Status::Conflict("second device refused");
  });
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  EXPECT_TRUE(ledger_->ListDevices()->empty());
  EXPECT_TRUE(ledger_->ListClaims(std::nullopt)->empty());
}

TEST_F(LedgerTest, StoreRefusesSecondOwnerAndForeignRelease) {
  ASSERT_TRUE(ledger_
                  ->Transact([](LedgerTxn& t) {
                    return t.AddClaim(Claim("vm-1", "0000:0a:00.1"));
                  })
                  .ok());
  Status dup = ledger_->Transact(
      [](LedgerTxn& t) { return t.AddClaim(Claim("vm-2", "0000:0a:00.1")); });
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  EXPECT_NE(dup.message().find("0000:0a:00.1"), std::string::npos);

  Status foreign = ledger_->Transact(
      [](LedgerTxn& t) { return t.DeleteClaim("vm-2", Addr("0000:0a:00.1")); });
  EXPECT_EQ(foreign.code(), StatusCode::kNotFound);
  Status foreign_state = ledger_->Transact([](LedgerTxn& t) {
    return t.SetClaimState("vm-2", Addr("0000:0a:00.1"), "allocated");
  });
  EXPECT_EQ(foreign_state.code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->ListClaims("vm-1")->size(), 1u);

  ASSERT_TRUE(ledger_
                  ->Transact([](LedgerTxn& t) {
                    PCIPASS_RETURN_IF_ERROR(t.SetClaimState(
                        "vm-1", Addr("0000:0a:00.1"), "allocated"));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ((*ledger_->ListClaims("vm-1"))[0].state, "allocated");
  ASSERT_TRUE(ledger_
                  ->Transact([](LedgerTxn& t) {
                    return t.DeleteClaim("vm-1", Addr("0000:0a:00.1"));
                  })
                  .ok());
  EXPECT_TRUE(ledger_->ListClaims(std::nullopt)->empty());
}

TEST_F(LedgerTest, EventsAreAppendOnlyAndFiltered) {
  ASSERT_TRUE(ledger_
                  ->Transact([](LedgerTxn& t) {
                    for (int i = 0; i < 4; ++i) {
                      Event e;
                      e.kind = "claim";
                      e.at_unix = 1000 + i * 100;
                      e.instance = i % 2 ? "vm-b" : "vm-a";
                      e.address = Addr(i < 2 ? "0000:01:00.0" : "0000:02:00.0");
                      PCIPASS_RETURN_IF_ERROR(t.AppendEvent(e));
                    }
                    return Status::Ok();
                  })
                  .ok());
  struct Case {
    const char* name;
    EventFilter filter;
    size_t want;
  } cases[] = {
      {"all", {}, 4},
      {"device", {Addr("0000:01:00.0"), {}, {}, {}}, 2},
      {"instance", {{}, "vm-b", {}, {}}, 2},
      {"since", {{}, {}, 1100, {}}, 3},
      {"window", {{}, {}, 1100, 1300}, 2},
  };
  for (const Case& c : cases) {
    auto ev = ledger_->ListEvents(c.filter);
    ASSERT_TRUE(ev.ok()) << c.name;
    EXPECT_EQ(ev->size(), c.want) << c.name;
  }
  // The history cannot be rewritten, even with raw SQL.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(tree_.Abs("state/ledger.sqlite").c_str(), &db),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM events", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(
      sqlite3_exec(db, "UPDATE events SET why='x'", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(ledger_->ListEvents({})->size(), 4u);
}

TEST_F(LedgerTest, ReopenKeepsDataAndSchemaVersion) {
  ASSERT_TRUE(ledger_
                  ->Transact([](LedgerTxn& t) {
                    return t.PutDevice(Dev("0000:0a:00.1"));
                  })
                  .ok());
  EXPECT_EQ(ledger_->SchemaVersion(), 1);
  ledger_.reset();
  auto again = Ledger::OpenSqlite(tree_.Abs("state/ledger.sqlite"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->ListDevices()->size(), 1u);
}

TEST_F(LedgerTest, SecondWriterWaitsThenReportsUnavailable) {
  auto other = Ledger::OpenSqlite(tree_.Abs("state/ledger.sqlite"), 50);
  ASSERT_TRUE(other.ok());
  Status inner;
  Status outer = ledger_->Transact([&](LedgerTxn& t) {
    PCIPASS_RETURN_IF_ERROR(t.PutDevice(Dev("0000:0a:00.1")));
    inner = (*other)->Transact(
        [](LedgerTxn& t2) { return t2.PutDevice(Dev("0000:0a:00.2")); });
    return Status::Ok();
  });
  EXPECT_TRUE(outer.ok());
  EXPECT_EQ(inner.code(), StatusCode::kUnavailable) << inner.ToString();
  EXPECT_EQ((*other)->ListDevices()->size(), 1u);
}

// Two processes: a child holds the ledger's write lock; the parent's open
// (which migrates under the write lock) waits at most the policy's timeout,
// says once after notice_after_ms that it waits and for whom, then fails
// naming the ledger file and the child's pid.
TEST(LedgerOpenTest, LockedLedgerWaitIsBoundedAndNamesTheHolder) {
  testing::FixtureTree tree;
  const std::string path = tree.Abs("state/ledger.sqlite").string();
  int held[2], done[2];
  ASSERT_EQ(::pipe(held), 0);
  ASSERT_EQ(::pipe(done), 0);
  pid_t pid = ::fork();  // before this process opens any SQLite connection
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(held[0]);
    ::close(done[1]);
    auto ledger = Ledger::OpenSqlite(path, 5000);
    if (!ledger.ok()) ::_exit(1);
    Status s = (*ledger)->Transact([&](LedgerTxn&) {
      char c = 'x';
      (void)!::write(held[1], &c, 1);
      (void)!::read(done[0], &c, 1);  // until the parent closes |done|
      return Status::Ok();
    });
    ::_exit(s.ok() ? 0 : 2);
  }
  ::close(held[1]);
  ::close(done[0]);
  char c;
  ASSERT_EQ(::read(held[0], &c, 1), 1);  // the child holds the write lock
  const LockWaitPolicy saved = CurrentLockWaitPolicy();
  std::vector<std::string> notices;
  LockWaitPolicy policy;
  policy.timeout_ms = 1200;
  policy.notice_after_ms = 200;
  policy.notice = [&](const std::string& line) { notices.push_back(line); };
  SetLockWaitPolicy(policy);
  auto start = std::chrono::steady_clock::now();
  auto ledger = Ledger::OpenSqlite(path);
  auto waited = std::chrono::steady_clock::now() - start;
  SetLockWaitPolicy(saved);
  ::close(done[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_FALSE(ledger.ok());
  EXPECT_EQ(ledger.status().code(), StatusCode::kUnavailable);
  const std::string msg = ledger.status().message();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("pid " + std::to_string(pid)), std::string::npos) << msg;
  EXPECT_NE(msg.find("--lock-timeout"), std::string::npos) << msg;
  EXPECT_GE(waited, std::chrono::milliseconds(1100));
  EXPECT_LT(waited, std::chrono::seconds(5));
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("waiting for the ledger " + path),
            std::string::npos)
      << notices[0];
  EXPECT_NE(notices[0].find("pid " + std::to_string(pid)), std::string::npos)
      << notices[0];
}

TEST(LedgerOpenTest, RejectsForeignAndNewerDatabases) {
  testing::FixtureTree tree;
  struct Case {
    const char* name;
    const char* sql;
    StatusCode want;
  } cases[] = {
      {"foreign tables", "CREATE TABLE t(x)", StatusCode::kDataLoss},
      {"newer schema", "PRAGMA user_version = 99", StatusCode::kDataLoss},
  };
  for (const Case& c : cases) {
    std::string path = tree.Abs(std::string(c.name) + ".sqlite").string();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, c.sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto l = Ledger::OpenSqlite(path);
    ASSERT_FALSE(l.ok()) << c.name;
    EXPECT_EQ(l.status().code(), c.want)
        << c.name << ": " << l.status().ToString();
  }
  tree.WriteFile("garbage.sqlite", std::string(4096, 'x'));
  auto g = Ledger::OpenSqlite(tree.Abs("garbage.sqlite"));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kDataLoss) << g.status().ToString();

  tree.WriteFile("file-not-dir", "x");
  auto bad_dir = Ledger::OpenSqlite(tree.Abs("file-not-dir/ledger.sqlite"));
  EXPECT_FALSE(bad_dir.ok());
}

// The ledger path being a link (to a file or to nothing) is refused, and
// the link's target is neither created nor written.
TEST(LedgerOpenTest, RefusesASymlinkedLedger) {
  testing::FixtureTree tree;
  tree.WriteFile("real.sqlite", "");
  tree.Symlink("state/ledger.sqlite", tree.Abs("real.sqlite").string());
  tree.Symlink("state/dangling.sqlite", tree.Abs("nowhere.sqlite").string());
  for (const char* name : {"ledger.sqlite", "dangling.sqlite"}) {
    auto l = Ledger::OpenSqlite(tree.Abs(std::string("state/") + name));
    ASSERT_FALSE(l.ok()) << name;
    EXPECT_NE(l.status().message().find("symbolic link"), std::string::npos)
        << l.status().ToString();
  }
  EXPECT_EQ(std::filesystem::file_size(tree.Abs("real.sqlite")), 0u);
  EXPECT_FALSE(std::filesystem::exists(tree.Abs("nowhere.sqlite")));
}

TEST(DeviceStateTest, NamesRoundTrip) {
  for (int i = 0; i <= 5; ++i) {
    auto s = static_cast<DeviceState>(i);
    EXPECT_EQ(ParseDeviceState(DeviceStateName(s)), s) << i;
  }
  EXPECT_EQ(ParseDeviceState("Available"), std::nullopt);
  EXPECT_EQ(ParseDeviceState(""), std::nullopt);
}

}  // namespace
}  // namespace pcipass
