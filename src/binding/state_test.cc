#include "binding/state.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/lock_wait.h"
#include "gtest/gtest.h"
#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

PciAddress Addr(const char* s) { return *PciAddress::Parse(s); }

TEST(StateTest, JournalRoundTrip) {
  testing::FixtureTree tree;
  const std::string dir = tree.Abs("state").string();
  auto none = ReadJournal(dir);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  Journal j;
  j.op = "detach";
  j.pid = 42;
  j.started = "2026-11-22T05:00:00Z";
  j.force_reason = "maintenance window";
  j.devices.push_back(
      {{Addr("0000:01:00.0"), "e1000e", std::nullopt}, JournalStep::kUnbound});
  j.devices.push_back({{Addr("0000:05:02.0"), std::nullopt, "pci-stub"},
                       JournalStep::kPending});
  j.sriov_pf = Addr("0000:03:00.0");
  j.sriov_numvfs = 2;
  ASSERT_TRUE(WriteJournal(dir, j).ok());
  auto back = ReadJournal(dir);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->has_value());
  const Journal& b = **back;
  EXPECT_EQ(b.op, "detach");
  EXPECT_EQ(b.pid, 42);
  EXPECT_EQ(b.force_reason, "maintenance window");
  ASSERT_EQ(b.devices.size(), 2u);
  EXPECT_EQ(b.devices[0].record.address, Addr("0000:01:00.0"));
  EXPECT_EQ(b.devices[0].record.original_driver, "e1000e");
  EXPECT_EQ(b.devices[0].record.previous_override, std::nullopt);
  EXPECT_EQ(b.devices[0].step, JournalStep::kUnbound);
  EXPECT_EQ(b.devices[1].record.original_driver, std::nullopt);
  EXPECT_EQ(b.devices[1].record.previous_override, "pci-stub");
  EXPECT_EQ(b.sriov_pf, Addr("0000:03:00.0"));
  EXPECT_EQ(b.sriov_numvfs, 2);
  // No temporary file is left behind by the atomic write.
  EXPECT_FALSE(std::filesystem::exists(tree.Abs("state/journal.json.tmp")));
  ASSERT_TRUE(ClearJournal(dir).ok());
  EXPECT_FALSE(ReadJournal(dir)->has_value());
  EXPECT_TRUE(ClearJournal(dir).ok()) << "clearing twice is fine";
}

TEST(StateTest, CorruptJournalIsDataLoss) {
  const char* cases[] = {"{not json", "{}", R"({"op":"detach","devices":[{}]})",
                         R"({"op":"detach","devices":[{"address":"zz",
                             "step":"bound"}]})"};
  for (const char* text : cases) {
    testing::FixtureTree tree;
    tree.WriteFile("state/journal.json", text);
    auto j = ReadJournal(tree.Abs("state").string());
    ASSERT_FALSE(j.ok()) << text;
    EXPECT_EQ(j.status().code(), StatusCode::kDataLoss) << text;
    EXPECT_NE(j.status().message().find("journal.json"), std::string::npos)
        << text;
  }
}

