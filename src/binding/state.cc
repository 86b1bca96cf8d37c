#include "binding/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/bounded_input.h"
#include "core/host_root.h"
#include "core/lock_wait.h"
#include "core/sysfs.h"

namespace pcipass {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Status::FromErrno(ec.value(), "create state directory " + dir);
  }
  return Status::Ok();
}

// Writes |text| to |path| via a temporary file, fsync and rename, then
// fsyncs the directory so the rename itself is durable.
Status WriteFileAtomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  // O_NOFOLLOW: a link planted at the temporary name (a --root tree's
  // var/lib/pcipass) must not truncate a file elsewhere.
  int fd = ::open(tmp.c_str(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "open " + tmp.string());
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "write " + tmp.string());
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, "fsync " + tmp.string());
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::FromErrno(errno, "rename " + tmp.string());
  }
  int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

json OptString(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

std::optional<std::string> GetOptString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

json RecordToJson(const HandOffRecord& r) {
  return json{{"address", r.address.ToString()},
              {"original_driver", OptString(r.original_driver)},
              {"previous_override", OptString(r.previous_override)}};
}

// Throws nlohmann exceptions on bad shape; callers catch.
HandOffRecord RecordFromJson(const json& j) {
  HandOffRecord r;
  auto addr = PciAddress::Parse(j.at("address").get<std::string>());
  if (!addr.ok()) throw std::runtime_error(addr.status().message());
  r.address = *addr;
  r.original_driver = GetOptString(j, "original_driver");
  r.previous_override = GetOptString(j, "previous_override");
  return r;
}

fs::path RecordPath(const std::string& state_dir, const PciAddress& a) {
  return fs::path(state_dir) / "devices" / (a.ToString() + ".json");
}

}  // namespace

std::string_view JournalStepName(JournalStep step) {
  switch (step) {
    case JournalStep::kPending:
      return "pending";
    case JournalStep::kOverrideSet:
      return "override_set";
    case JournalStep::kUnbound:
      return "unbound";
    case JournalStep::kBound:
      return "bound";
  }
  return "pending";
}

Result<StateLock> StateLock::Acquire(const std::string& state_dir) {
  PCIPASS_RETURN_IF_ERROR(MakeDirs(state_dir));
  const std::string path = (fs::path(state_dir) / "lock").string();
  // O_NOFOLLOW: a lock file replaced by a symlink would make root create
  // or lock a file elsewhere.
  int fd =
      ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ELOOP) {
    return Status::FailedPrecondition(
        "the state lock " + path +
        " is a symbolic link; pcipass does not follow links in its state "
        "directory. Remove it (rm " +
        path + ") and run the command again");
  }
  if (fd < 0) return Status::FromErrno(errno, "open lock " + path);
  // Bounded: poll with LOCK_NB, say after a second who holds it, give up
  // after the policy's timeout naming the file and the holder.
  const LockWaitPolicy policy = CurrentLockWaitPolicy();
  const auto started = std::chrono::steady_clock::now();
  bool noticed = false;
  for (int attempt = 0;; ++attempt) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return StateLock(fd);
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "flock " + path);
    }
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
    if (waited >= policy.timeout_ms) {
      ::close(fd);
      std::string holder = FlockHolder(path, HostRoot().Proc().string());
      return Status::Unavailable(
          "the state lock " + path + " is held by " +
          (holder.empty() ? std::string("another process") : holder) +
          " (another pcipass changing bindings, claims or VFs); gave up "
          "after " +
          std::to_string(policy.timeout_ms / 1000) +
          " s. Wait for it to finish (or stop it), or wait longer with "
          "--lock-timeout SECONDS or [claims] lock_timeout");
    }
    if (!noticed && waited >= policy.notice_after_ms) {
      noticed = true;
      std::string holder = FlockHolder(path, HostRoot().Proc().string());
      NoticeLockWait(
          policy,
          "waiting for the state lock " + path + ", held by " +
              (holder.empty() ? std::string("another process") : holder) +
              "; giving up after " + std::to_string(policy.timeout_ms / 1000) +
              " s");
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(attempt < 10 ? 5 : 50));
  }
}

StateLock::StateLock(StateLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the fd releases the flock
}

