// UnixHttpServer: httplib::Server served over an AF_UNIX stream socket.
//
// cpp-httplib 0.11.4 (Debian 12) listens on TCP only. Its HTTP parser,
// routing, payload limit and error/exception handlers are all reached
// through the protected Server::process_request(Stream&, ...), so this
// class keeps all of that and supplies only what TCP-only code lacks: the
// socket (bind, mode, group), an accept loop, a fixed pool of worker
// threads and a buffered httplib::Stream over the accepted fd. Each
// connection's peer credentials (SO_PEERCRED) are read at accept and are
// visible to handlers through CurrentPeer() while its requests run.
#ifndef PCIPASS_DAEMON_UNIX_HTTP_SERVER_H_
#define PCIPASS_DAEMON_UNIX_HTTP_SERVER_H_

#include <httplib.h>
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace pcipass::daemon {

struct PeerCred {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The peer of the Unix connection whose request this thread is handling;
// nullopt on any other thread (e.g. httplib's TCP workers).
std::optional<PeerCred> CurrentPeer();

class UnixHttpServer : public httplib::Server {
 public:
  UnixHttpServer() = default;
  ~UnixHttpServer() override;

  // Creates the socket at |path| (a stale socket file nobody listens on is
  // replaced; any other existing file is an error), chmod |mode|, and
  // chgrp |gid| when set. Errors name the path and errno.
  Status Bind(const std::string& path, mode_t mode, std::optional<gid_t> gid);
  // Accepts and serves until Shutdown(); |workers| connections at a time
  // (others wait in the kernel's backlog / the queue).
  void Serve(int workers);
  // Stops accepting, removes the socket file, lets every request being
  // handled finish (idle keep-alive connections are closed) and returns
  // once Serve has returned. Safe from any thread, idempotent.
  void Shutdown();

  // The serving keeps a connection open for up to this many requests.
  void set_max_requests_per_connection(int n) { max_requests_ = n; }

 private:
  void Worker();
  void HandleConnection(int fd);

  int listen_fd_ = -1;
  std::string path_;
  int max_requests_ = 100;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> pending_;
  bool serving_ = false;
  bool serving_done_ = false;
  std::condition_variable done_cv_;
};

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_UNIX_HTTP_SERVER_H_
