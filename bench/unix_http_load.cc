// unix_http_load: a small closed-loop HTTP/1.1 load generator for a Unix
// socket (wrk speaks TCP only). Each of C connections sends its requests
// back to back on one keep-alive connection; the tool prints requests/s
// and latency percentiles over every request.
//
//   pcipassd_unix_load SOCKET METHOD PATH [BODY] --connections C
//       --requests N      (N per connection)
//
// Every reply must be HTTP 2xx; the first other status stops the run with
// exit 1.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

bool ReadReply(int fd, std::string* buf, int* status) {
  buf->clear();
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  char chunk[65536];
  while (true) {
    if (header_end == std::string::npos) {
      header_end = buf->find("\r\n\r\n");
      if (header_end != std::string::npos) {
        *status = std::atoi(buf->c_str() + 9);
        std::string head = buf->substr(0, header_end);
        std::transform(head.begin(), head.end(), head.begin(), ::tolower);
        size_t cl = head.find("content-length:");
        content_length =
            cl == std::string::npos
                ? 0
                : std::strtoul(head.c_str() + cl + 15, nullptr, 10);
      }
    }
    if (header_end != std::string::npos &&
        buf->size() >= header_end + 4 + content_length) {
      return true;
    }
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buf->append(chunk, static_cast<size_t>(n));
  }
}

int Connect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s SOCKET METHOD PATH [BODY] --connections C "
                 "--requests N\n",
                 argv[0]);
    return 2;
  }
  // The server closes a connection after its per-connection request
  // budget; the write that finds it closed must fail, not kill us.
  signal(SIGPIPE, SIG_IGN);
  std::string sock = argv[1], method = argv[2], path = argv[3], body;
  int conns = 1, per_conn = 100;
  for (int i = 4; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--connections" && i + 1 < argc) {
      conns = std::atoi(argv[++i]);
    } else if (a == "--requests" && i + 1 < argc) {
      per_conn = std::atoi(argv[++i]);
    } else {
      body = a;
    }
  }
  std::string request = method + " " + path +
                        " HTTP/1.1\r\nHost: localhost\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  std::vector<std::vector<double>> lat(static_cast<size_t>(conns));
  std::atomic<bool> failed{false};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(conns));
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      int fd = -1;
      std::string buf;
      for (int i = 0; i < per_conn && !failed; ++i) {
        if (fd < 0) fd = Connect(sock);
        if (fd < 0) {
          failed = true;
          break;
        }
        auto s = std::chrono::steady_clock::now();
        int status = 0;
        if (::write(fd, request.data(), request.size()) !=
                static_cast<ssize_t>(request.size()) ||
            !ReadReply(fd, &buf, &status)) {
          // The server closes a connection after its request budget.
          ::close(fd);
          fd = -1;
          --i;
          continue;
        }
        if (status < 200 || status >= 300) {
          std::fprintf(stderr, "HTTP %d: %s\n", status, buf.c_str());
          failed = true;
          break;
        }
        lat[static_cast<size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(
                std::chrono::steady_clock::now() - s)
                .count());
      }
      if (fd >= 0) ::close(fd);
    });
  }
  for (std::thread& t : threads) t.join();
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  if (failed) return 1;
  std::vector<double> all;
  for (const auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all[std::min(
        all.size() - 1,
        static_cast<size_t>(p * static_cast<double>(all.size())))];
  };
  std::printf("%zu requests in %.2f s: %.1f req/s, p50 %.2f ms, p99 %.2f ms\n",
              all.size(), secs, static_cast<double>(all.size()) / secs,
              pct(0.50), pct(0.99));
  return 0;
}
