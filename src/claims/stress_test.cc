// Stress: 8 processes (fork + library calls, each with its own SQLite
// connection) do 2,000 random claims and releases in total against ONE
// ledger file, with 10% of hand-offs failing to exercise the rollback.
// Afterwards the append-only history proves that no device was ever held by
// two instances at once, every failed claim left nothing behind (checked by
// the process itself right after the failure), and after releasing
// everything no device is lost.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "claims/service.h"
#include "claims/test_hosts.h"
#include "testing/fixture_tree.h"

namespace pcipass::claims {
namespace {

constexpr int kProcesses = 8;
constexpr int kOpsTotal = 2000;

// Exit codes of a worker.
constexpr int kWorkerOk = 0;
constexpr int kWorkerOpenFailed = 10;
constexpr int kWorkerLedgerError = 11;
constexpr int kWorkerLeftovers = 12;

int Worker(const std::string& path, const HostSnapshot& snap, int id) {
  auto ledger = Ledger::OpenSqlite(path, 30000);
  if (!ledger.ok()) return kWorkerOpenFailed;
  std::mt19937 rng(1000 + id);
  const char* products[] = {"1515", "20b0", "1528"};
  std::set<std::string> live;
  for (int op = 0; op < kOpsTotal / kProcesses; ++op) {
    std::string inst =
        "p" + std::to_string(id) + "-vm" + std::to_string(rng() % 4);
    if (live.count(inst)) {
      ReleaseOptions ro;
      ro.instance = inst;
      if (!Release(**ledger, snap, ro).ok()) return kWorkerLedgerError;
      live.erase(inst);
      continue;
    }
    std::vector<PciRequest> reqs;
    int n = 1 + static_cast<int>(rng() % 2);
    for (int i = 0; i < n; ++i) {
      std::string p = products[rng() % 3];
      reqs.push_back(testhosts::Request("a" + std::to_string(i),
                                        1 + static_cast<int>(rng() % 3), p,
                                        p == "1528" ? "type-PF" : ""));
    }
    bool fail_handoff = rng() % 10 == 0;
    ClaimOptions co;
    co.instance = inst;
    co.detach_fn = [fail_handoff](const std::vector<PciAddress>&,
                                  std::vector<std::string>*) {
      return fail_handoff ? Status::IOError("injected hand-off failure")
                          : Status::Ok();
    };
    auto out = Claim(**ledger, snap, reqs, co);
    if (!out.ok()) return kWorkerLedgerError;
    if (out->ok) {
      live.insert(inst);
    } else {
      auto left = (*ledger)->ListClaims(inst);
      if (!left.ok()) return kWorkerLedgerError;
      if (!left->empty()) return kWorkerLeftovers;
    }
  }
  return kWorkerOk;
}

TEST(ClaimsStressTest, EightProcessesNeverShareADevice) {
  testing::FixtureTree tree;
  const std::string path = tree.Abs("state/ledger.sqlite").string();
  const HostSnapshot snap = testhosts::BigHost();
  {
    auto ledger = Ledger::OpenSqlite(path, 30000);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ASSERT_TRUE(Reconcile(**ledger, snap).ok());
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<pid_t> pids;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(Worker(path, snap, i));
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), kWorkerOk) << "worker " << pid;
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  auto ledger = Ledger::OpenSqlite(path, 30000);
  ASSERT_TRUE(ledger.ok());
  auto events = (*ledger)->ListEvents({});
  ASSERT_TRUE(events.ok());
  // Replay the history in commit order: a claim of a held device is a
  // double allocation.
  std::map<PciAddress, std::string> holder;
  int claims = 0, releases = 0, rollbacks = 0, refusals = 0;
  for (const Event& e : *events) {
    if (e.kind == "refuse") ++refusals;
    if (!e.address) continue;
    if (e.kind == "claim") {
      ++claims;
      ASSERT_EQ(holder.count(*e.address), 0u)
          << e.address->ToString() << " claimed by " << e.instance.value_or("")
          << " while held by " << holder[*e.address] << " (event " << e.id
          << ")";
      holder[*e.address] = e.instance.value_or("");
    } else if (e.kind == "release" || e.kind == "rollback") {
      (e.kind == "release" ? releases : rollbacks)++;
      ASSERT_EQ(holder[*e.address], e.instance.value_or(""))
          << "event " << e.id;
      holder.erase(*e.address);
    }
  }
  auto held = (*ledger)->ListClaims(std::nullopt);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->size(), holder.size());
  for (const ClaimRecord& c : *held) {
    EXPECT_EQ(holder[c.address], c.instance) << c.address.ToString();
  }
  // Release what is left; nothing may be lost.
  std::set<std::string> instances;
  for (const ClaimRecord& c : *held) instances.insert(c.instance);
  for (const std::string& inst : instances) {
    ReleaseOptions ro;
    ro.instance = inst;
    ASSERT_TRUE(Release(**ledger, snap, ro).ok()) << inst;
  }
  auto devs = (*ledger)->ListDevices();
  ASSERT_TRUE(devs.ok());
  EXPECT_EQ(devs->size(), snap.devices.size());
  for (const LedgerDevice& d : *devs) {
    EXPECT_EQ(d.state, DeviceState::kAvailable) << d.address.ToString();
  }
  EXPECT_GT(claims, 100);
  EXPECT_GT(rollbacks, 0);
  EXPECT_GT(refusals, 0);
  std::cout << "stress: " << kProcesses << " processes, " << kOpsTotal
            << " operations in " << secs << " s; " << claims
            << " device claims, " << releases << " releases, " << rollbacks
            << " rolled back, " << refusals << " refused\n";
}

}  // namespace
}  // namespace pcipass::claims
