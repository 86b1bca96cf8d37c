// TestDatabase: a fresh PostgreSQL database per test, on the server that
// ctest starts (scripts/pg-test-server, fixture "pg") and names in
// PCIPASS_TEST_PG. Without it the test is skipped for developers, and
// FAILS under CI=true (a cluster test must never pass silently).
#ifndef PCIPASS_CLUSTERDB_TEST_PG_H_
#define PCIPASS_CLUSTERDB_TEST_PG_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "clusterdb/pg.h"

namespace pcipass::clusterdb::testing {

// The server's conninfo, or "" (and the test is failed/skipped by the
// PCIPASS_REQUIRE_PG macro below).
inline std::string ServerConninfo() {
  const char* c = std::getenv("PCIPASS_TEST_PG");
  return c ? c : "";
}

inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// Skips (developer) or fails (CI=true) the current test when no server.
#define PCIPASS_REQUIRE_PG()                                             \
  do {                                                                   \
    if (::pcipass::clusterdb::testing::ServerConninfo().empty()) {       \
      if (::pcipass::clusterdb::testing::InCi()) {                       \
        FAIL() << "PCIPASS_TEST_PG is not set: ctest starts PostgreSQL " \
                  "(fixture pg); run the cluster tests through ctest";   \
      }                                                                  \
      GTEST_SKIP() << "PCIPASS_TEST_PG not set (run through ctest)";     \
    }                                                                    \
  } while (0)

// Creates database pcipass_t_<pid>_<n> on construction, drops it on
// destruction. conninfo() reaches it.
class TestDatabase {
 public:
  TestDatabase() {
    static std::atomic<int> counter{0};
    name_ = "pcipass_t_" + std::to_string(getpid()) + "_" +
            std::to_string(counter++);
    auto admin = PgConnection::Open(ServerConninfo());
    if (!admin.ok()) {
      error_ = admin.status().ToString();
      return;
    }
    auto r = (*admin)->Exec("create test database", "CREATE DATABASE " + name_);
    if (!r.ok()) error_ = r.status().ToString();
  }
  ~TestDatabase() {
    auto admin = PgConnection::Open(ServerConninfo());
    if (admin.ok()) {
      (void)(*admin)->Exec("drop test database", "DROP DATABASE IF EXISTS " +
                                                     name_ + " WITH (FORCE)");
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // "" when created; the error otherwise.
  const std::string& error() const { return error_; }
  std::string conninfo() const { return ServerConninfo() + " dbname=" + name_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string error_;
};

}  // namespace pcipass::clusterdb::testing

#endif  // PCIPASS_CLUSTERDB_TEST_PG_H_
