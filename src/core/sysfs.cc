#include "core/sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <system_error>
#include <thread>

#include "core/host_root_open.h"

namespace pcipass::sysfs {

namespace fs = std::filesystem;

namespace {

// Refuses what is not a regular file (a FIFO or a device node planted in a
// tree would block or never end). Returns OK or the error naming |path|.
Status CheckRegular(int fd, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::FromErrno(errno, what);
  if (!S_ISREG(st.st_mode)) {
    return Status::FailedPrecondition(what + ": not a regular file (" +
                                      (S_ISDIR(st.st_mode)    ? "a directory"
                                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                                       : S_ISCHR(st.st_mode)
                                           ? "a character device"
                                       : S_ISBLK(st.st_mode)  ? "a block device"
                                       : S_ISSOCK(st.st_mode) ? "a socket"
                                                              : "not a file") +
                                      "); kernel attributes are regular files");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadText(const fs::path& path, size_t max_bytes) {
  const std::string what = "read " + path.string();
  int fd = hostfs::OpenHostPath(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, what);
  if (Status s = CheckRegular(fd, what); !s.ok()) {
    ::close(fd);
    return s;
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, what);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return Status::IOError(what + ": larger than the " +
                             std::to_string(max_bytes) +
                             "-byte limit for this file");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::optional<std::string> ReadOptional(const fs::path& path,
                                        size_t max_bytes) {
  auto r = ReadText(path, max_bytes);
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

Result<fs::path> ReadLink(const fs::path& path) {
  const std::string what = "readlink " + path.string();
  int fd = hostfs::OpenHostPath(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, what);
  char buf[PATH_MAX];
  ssize_t n = ::readlinkat(fd, "", buf, sizeof(buf));
  int err = errno;
  ::close(fd);
  if (n < 0) return Status::FromErrno(err, what);
  if (static_cast<size_t>(n) >= sizeof(buf)) {
    return Status::FromErrno(ENAMETOOLONG, what);
  }
  return fs::path(std::string(buf, static_cast<size_t>(n)));
}

std::optional<std::string> LinkBasename(const fs::path& path) {
  auto r = ReadLink(path);
  if (!r.ok()) return std::nullopt;
  std::string name = r->filename().string();
  if (name.empty()) return std::nullopt;
  return name;
}

Result<std::vector<std::string>> ListDir(const fs::path& path) {
  const std::string what = "list " + path.string();
  int fd = hostfs::OpenHostPath(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, what);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, what);
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool Exists(const fs::path& path) {
  int fd = hostfs::OpenHostPath(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

Status WriteText(const fs::path& path, std::string_view value) {
  const std::string what = "write " + path.string();
  int fd = hostfs::OpenHostPath(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, what);
  if (Status s = CheckRegular(fd, what); !s.ok()) {
    ::close(fd);
    return s;
  }
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return Status::FromErrno(err, what);
  if (static_cast<size_t>(n) != value.size()) {
    return Status::IOError(what + ": short write (" + std::to_string(n) +
                           " of " + std::to_string(value.size()) + " bytes)");
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
