#include "core/host_root.h"

#include <fcntl.h>
#include <linux/openat2.h>  // struct open_how, RESOLVE_*
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <set>
#include <vector>

#include "core/host_root_open.h"

namespace pcipass {

namespace fs = std::filesystem;

namespace {
fs::path Join(const fs::path& base, std::string_view rel) {
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  if (rel.empty()) return base;
  return base / fs::path(rel);
}

// "a//b/./c/" -> {"a", "b", ".", "c"} (empty components dropped).
void SplitInto(std::string_view text, std::deque<std::string>& out,
               bool front) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('/', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) parts.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  if (front) {
    out.insert(out.begin(), parts.begin(), parts.end());
  } else {
    out.insert(out.end(), parts.begin(), parts.end());
  }
}

// Roots of every HostRoot made in this process, other than "/". Kept for
// the life of the process: a path built from a temporary HostRoot must
// stay confined after the HostRoot is gone.
std::mutex& RegistryMutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& Registry() {
  static std::set<std::string> roots;
  return roots;
}

// Closes the fds it holds on every return path (errno preserved).
class FdStack {
 public:
  ~FdStack() { Clear(); }
  void Push(int fd) { fds_.push_back(fd); }
  void Pop() {
    if (fds_.empty()) return;
    int saved = errno;
    ::close(fds_.back());
    fds_.pop_back();
    errno = saved;
  }
  void Clear() {
    while (!fds_.empty()) Pop();
  }
  int TopOr(int fallback) const {
    return fds_.empty() ? fallback : fds_.back();
  }

 private:
  std::vector<int> fds_;
};

constexpr int kMaxLinks = 40;  // the kernel's MAXSYMLINKS

}  // namespace

namespace hostfs::internal {

std::atomic<bool> g_force_walk{false};

// The fallback when openat2 is missing (ENOSYS): the same rules as
// RESOLVE_IN_ROOT, one component at a time. Every component is looked at
// with readlinkat first; a link's target is spliced into the remaining
// components (absolute: restart at the root), anything else is opened with
// O_NOFOLLOW, so a component swapped for a link in between fails (ELOOP)
// instead of escaping.
int WalkInRoot(int rootfd, std::string_view rel, int flags) {
  std::deque<std::string> todo;
  SplitInto(rel, todo, /*front=*/false);
  FdStack dirs;  // the directories below the root, innermost last
  int links = 0;
  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      dirs.Pop();  // at the root, ".." is the root
      continue;
    }
    const int cur = dirs.TopOr(rootfd);
    const bool last = todo.empty();
    const bool follow = !last || !(flags & O_NOFOLLOW);
    if (follow) {
      char buf[PATH_MAX];
      ssize_t n = ::readlinkat(cur, name.c_str(), buf, sizeof(buf));
      if (n >= 0) {
        if (static_cast<size_t>(n) >= sizeof(buf)) {
          errno = ENAMETOOLONG;
          return -1;
        }
        if (++links > kMaxLinks) {
          errno = ELOOP;
          return -1;
        }
        std::string_view target(buf, static_cast<size_t>(n));
        if (!target.empty() && target.front() == '/') dirs.Clear();
        SplitInto(target, todo, /*front=*/true);
        continue;
      }
      if (errno != EINVAL) return -1;  // ENOENT, ENOTDIR, EACCES..
    }
    if (last) {
      return ::openat(cur, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
    }
    int fd = ::openat(cur, name.c_str(),
                      O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    dirs.Push(fd);
  }
  // |rel| named a directory (or the root itself).
  return ::openat(dirs.TopOr(rootfd), ".", flags | O_CLOEXEC);
}

}  // namespace hostfs::internal

HostRoot::HostRoot(fs::path root) : root_(std::move(root)) {
  if (root_.empty()) root_ = "/";
  root_ = root_.lexically_normal();
  std::string s = root_.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  root_ = s;
  if (s != "/") {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    Registry().insert(s);
  }
}

HostRoot HostRoot::FromFlagOrEnv(const std::string& flag) {
  if (!flag.empty()) return HostRoot(flag);
  if (const char* env = std::getenv("PCIPASS_ROOT"); env && *env) {
    return HostRoot(env);
  }
  return HostRoot("/");
}