Status WriteJournal(const std::string& state_dir, const Journal& journal) {
  PCIPASS_RETURN_IF_ERROR(MakeDirs(state_dir));
  json j;
  j["op"] = journal.op;
  j["pid"] = journal.pid;
  j["started"] = journal.started;
  j["force_reason"] = OptString(journal.force_reason);
  j["devices"] = json::array();
  for (const JournalDevice& d : journal.devices) {
    json e = RecordToJson(d.record);
    e["step"] = std::string(JournalStepName(d.step));
    j["devices"].push_back(e);
  }
  j["sriov_pf"] =
      journal.sriov_pf ? json(journal.sriov_pf->ToString()) : json(nullptr);
  j["sriov_numvfs"] = journal.sriov_numvfs;
  return WriteFileAtomic(fs::path(state_dir) / "journal.json", j.dump(2) + "\n")
      .WithContext("journal");
}

Result<std::optional<Journal>> ReadJournal(const std::string& state_dir) {
  const fs::path path = fs::path(state_dir) / "journal.json";
  auto text = ReadUserFile(path, kMaxStateFileBytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return std::optional<Journal>();
    }
    return text.status().WithContext("read " + path.string());
  }
  try {
    if (Status d = CheckJsonDepth(*text, kMaxStoredJsonDepth); !d.ok()) {
      throw std::runtime_error(d.message());
    }
    json j = json::parse(*text);
    Journal journal;
    journal.op = j.at("op").get<std::string>();
    journal.pid = j.value("pid", 0);
    journal.started = j.value("started", "");
    journal.force_reason = GetOptString(j, "force_reason");
    for (const json& e : j.at("devices")) {
      JournalDevice d;
      d.record = RecordFromJson(e);
      const std::string step = e.at("step").get<std::string>();
      d.step = JournalStep::kPending;
      for (JournalStep s : {JournalStep::kOverrideSet, JournalStep::kUnbound,
                            JournalStep::kBound}) {
        if (step == JournalStepName(s)) d.step = s;
      }
      journal.devices.push_back(d);
    }
    if (auto pf = GetOptString(j, "sriov_pf")) {
      auto addr = PciAddress::Parse(*pf);
      if (!addr.ok()) throw std::runtime_error(addr.status().message());
      journal.sriov_pf = *addr;
    }
    journal.sriov_numvfs = j.value("sriov_numvfs", 0);
    return std::optional<Journal>(journal);
  } catch (const std::exception& e) {
    return Status::DataLoss("journal " + path.string() + " is corrupt (" +
                            e.what() +
                            "); inspect it, fix the devices by hand, then "
                            "remove it");
  }
}

Status ClearJournal(const std::string& state_dir) {
  const fs::path path = fs::path(state_dir) / "journal.json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "remove " + path.string());
  }
  return Status::Ok();
}

Status SaveRecord(const std::string& state_dir, const HandOffRecord& record) {
  const fs::path path = RecordPath(state_dir, record.address);
  PCIPASS_RETURN_IF_ERROR(MakeDirs(path.parent_path().string()));
  return WriteFileAtomic(path, RecordToJson(record).dump(2) + "\n");
}

Result<std::optional<HandOffRecord>> LoadRecord(const std::string& state_dir,
                                                const PciAddress& address) {
  const fs::path path = RecordPath(state_dir, address);
  auto text = ReadUserFile(path, kMaxStateFileBytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return std::optional<HandOffRecord>();
    }
    return text.status().WithContext("read " + path.string());
  }
  try {
    if (Status d = CheckJsonDepth(*text, kMaxStoredJsonDepth); !d.ok()) {
      throw std::runtime_error(d.message());
    }
    return std::optional<HandOffRecord>(RecordFromJson(json::parse(*text)));
  } catch (const std::exception& e) {
    return Status::DataLoss("device record " + path.string() + " is corrupt (" +
                            e.what() + ")");
  }
}

Status RemoveRecord(const std::string& state_dir, const PciAddress& address) {
  const fs::path path = RecordPath(state_dir, address);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "remove " + path.string());
  }
  return Status::Ok();
}

Status AppendLog(const std::string& state_dir, const std::string& line) {
  PCIPASS_RETURN_IF_ERROR(MakeDirs(state_dir));
  const fs::path path = fs::path(state_dir) / "log";
  int fd = ::open(path.c_str(),
                  O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "open " + path.string());
  const std::string text =
      UtcNow() + " pid=" + std::to_string(::getpid()) + " " + line + "\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return Status::FromErrno(n < 0 ? err : EIO, "append " + path.string());
  }
  return Status::Ok();
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace pcipass
