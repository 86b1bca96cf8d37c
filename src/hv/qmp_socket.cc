#include "hv/qmp_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/bounded_input.h"

namespace pcipass::hv {

namespace {

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

bool Matches(const nlohmann::json& data, const nlohmann::json& match) {
  if (!match.is_object()) return true;
  for (auto it = match.begin(); it != match.end(); ++it) {
    if (!data.is_object() || !data.contains(it.key()) ||
        data[it.key()] != it.value()) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<QmpClient>> QmpClient::Connect(const std::string& path,
                                                      int timeout_ms) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Status::InvalidArgument("QMP socket path '" + path +
                                   "' is longer than " +
                                   std::to_string(sizeof(addr.sun_path) - 1) +
                                   " bytes; use a shorter path");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno(errno, "socket(AF_UNIX)");
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return Status::Unavailable(
        "QMP: cannot connect to " + path + ": " + std::strerror(err) +
        " (is QEMU running with -qmp unix:" + path + ",server=on,wait=off?)");
  }
  std::unique_ptr<QmpClient> client(new QmpClient(fd, timeout_ms));
  Result<std::string> line = client->ReadLine(NowMs() + timeout_ms);
  if (!line.ok()) return line.status().WithContext("QMP greeting");
  Result<qmp::Message> greeting = qmp::Decode(*line);
  if (!greeting.ok()) return greeting.status();
  if (greeting->kind != qmp::Message::Kind::kGreeting) {
    return Status::DataLoss(
        "QMP: " + path + " did not greet with {\"QMP\": ...}: '" + *line + "'");
  }
  Result<nlohmann::json> caps = client->Execute("qmp_capabilities");
  if (!caps.ok()) return caps.status();
  return client;
}

QmpClient::~QmpClient() {
  if (fd_ >= 0) close(fd_);
}

Status QmpClient::Send(const std::string& line) {
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "QMP send");
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<std::string> QmpClient::ReadLine(int64_t deadline_ms) {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      return line;
    }
    int64_t left = deadline_ms - NowMs();
    if (left <= 0) {
      return Status::Unavailable("QMP: no answer from QEMU within " +
                                 std::to_string(timeout_ms_) + " ms");
    }
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "QMP poll");
    }
    if (r == 0) continue;  // the deadline check above reports it
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "QMP recv");
    }
    if (n == 0) {
      return Status::Unavailable("QMP: QEMU closed the connection");
    }
    buffer_.append(buf, static_cast<size_t>(n));
    if (buffer_.size() > kMaxQmpLineBytes &&
        buffer_.find('\n') == std::string::npos) {
      buffer_.clear();
      return Status::DataLoss("QMP: a message longer than " +
                              std::to_string(kMaxQmpLineBytes / 1024) +
                              " KiB without a newline (the limit); is this a "
                              "QEMU QMP socket?");
    }
  }
}

Result<nlohmann::json> QmpClient::Execute(std::string_view name,
                                          const nlohmann::json& args) {
  std::string id = "pcipass-" + std::to_string(next_id_++);
  PCIPASS_RETURN_IF_ERROR(Send(qmp::EncodeCommand(name, args, id)));
  int64_t deadline = NowMs() + timeout_ms_;
  for (;;) {
    Result<std::string> line = ReadLine(deadline);
    if (!line.ok()) {
      return line.status().WithContext("QMP " + std::string(name));
    }
    Result<qmp::Message> m = qmp::Decode(*line);
    if (!m.ok()) return m.status();
    if (m->kind == qmp::Message::Kind::kEvent) {
      events_.push_back(std::move(*m));
      continue;
    }
    if (m->id != id) continue;  // a stale reply to an abandoned command
    if (m->kind == qmp::Message::Kind::kError) {
      return qmp::ErrorStatus(name, *m);
    }
    return m->body;
  }
}

Result<nlohmann::json> QmpClient::WaitEvent(std::string_view name,
                                            const nlohmann::json& match,
                                            int timeout_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    for (auto it = events_.begin(); it != events_.end(); ++it) {
      if (it->event == name && Matches(it->body, match)) {
        nlohmann::json data = it->body;
        events_.erase(it);
        return data;
      }
    }
    Result<std::string> line = ReadLine(deadline);
    if (!line.ok()) {
      return Status::Unavailable(
          "QMP: no " + std::string(name) + " event matching " + match.dump() +
          " within " + std::to_string(timeout_ms) + " ms");
    }
    Result<qmp::Message> m = qmp::Decode(*line);
    if (!m.ok()) return m.status();
    if (m->kind == qmp::Message::Kind::kEvent) events_.push_back(*m);
  }
}

Status HotplugDevice(QmpClient& qmp, const HostdevAssignment& device,
                     std::string_view bus, const QemuOptions& options) {
  Result<nlohmann::json> args = qmp::DeviceAddArgs(device, options, bus);
  if (!args.ok()) return args.status();
  Result<nlohmann::json> r = qmp.Execute("device_add", *args);
  if (!r.ok()) {
    return r.status().WithContext("hot-plugging " + device.host.ToString() +
                                  " as " + device.id);
  }
  return Status::Ok();
}

Status UnplugDevice(QmpClient& qmp, const std::string& id, int timeout_ms) {
  Result<nlohmann::json> r = qmp.Execute("device_del", {{"id", id}});
  if (!r.ok()) return r.status();
  Result<nlohmann::json> ev =
      qmp.WaitEvent("DEVICE_DELETED", {{"device", id}}, timeout_ms);
  if (!ev.ok()) {
    return Status::Unavailable(
        "device " + id + " was not released by the guest within " +
        std::to_string(timeout_ms) +
        " ms (the guest OS must acknowledge a PCI unplug); the device is "
        "still in the VM: do not release its claim yet");
  }
  return Status::Ok();
}

}  // namespace pcipass::hv
