// QmpClient against a real QEMU on this machine: q35, paused (-S), TCG, no
// guest, one pcie-root-port to hot-plug onto. This host has no IOMMU, so a
// vfio-pci device_add must come back as QEMU's refusal, with its reason;
// the add/query/del path itself is exercised with QEMU's emulated "edu"
// device. The real vfio-pci hot-plug runs in the lab (real kernel).
#include "hv/qmp_socket.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>  // environ (_GNU_SOURCE, always on in C++)

#include <chrono>
#include <cstring>
#include <thread>

#include "core/bounded_input.h"
#include "testing/fixture_tree.h"

namespace pcipass::hv {
namespace {

constexpr const char* kQemu = "qemu-system-x86_64";

class QmpSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = tree_.Abs("q.sock").string();
    std::vector<std::string> args = {kQemu,
                                     "-machine",
                                     "q35",
                                     "-accel",
                                     "tcg",
                                     "-S",
                                     "-nodefaults",
                                     "-display",
                                     "none",
                                     "-m",
                                     "64M",
                                     "-qmp",
                                     "unix:" + socket_ + ",server=on,wait=off",
                                     "-device",
                                     "pcie-root-port,id=rp1,chassis=1"};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawnp(&pid_, kQemu, nullptr, nullptr, argv.data(), environ);
    ASSERT_EQ(rc, 0) << kQemu
                     << " could not be started: install the Debian package "
                        "qemu-system-x86 (scripts/deps.sh lists it)";
    // QEMU creates the socket before it listens for clients; retry.
    for (int i = 0; i < 200; ++i) {
      Result<std::unique_ptr<QmpClient>> c = QmpClient::Connect(socket_, 5000);
      if (c.ok()) {
        client_ = std::move(*c);
        return;
      }
      int status;
      ASSERT_EQ(waitpid(pid_, &status, WNOHANG), 0)
          << "QEMU exited early: is " << kQemu
          << " (Debian qemu-system-x86) working?";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "QMP socket " << socket_ << " never accepted a connection";
  }

  void TearDown() override {
    client_.reset();
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  testing::FixtureTree tree_;
  std::string socket_;
  pid_t pid_ = -1;
  std::unique_ptr<QmpClient> client_;
};

TEST_F(QmpSocketTest, QueryStatus) {
  Result<nlohmann::json> r = client_->Execute("query-status");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)["status"], "prelaunch");
}

TEST_F(QmpSocketTest, UnknownCommandIsAnError) {
  Result<nlohmann::json> r = client_->Execute("no-such-command");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("CommandNotFound"), std::string::npos)
      << r.status().message();
}

TEST_F(QmpSocketTest, AddQueryAndUnplugEmulatedDevice) {
  Result<nlohmann::json> add = client_->Execute(
      "device_add", {{"driver", "edu"}, {"id", "edu0"}, {"bus", "rp1"}});
  ASSERT_TRUE(add.ok()) << add.status().message();
  // Behind a root port the firmware has not numbered yet, query-pci does
  // not list it; the QOM tree of user-created devices does.
  Result<nlohmann::json> qom =
      client_->Execute("qom-list", {{"path", "/machine/peripheral"}});
  ASSERT_TRUE(qom.ok()) << qom.status().message();
  EXPECT_NE(qom->dump().find("\"child<edu>\""), std::string::npos)
      << qom->dump();
  // The paused guest cannot acknowledge the unplug: the wait is bounded and
  // says the device is still in the VM.
  Status s = UnplugDevice(*client_, "edu0", 300);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.message();
  EXPECT_NE(s.message().find("still in the VM"), std::string::npos)
      << s.message();
}

TEST_F(QmpSocketTest, UnplugUnknownIdIsNotFound) {
  Status s = UnplugDevice(*client_, "hostdev9", 300);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.message();
}

TEST_F(QmpSocketTest, VfioHotplugRefusalCarriesQemusReason) {
  HostdevAssignment d;
  d.host = *PciAddress::Parse("0000:81:00.1");
  d.id = "hostdev0";
  // pcie.0 cannot hot-plug at all.
  Status root = HotplugDevice(*client_, d, "");
  EXPECT_EQ(root.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(root.message().find("does not support hotplugging"),
            std::string::npos)
      << root.message();
  // On a root port: QEMU looks the host device up and it is not there.
  Status port = HotplugDevice(*client_, d, "rp1");
  EXPECT_EQ(port.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(port.message().find("0000:81:00.1"), std::string::npos)
      << port.message();
  EXPECT_NE(port.message().find("hot-plugging"), std::string::npos)
      << port.message();
}

TEST(QmpConnectTest, NothingListening) {
  testing::FixtureTree tree;
  Result<std::unique_ptr<QmpClient>> c =
      QmpClient::Connect(tree.Abs("none.sock").string(), 200);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("No such file"), std::string::npos)
      << c.status().message();
  Result<std::unique_ptr<QmpClient>> longpath =
      QmpClient::Connect(std::string(200, 'x'), 200);
  EXPECT_EQ(longpath.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
// A peer that is not QEMU: one endless line, or a greeting nested 100,000
// deep. The client gives up with an error instead of growing its buffer
// without end or overflowing the stack.
class HostilePeerTest : public ::testing::Test {
 protected:
  // Listens on a socket in the tree; |send| is written to the first
  // client, then the connection stays open until the test ends.
  void Serve(std::string send) {
    path_ = tree_.Abs("peer.sock").string();
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path_.size(), sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    ASSERT_EQ(
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
        0);
    ASSERT_EQ(::listen(listen_fd_, 1), 0);
    server_ = std::thread([this, send = std::move(send)] {
      int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c < 0) return;
      size_t off = 0;
      while (off < send.size()) {
        ssize_t n =
            ::send(c, send.data() + off, send.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      char b;
      while (::recv(c, &b, 1, 0) > 0) {
      }
      ::close(c);
    });
  }
  void TearDown() override {
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
    if (server_.joinable()) server_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  testing::FixtureTree tree_;
  std::string path_;
  int listen_fd_ = -1;
  std::thread server_;
};

TEST_F(HostilePeerTest, EndlessLineIsCutAtTheLimit) {
  Serve(std::string(kMaxQmpLineBytes + 8192, 'x'));
  auto c = QmpClient::Connect(path_, 5000);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(c.status().message().find("without a newline"), std::string::npos)
      << c.status().message();
}

TEST_F(HostilePeerTest, DeeplyNestedGreetingIsRefused) {
  Serve("{\"QMP\": " + std::string(100000, '[') + "}\n");
  auto c = QmpClient::Connect(path_, 5000);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("deeper than 64 levels"),
            std::string::npos)
      << c.status().message();
}

}  // namespace pcipass::hv