TEST(StateTest, RecordsRoundTripAndCorruption) {
  testing::FixtureTree tree;
  const std::string dir = tree.Abs("state").string();
  EXPECT_FALSE(LoadRecord(dir, Addr("0000:01:00.0"))->has_value());
  ASSERT_TRUE(
      SaveRecord(dir, {Addr("0000:01:00.0"), "e1000e", std::nullopt}).ok());
  auto r = LoadRecord(dir, Addr("0000:01:00.0"));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->original_driver, "e1000e");
  ASSERT_TRUE(RemoveRecord(dir, Addr("0000:01:00.0")).ok());
  EXPECT_FALSE(LoadRecord(dir, Addr("0000:01:00.0"))->has_value());
  tree.WriteFile("state/devices/0000:02:00.0.json", "[1,2");
  auto bad = LoadRecord(dir, Addr("0000:02:00.0"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
}

TEST(StateTest, AppendLogKeepsLines) {
  testing::FixtureTree tree;
  const std::string dir = tree.Abs("state").string();
  ASSERT_TRUE(AppendLog(dir, "first").ok());
  ASSERT_TRUE(AppendLog(dir, "detach FORCED: reason").ok());
  std::ifstream f(tree.Abs("state/log"));
  std::string l1, l2;
  std::getline(f, l1);
  std::getline(f, l2);
  EXPECT_NE(l1.find("first"), std::string::npos);
  EXPECT_NE(l2.find("FORCED: reason"), std::string::npos);
}

// Two processes: the child takes the lock and holds it 300 ms; the parent's
// Acquire must wait for it.
TEST(StateTest, LockSerialisesTwoProcesses) {
  testing::FixtureTree tree;
  const std::string dir = tree.Abs("state").string();
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    auto lock = StateLock::Acquire(dir);
    if (!lock.ok()) ::_exit(1);
    char c = 'x';
    (void)!::write(pipefd[1], &c, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::_exit(0);
  }
  ::close(pipefd[1]);
  char c;
  ASSERT_EQ(::read(pipefd[0], &c, 1), 1);  // child holds the lock now
  auto start = std::chrono::steady_clock::now();
  auto lock = StateLock::Acquire(dir);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(200));
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// Two processes: the child holds the lock until the parent is done. The
// parent's wait is bounded: it says after notice_after_ms that it waits and
// for whom, then fails naming the lock file and the child's pid (before:
// it waited forever without a word).
TEST(StateTest, LockWaitIsBoundedAndNamesTheHolder) {
  testing::FixtureTree tree;
  const std::string dir = tree.Abs("state").string();
  int held[2], done[2];
  ASSERT_EQ(::pipe(held), 0);
  ASSERT_EQ(::pipe(done), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(held[0]);
    ::close(done[1]);
    auto lock = StateLock::Acquire(dir);
    if (!lock.ok()) ::_exit(1);
    char c = 'x';
    (void)!::write(held[1], &c, 1);
    (void)!::read(done[0], &c, 1);  // until the parent closes |done|
    ::_exit(0);
  }
  ::close(held[1]);
  ::close(done[0]);
  char c;
  ASSERT_EQ(::read(held[0], &c, 1), 1);  // child holds the lock now
  const LockWaitPolicy saved = CurrentLockWaitPolicy();
  std::vector<std::string> notices;
  LockWaitPolicy policy;
  policy.timeout_ms = 1000;
  policy.notice_after_ms = 200;
  policy.notice = [&](const std::string& line) { notices.push_back(line); };
  SetLockWaitPolicy(policy);
  auto start = std::chrono::steady_clock::now();
  auto lock = StateLock::Acquire(dir);
  auto waited = std::chrono::steady_clock::now() - start;
  SetLockWaitPolicy(saved);
  ::close(done[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), StatusCode::kUnavailable);
  const std::string msg = lock.status().message();
  EXPECT_NE(msg.find(dir + "/lock"), std::string::npos) << msg;
  EXPECT_NE(msg.find("pid " + std::to_string(pid)), std::string::npos) << msg;
  EXPECT_NE(msg.find("--lock-timeout"), std::string::npos) << msg;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(5));
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("waiting for the state lock"), std::string::npos)
      << notices[0];
  EXPECT_NE(notices[0].find("pid " + std::to_string(pid)), std::string::npos)
      << notices[0];
}

TEST(StateTest, LockOnUnwritableDirFails) {
  testing::FixtureTree tree;
  tree.WriteFile("file", "x");
  auto lock = StateLock::Acquire(tree.Abs("file/state").string());
  ASSERT_FALSE(lock.ok());
  EXPECT_NE(lock.status().message().find("file/state"), std::string::npos)
      << lock.status().message();
}

// A lock file swapped for a link would make root create or lock a file
// elsewhere: refused, naming the link and the fix, and the target is not
// created.
TEST(StateTest, LockRefusesASymlink) {
  testing::FixtureTree tree;
  tree.WriteFile("state/keep", "");
  tree.Symlink("state/lock", tree.Abs("elsewhere").string());
  auto lock = StateLock::Acquire(tree.Abs("state").string());
  ASSERT_FALSE(lock.ok());
  EXPECT_NE(lock.status().message().find("symbolic link"), std::string::npos)
      << lock.status().message();
  EXPECT_NE(lock.status().message().find("state/lock"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(tree.Abs("elsewhere")));
}

}  // namespace
}  // namespace pcipass
