// The test-only hooks of MakeKernelIo (PCIPASS_TEST_WRITE_LOG,
// PCIPASS_TEST_PAUSE_AT_WRITE) that the lab's crash test relies on: the
// log names every write with its index, and the pause comes right after
// write N (write N made, write N+1 not), with the marker naming the pid.
#include "binding/kernel_io.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "core/sysfs.h"

namespace pcipass {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class KernelIoHookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pcipass-kio-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const char* f : {"a", "b", "c"}) std::ofstream(dir_ / f) << "";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Forks a child that sets |env| and writes a, b, c through MakeKernelIo.
  pid_t WriteThreeInChild(int pause_at) {
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    ::setenv("PCIPASS_TEST_WRITE_LOG", (dir_ / "log").c_str(), 1);
    ::setenv("PCIPASS_TEST_PAUSE_MARKER", (dir_ / "paused").c_str(), 1);
    if (pause_at > 0) {
      ::setenv("PCIPASS_TEST_PAUSE_AT_WRITE", std::to_string(pause_at).c_str(),
               1);
    }
    auto io = MakeKernelIo();
    const std::chrono::milliseconds t{2000};
    (void)io->Write(dir_ / "a", "1", t);
    (void)io->Write(dir_ / "b", "2\n", t);
    (void)io->Write(dir_ / "c", "3", t);
    ::_exit(0);
  }

  fs::path dir_;
};

TEST_F(KernelIoHookTest, WriteLogCountsEveryWriteWithItsIndex) {
  pid_t pid = WriteThreeInChild(0);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(Slurp(dir_ / "log"), "1 0 " + (dir_ / "a").string() + " 1\n" +
                                     "2 0 " + (dir_ / "b").string() +
                                     " 2\\n\n" + "3 0 " +
                                     (dir_ / "c").string() + " 3\n");
  EXPECT_FALSE(fs::exists(dir_ / "paused")) << "no pause without the variable";
}

TEST_F(KernelIoHookTest, PausesRightAfterWriteNUntilKilled) {
  pid_t pid = WriteThreeInChild(2);
  ASSERT_GT(pid, 0);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Slurp(dir_ / "paused").empty() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Slurp(dir_ / "paused"), std::to_string(pid) + "\n");
  // Still blocked a little later: the pause does not return on its own.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "child must still block";
  EXPECT_EQ(sysfs::ReadText(dir_ / "a").value_or("?"), "1");
  EXPECT_EQ(sysfs::ReadText(dir_ / "b").value_or("?"), "2") << "write 2 made";
  EXPECT_EQ(sysfs::ReadText(dir_ / "c").value_or("?"), "")
      << "write 3 not made";
  ::kill(pid, SIGKILL);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(Slurp(dir_ / "log"), "1 0 " + (dir_ / "a").string() + " 1\n" +
                                     "2 0 " + (dir_ / "b").string() +
                                     " 2\\n\n");
}

}  // namespace
}  // namespace pcipass
