#include "daemon/unix_http_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pcipass::daemon {

namespace {

thread_local std::optional<PeerCred> tls_peer;

std::string Errno(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

// Polls |fd| for |events| in slices, giving up after |timeout_ms| or when
// |stopping| turns true (only when |stop_aware|). >0 ready, 0 timeout or
// stopping, <0 error.
int WaitFd(int fd, short events, int timeout_ms,
           const std::atomic<bool>* stop) {
  int waited = 0;
  while (true) {
    int slice = std::min(100, timeout_ms - waited);
    if (slice <= 0) return 0;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, slice);
    if (r > 0) return r;
    if (r < 0 && errno != EINTR) return -1;
    waited += slice;
    if (stop && stop->load()) return 0;
  }
}

// httplib::Stream over a connected AF_UNIX fd. Reads are buffered (the
// request-line reader asks for one byte at a time).
class UnixStream : public httplib::Stream {
 public:
  UnixStream(int fd, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd),
        read_timeout_ms_(read_timeout_ms),
        write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override {
    return off_ < len_ || WaitFd(fd_, POLLIN, read_timeout_ms_, nullptr) > 0;
  }
  bool is_writable() const override {
    return WaitFd(fd_, POLLOUT, write_timeout_ms_, nullptr) > 0;
  }
  ssize_t read(char* ptr, size_t size) override {
    if (off_ < len_) return Drain(ptr, size);
    if (WaitFd(fd_, POLLIN, read_timeout_ms_, nullptr) <= 0) return -1;
    ssize_t n;
    do {
      n = ::recv(fd_, buf_, sizeof buf_, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return n;
    off_ = 0;
    len_ = static_cast<size_t>(n);
    return Drain(ptr, size);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "unix";
    port = tls_peer ? static_cast<int>(tls_peer->pid) : 0;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "unix";
    port = 0;
  }
  socket_t socket() const override { return fd_; }

  // Bytes already read from the socket but not yet consumed.
  bool HasBuffered() const { return off_ < len_; }

 private:
  ssize_t Drain(char* ptr, size_t size) {
    size_t n = std::min(size, len_ - off_);
    std::memcpy(ptr, buf_ + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }

  int fd_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  char buf_[4096];
  size_t off_ = 0;
  size_t len_ = 0;
};

}  // namespace

std::optional<PeerCred> CurrentPeer() { return tls_peer; }

UnixHttpServer::~UnixHttpServer() {
  Shutdown();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Status UnixHttpServer::Bind(const std::string& path, mode_t mode,
                            std::optional<gid_t> gid) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("--socket " + path + ": longer than " +
                                   std::to_string(sizeof addr.sun_path - 1) +
                                   " bytes");
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status(StatusCode::kAlreadyExists,
                    "--socket " + path + ": exists and is not a socket");
    }
    // A socket file: in use if something accepts on it.
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live =
        probe >= 0 &&
        ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (probe >= 0) ::close(probe);
    if (live) {
      return Status(StatusCode::kAlreadyExists,
                    "--socket " + path +
                        ": another pcipassd is listening there (stop it "
                        "or pass another --socket)");
    }
    ::unlink(path.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(StatusCode::kIOError, Errno("socket", errno));
  // The mode applies from the first instant: bind creates the file with
  // the umask, so narrow the umask around it.
  mode_t old = ::umask(0777 & ~mode);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::umask(old);
  if (rc != 0) {
    ::close(fd);
    return Status(StatusCode::kIOError, Errno("bind " + path, err));
  }
  if (::chmod(path.c_str(), mode) != 0 ||
      (gid && ::chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0)) {
    err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return Status(StatusCode::kPermissionDenied,
                  Errno("chmod/chgrp " + path, err));
  }
  if (::listen(fd, 128) != 0) {
    err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return Status(StatusCode::kIOError, Errno("listen " + path, err));
  }
  listen_fd_ = fd;
  path_ = path;
  return Status::Ok();
}

void UnixHttpServer::Serve(int workers) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    serving_ = true;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) pool.emplace_back([this] { Worker(); });
  while (!stopping_.load()) {
    if (WaitFd(listen_fd_, POLLIN, 200, &stopping_) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(fd);
    cv_.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  for (std::thread& t : pool) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : pending_) ::close(fd);
  pending_.clear();
  serving_done_ = true;
  done_cv_.notify_all();
}

void UnixHttpServer::Shutdown() {
  bool was = stopping_.exchange(true);
  if (!was && !path_.empty()) ::unlink(path_.c_str());
  std::unique_lock<std::mutex> lock(mu_);
  cv_.notify_all();
  if (serving_) {
    done_cv_.wait(lock, [this] { return serving_done_; });
  }
}

void UnixHttpServer::Worker() {
  while (true) {
    int fd;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_.load() || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping and nothing queued
      fd = pending_.front();
      pending_.pop_front();
    }
    HandleConnection(fd);
    ::close(fd);
  }
}

void UnixHttpServer::HandleConnection(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return;
  tls_peer = PeerCred{cred.pid, cred.uid, cred.gid};
  const int read_ms =
      static_cast<int>(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000);
  const int write_ms =
      static_cast<int>(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000);
  const int keep_alive_ms = static_cast<int>(keep_alive_timeout_sec_ * 1000);
  UnixStream stream(fd, read_ms, write_ms);
  for (int served = 0; served < max_requests_; ++served) {
    // Between requests: wait for the next one, but close an idle
    // connection at once when shutting down (a request being handled is
    // never cut: this wait is only reached between requests).
    if (!stream.HasBuffered() &&
        WaitFd(fd, POLLIN, keep_alive_ms, &stopping_) <= 0) {
      break;
    }
    bool last = served + 1 == max_requests_ || stopping_.load();
    bool closed = false;
    if (!process_request(stream, last, closed, nullptr)) break;
    if (closed || last) break;
  }
  tls_peer.reset();
}

}  // namespace pcipass::daemon
