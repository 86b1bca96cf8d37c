#include "clusterdb/schema.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "clusterdb/test_pg.h"

namespace pcipass::clusterdb {
namespace {

using testing::TestDatabase;

std::unique_ptr<PgConnection> Connect(const TestDatabase& db) {
  auto c = PgConnection::Open(db.conninfo());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

TEST(SchemaTest, AppliesFromEmptyAndReapplyIsANoOp) {
  PCIPASS_REQUIRE_PG();
  TestDatabase db;
  ASSERT_EQ(db.error(), "");
  auto conn = Connect(db);
  ASSERT_TRUE(conn);
  EXPECT_EQ(*CurrentSchemaVersion(*conn), 0);
  auto applied = Migrate(*conn);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, (std::vector<int>{1, 2}));
  EXPECT_EQ(*CurrentSchemaVersion(*conn), LatestSchemaVersion());
  auto again = Migrate(*conn);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->empty());
  auto rows = conn->Exec("t", "SELECT count(*) FROM schema_version");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 2);
}

TEST(SchemaTest, UpgradesVersionOneKeepingClaims) {
  PCIPASS_REQUIRE_PG();
  TestDatabase db;
  ASSERT_EQ(db.error(), "");
  auto conn = Connect(db);
  ASSERT_TRUE(conn);
  ASSERT_EQ(*Migrate(*conn, 1), std::vector<int>{1});
  // A version-1 database with a host, a PF + VF and a claim on the VF.
  ASSERT_TRUE(conn->ExecScript("seed v1", R"SQL(
    INSERT INTO hosts (name) VALUES ('h1');
    INSERT INTO devices (host, address, dev_type, state, iommu_group)
      VALUES ('h1', '0000:3b:00.0', 'type-PF', 'available', 10),
             ('h1', '0000:3b:00.1', 'type-VF', 'available', 11);
    UPDATE devices SET parent_addr = '0000:3b:00.0' WHERE address = '0000:3b:00.1';
    INSERT INTO claims (host, address, instance) VALUES ('h1', '0000:3b:00.1', 'vm-old');
  )SQL")
                  .ok());
  auto applied = Migrate(*conn);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, std::vector<int>{2});
  auto c = conn->Exec("t",
                      "SELECT placement_id, parent_addr, iommu_group FROM "
                      "claims WHERE address = '0000:3b:00.1'");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->rows(), 1);
  EXPECT_EQ(c->Text(0, 0), "v1-h1-vm-old");
  EXPECT_EQ(c->Text(0, 1), "0000:3b:00.0");
  EXPECT_EQ(c->Int(0, 2), 11);
  auto p = conn->Exec(
      "t", "SELECT status FROM placements WHERE id = 'v1-h1-vm-old'");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->rows(), 1);
  EXPECT_EQ(p->Text(0, 0), "confirmed");
  // The new trigger guards the migrated data: the PF of the held VF is
  // refused to anyone.
  auto bad = conn->Exec(
      "t",
      "INSERT INTO placements (id, host, instance, status) VALUES ('p2', "
      "'h1', 'vm-new', 'reserved'); ");
  ASSERT_TRUE(bad.ok());
  auto pf = conn->Exec("t",
                       "INSERT INTO claims (host, address, instance, "
                       "placement_id) VALUES ('h1', '0000:3b:00.0', "
                       "'vm-new', 'p2')");
  ASSERT_FALSE(pf.ok());
  EXPECT_EQ(pf.status().code(), StatusCode::kConflict);
  EXPECT_NE(pf.status().message().find("PF/VF relative 0000:3b:00.1"),
            std::string::npos)
      << pf.status().message();
}

TEST(SchemaTest, RefusesADatabaseNewerThanThisBinary) {
  PCIPASS_REQUIRE_PG();
  TestDatabase db;
  ASSERT_EQ(db.error(), "");
  auto conn = Connect(db);
  ASSERT_TRUE(conn);
  ASSERT_TRUE(Migrate(*conn).ok());
  ASSERT_TRUE(conn->Exec("t",
                         "INSERT INTO schema_version (version, description) "
                         "VALUES (99, 'from the future')")
                  .ok());
  auto r = Migrate(*conn);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("schema version 99 is newer"),
            std::string::npos)
      << r.status().message();
}

TEST(SchemaTest, ConcurrentMigratorsApplyEachVersionOnce) {
  PCIPASS_REQUIRE_PG();
  TestDatabase db;
  ASSERT_EQ(db.error(), "");
  std::vector<std::thread> threads;
  std::atomic<int> applied_total{0};
  std::atomic<int> failures{0};
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto c = PgConnection::Open(db.conninfo());
      if (!c.ok()) {
        ++failures;
        return;
      }
      auto r = Migrate(**c);
      if (!r.ok()) {
        ++failures;
        return;
      }
      applied_total += static_cast<int>(r->size());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied_total.load(), LatestSchemaVersion());
}

TEST(PgTest, BadConninfoNamesTheServerWithoutThePassword) {
  auto c = PgConnection::Open(
      "host=/nonexistent/socket port=1 user=x password=hunter2 dbname=y");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("cannot connect to PostgreSQL"),
            std::string::npos);
  EXPECT_EQ(c.status().message().find("hunter2"), std::string::npos)
      << c.status().message();
  EXPECT_EQ(RedactConninfo("postgresql://u:secret@db/x"),
            "postgresql://u:***@db/x");
}

}  // namespace
}  // namespace pcipass::clusterdb