namespace hostfs {

int OpenRootFd(const HostRoot& host) {
  return ::open(host.root().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int OpenUnder(int rootfd, std::string_view rel, int flags) {
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  std::string path = rel.empty() ? std::string(".") : std::string(rel);
  static std::atomic<bool> have_openat2{true};
  if (have_openat2.load(std::memory_order_relaxed) &&
      !internal::g_force_walk.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof(how));
    if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
    have_openat2.store(false, std::memory_order_relaxed);  // kernel < 5.6
  }
  return internal::WalkInRoot(rootfd, path, flags);
}

std::pair<std::string, std::string> SplitHostPath(const fs::path& path) {
  const std::string& p = path.native();
  std::string best;
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    for (const std::string& root : Registry()) {
      if (root.size() <= best.size()) continue;
      if (p.size() < root.size() || p.compare(0, root.size(), root) != 0) {
        continue;
      }
      if (p.size() == root.size() || p[root.size()] == '/') best = root;
    }
  }
  if (best.empty()) return {"", p};
  std::string rel = p.substr(best.size());
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  return {best, rel};
}

int OpenHostPath(const fs::path& path, int flags) {
  auto [root, rel] = SplitHostPath(path);
  if (root.empty()) return ::open(path.c_str(), flags | O_CLOEXEC);
  int rootfd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return -1;
  int fd = OpenUnder(rootfd, rel, flags);
  int saved = errno;
  ::close(rootfd);
  errno = saved;
  return fd;
}

fs::path ResolveInRoot(const HostRoot& host, const fs::path& path) {
  if (host.is_real_root()) return path;
  // Named, not a structured binding: clang 14 (the fuzz build) cannot
  // capture one in the lambda below.
  const std::pair<std::string, std::string> split = SplitHostPath(path);
  const std::string& root = split.first;
  const std::string& rel = split.second;
  if (root != host.root().string()) return path;
  // The same rules as WalkInRoot, on names: each existing link is replaced
  // by its target (absolute: from the root; ".." stops at the root), so
  // the result holds no symlink; names that do not exist yet are kept.
  std::deque<std::string> todo;
  SplitInto(rel, todo, /*front=*/false);
  std::vector<std::string> resolved;
  auto join = [&] {
    std::string out = root;
    for (const std::string& c : resolved) out += "/" + c;
    return out;
  };
  int links = 0;
  bool linked = false;
  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      if (!resolved.empty()) resolved.pop_back();
      linked = true;
      continue;
    }
    const std::string at = join() + "/" + name;
    char buf[PATH_MAX];
    ssize_t n = ::readlink(at.c_str(), buf, sizeof(buf));
    if (n >= 0 && static_cast<size_t>(n) < sizeof(buf) &&
        ++links <= kMaxLinks) {
      linked = true;
      std::string_view target(buf, static_cast<size_t>(n));
      if (!target.empty() && target.front() == '/') resolved.clear();
      SplitInto(target, todo, /*front=*/true);
      continue;
    }
    resolved.push_back(std::move(name));
  }
  if (!linked) return path;  // keep the caller's spelling
  return fs::path(join());
}

}  // namespace hostfs

fs::path HostRoot::Sys(std::string_view rel) const {
  return Join(root_ / "sys", rel);
}
fs::path HostRoot::Proc(std::string_view rel) const {
  return Join(root_ / "proc", rel);
}
fs::path HostRoot::Dev(std::string_view rel) const {
  return Join(root_ / "dev", rel);
}
fs::path HostRoot::Path(std::string_view rel) const { return Join(root_, rel); }

fs::path HostRoot::PciDevicesDir() const { return Sys("bus/pci/devices"); }
fs::path HostRoot::PciDeviceDir(const PciAddress& addr) const {
  return PciDevicesDir() / addr.ToString();
}
fs::path HostRoot::PciDriversDir() const { return Sys("bus/pci/drivers"); }
fs::path HostRoot::PciDriverDir(std::string_view driver) const {
  return PciDriversDir() / std::string(driver);
}
fs::path HostRoot::PciBusFile(std::string_view name) const {
  return Sys("bus/pci") / std::string(name);
}
fs::path HostRoot::IommuGroupsDir() const { return Sys("kernel/iommu_groups"); }
fs::path HostRoot::IommuGroupDir(int group) const {
  return IommuGroupsDir() / std::to_string(group);
}
fs::path HostRoot::ClassDir(std::string_view cls) const {
  return Sys("class") / std::string(cls);
}
fs::path HostRoot::ModuleDir(std::string_view module) const {
  return Sys("module") / std::string(module);
}
fs::path HostRoot::VfioGroupNode(int group) const {
  return Dev("vfio") / std::to_string(group);
}
fs::path HostRoot::VfioContainerNode() const { return Dev("vfio/vfio"); }

}  // namespace pcipass
