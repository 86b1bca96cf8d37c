#include "core/sysfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <system_error>
#include <thread>

namespace pcipass::sysfs {

namespace fs = std::filesystem;

Result<std::string> ReadText(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "read " + path.string());
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "read " + path.string());
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::optional<std::string> ReadOptional(const fs::path& path) {
  auto r = ReadText(path);
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

Result<fs::path> ReadLink(const fs::path& path) {
  std::error_code ec;
  fs::path target = fs::read_symlink(path, ec);
  if (ec) return Status::FromErrno(ec.value(), "readlink " + path.string());
  return target;
}

std::optional<std::string> LinkBasename(const fs::path& path) {
  auto r = ReadLink(path);
  if (!r.ok()) return std::nullopt;
  std::string name = r->filename().string();
  if (name.empty()) return std::nullopt;
  return name;
}

Result<std::vector<std::string>> ListDir(const fs::path& path) {
  std::error_code ec;
  fs::directory_iterator it(path, ec);
  if (ec) return Status::FromErrno(ec.value(), "list " + path.string());
  std::vector<std::string> names;
  for (const auto& entry : it) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

bool Exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec)) && !ec;
}

Status WriteText(const fs::path& path, std::string_view value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "write " + path.string());
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return Status::FromErrno(err, "write " + path.string());
  if (static_cast<size_t>(n) != value.size()) {
    return Status::IOError("write " + path.string() + ": short write (" +
                           std::to_string(n) + " of " +
                           std::to_string(value.size()) + " bytes)");
  }
  return Status::Ok();
}

Status WriteTextWithTimeout(const fs::path& path, std::string_view value,
                            std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> done = promise->get_future();
  std::thread([promise, path, v = std::string(value)] {
    promise->set_value(WriteText(path, v));
  }).detach();
  if (done.wait_for(timeout) == std::future_status::timeout) {
    return Status::Unavailable("write " + path.string() + ": timed out after " +
                               std::to_string(timeout.count()) +
                               " ms (the kernel may still be waiting, e.g. "
                               "for a VFIO user to close the device)");
  }
  return done.get();
}

std::optional<uint32_t> ParseHex(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  if (text.empty() || text.size() > 8) return std::nullopt;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<long> ParseInt(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace pcipass::sysfs
