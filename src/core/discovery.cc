#include "core/discovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/host_root_open.h"
#include "core/host_use.h"
#include "core/iommu.h"
#include "core/pci_names.h"
#include "core/sysfs.h"
#include "core/uevent.h"

namespace pcipass {

namespace {

// Highest NUMA node id Linux can have (MAX_NUMNODES with NODES_SHIFT 10).
constexpr long kMaxNumaNode = 1023;

// An fd that closes itself.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// A directory open during discovery, with its path relative to the root
// and the root's fd: a symlink met below it is resolved from the root,
// inside it (HostRoot::OpenUnder), never outside.
struct Dir {
  int fd;
  std::string rel;  // "sys/bus/pci/devices/0000:01:00.0"
  int rootfd;
  Dir Sub(int subfd, std::string_view name) const {
    return Dir{subfd, rel + "/" + std::string(name), rootfd};
  }
};

// Opens |name| in |dir|. A plain entry (every attribute and subdirectory
// of real sysfs) is opened right there with O_NOFOLLOW, the fast path; a
// symlink (ELOOP, or ENOTDIR with O_DIRECTORY) is resolved from the root,
// confined to it.
int OpenIn(const Dir& dir, const char* name, int flags) {
  int fd = ::openat(dir.fd, name, flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 || (errno != ELOOP && errno != ENOTDIR)) return fd;
  return hostfs::OpenUnder(dir.rootfd, dir.rel + "/" + name, flags);
}

// Entry names of the directory |sub| of |dir| (which stays open), sorted,
// without "." and "..". "." lists |dir| itself.
// getdents64 straight on the fd instead of fdopendir/readdir: discovery
// lists every device directory, and opendir's dup, fstat and two fcntl
// calls were a fifth of its syscalls on a 4,096-function host.
std::vector<std::string> ListAt(const Dir& dir, const char* sub) {
  std::vector<std::string> out;
  const bool self = sub[0] == '.' && sub[1] == '\0';
  int fd = self ? dir.fd : OpenIn(dir, sub, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return out;
  // The same fd may be listed twice (or used by readdir elsewhere).
  if (self && ::lseek(fd, 0, SEEK_SET) != 0) return out;
  alignas(dirent64) char buf[32768];
  for (;;) {
    ssize_t n = ::getdents64(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const dirent64*>(buf + off);
      off += e->d_reclen;
      if (e->d_name[0] == '.' &&
          (e->d_name[1] == '\0' ||
           (e->d_name[1] == '.' && e->d_name[2] == '\0'))) {
        continue;
      }
      out.emplace_back(e->d_name);
    }
  }
  if (!self) ::close(fd);
  std::sort(out.begin(), out.end());
  return out;
}

// Whole small file |name| in |dir|, one trailing newline stripped; nullopt
// when it cannot be read or holds more than sysfs::kMaxAttributeBytes
// (errno EFBIG then). O_NONBLOCK: a FIFO in a tree reads as empty instead
// of waiting for a writer.
std::optional<std::string> ReadAt(const Dir& dir, const char* name) {
  int fd = OpenIn(dir, name, O_RDONLY | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (out.size() + static_cast<size_t>(n) > sysfs::kMaxAttributeBytes) {
      ::close(fd);
      errno = EFBIG;
      return std::nullopt;
    }
    out.append(buf, static_cast<size_t>(n));
    // sysfs returns a whole attribute in one read; a short read is the
    // end, which saves the second read(2) on every file.
    if (n < static_cast<ssize_t>(sizeof(buf))) break;
  }
  ::close(fd);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Basename of the target of symlink |name| relative to |dirfd|.
std::optional<std::string> LinkBaseAt(int dirfd, const char* name) {
  char buf[4096];
  ssize_t n = ::readlinkat(dirfd, name, buf, sizeof(buf) - 1);
  if (n <= 0) return std::nullopt;
  std::string_view t(buf, static_cast<size_t>(n));
  while (!t.empty() && t.back() == '/') t.remove_suffix(1);
  auto slash = t.rfind('/');
  if (slash != std::string_view::npos) t.remove_prefix(slash + 1);
  if (t.empty()) return std::nullopt;
  return std::string(t);
}

// Sorted directory entries with cheap membership tests.
class Entries {
 public:
  explicit Entries(std::vector<std::string> names) : names_(std::move(names)) {}
  bool Has(std::string_view name) const {
    return std::binary_search(names_.begin(), names_.end(), name,
                              std::less<>());
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
};

// Reads one attribute and records a warning when it is missing (if
// |required|) or does not parse.
class DeviceReader {
 public:
  DeviceReader(const Dir& dir, const Entries& entries, PciDevice& dev)
      : dir_(dir), entries_(entries), dev_(dev) {}

  std::optional<std::string> Text(const char* name, bool required) {
    if (!entries_.Has(name)) {
      if (required) Warn(std::string(name) + ": missing");
      return std::nullopt;
    }
    auto v = ReadAt(dir_, name);
    if (!v) {
      Warn(std::string(name) +
           (errno == EFBIG
                ? ": larger than " + std::to_string(sysfs::kMaxAttributeBytes) +
                      " bytes, not read"
                : std::string(": unreadable")));
    }
    return v;
  }

  template <typename T>
  std::optional<T> Hex(const char* name, uint32_t max, bool required) {
    auto text = Text(name, required);
    if (!text) return std::nullopt;
    auto v = sysfs::ParseHex(*text);
    if (!v || *v > max) {
      Warn(std::string(name) + ": malformed value '" + Clip(*text) + "'");
      return std::nullopt;
    }
    return static_cast<T>(*v);
  }

  std::optional<long> Int(const char* name, bool required) {
    auto text = Text(name, required);
    if (!text) return std::nullopt;
    auto v = sysfs::ParseInt(*text);
    if (!v) {
      Warn(std::string(name) + ": malformed value '" + Clip(*text) + "'");
    }
    return v;
  }

  // Int() within [min, max]: a value outside (e.g. 99999999999, which an
  // int would silently truncate) is warned about, naming the range, and
  // treated as unknown.
  std::optional<int> IntIn(const char* name, bool required, long min,
                           long max) {
    auto v = Int(name, required);
    if (!v) return std::nullopt;
    if (*v < min || *v > max) {
      Warn(std::string(name) + ": value " + Clip(std::to_string(*v)) +
           " is outside " + std::to_string(min) + ".." + std::to_string(max) +
           "; treated as unknown");
      return std::nullopt;
    }
    return static_cast<int>(*v);
  }

  void Warn(std::string w) {
    dev_.warnings.push_back(dev_.address.ToString() + ": " + std::move(w));
  }

 private:
  static std::string Clip(const std::string& s) {
    std::string out = s.substr(0, 40);
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return out;
  }

  const Dir& dir_;
  const Entries& entries_;
  PciDevice& dev_;
};

// One interface |ifname| in the directory |parent| (a device's net/ or
// sys/class/net, whose entries are links to the same directory).
NetdevInfo ReadNetdevAt(const Dir& parent, const std::string& ifname) {
  NetdevInfo n;
  n.name = ifname;
  Fd ifd(OpenIn(parent, ifname.c_str(), O_RDONLY | O_DIRECTORY));
  if (ifd.ok()) {
    const Dir idir = parent.Sub(ifd.get(), ifname);
    n.operstate = ReadAt(idir, "operstate");
    if (auto flags = ReadAt(idir, "flags")) {
      auto v = sysfs::ParseHex(*flags);
      n.admin_up = v && (*v & 0x1);  // IFF_UP
    }
    n.master = LinkBaseAt(ifd.get(), "master");
  }
  return n;
}

void ReadNetdevs(const Dir& dev_dir, PciDevice& dev) {
  Fd netfd(OpenIn(dev_dir, "net", O_RDONLY | O_DIRECTORY));
  if (!netfd.ok()) return;
  const Dir net = dev_dir.Sub(netfd.get(), "net");
  for (const std::string& ifname : ListAt(net, ".")) {
    dev.netdevs.push_back(ReadNetdevAt(net, ifname));
  }
}

// Network interfaces that sit deeper than <pci dev>/net/ (read with the
// device): virtio-net's is <pci dev>/virtioN/net/eth0, and other drivers
// nest them too. They are found from sys/class/net links, whose targets
// name the owning PCI function as their deepest PCI-address component.
// Missing them would hide a host NIC with an address from host-use
// detection.
void AddNestedNetdevs(const HostRoot& host, int rootfd,
                      std::vector<PciDevice>& devices) {
  const std::filesystem::path class_net = host.ClassDir("net");
  const std::string rel = class_net.lexically_relative(host.root()).string();
  Fd classfd(hostfs::OpenUnder(rootfd, rel, O_RDONLY | O_DIRECTORY));
  if (!classfd.ok()) return;
  const Dir classdir{classfd.get(), rel, rootfd};
  std::unordered_map<PciAddress, size_t> index;
  for (size_t i = 0; i < devices.size(); ++i) index[devices[i].address] = i;
  for (const std::string& ifname : ListAt(classdir, ".")) {
    auto target = sysfs::ReadLink(class_net / ifname);
    if (!target.ok()) continue;
    std::optional<PciAddress> owner;
    for (const auto& part : *target) {
      auto a = PciAddress::Parse(part.string());
      if (a.ok()) owner = *a;
    }
    if (!owner) continue;  // virtual interfaces have no PCI parent
    auto it = index.find(*owner);
    if (it == index.end()) continue;
    PciDevice& dev = devices[it->second];
    const bool known =
        std::any_of(dev.netdevs.begin(), dev.netdevs.end(),
                    [&](const NetdevInfo& n) { return n.name == ifname; });
    if (known) continue;  // read from <pci dev>/net/ already
    dev.netdevs.push_back(ReadNetdevAt(classdir, ifname));
  }
}

void ReadNvme(const Dir& dev_dir, PciDevice& dev) {
  Fd nfd(OpenIn(dev_dir, "nvme", O_RDONLY | O_DIRECTORY));
  if (!nfd.ok()) return;
  for (const std::string& ctrl : ListAt(dev_dir.Sub(nfd.get(), "nvme"), ".")) {
    if (ctrl.rfind("nvme", 0) == 0) dev.nvme_controllers.push_back(ctrl);
  }
}

void ReadSriov(int fd, const Entries& entries, DeviceReader& r,
               PciDevice& dev) {
  if (entries.Has("sriov_totalvfs")) {
    // SR-IOV TotalVFs and NumVFs are 16-bit fields of the capability.
    if (auto v = r.IntIn("sriov_totalvfs", false, 0, 65535)) {
      dev.sriov_totalvfs = *v;
    }
    if (auto v = r.IntIn("sriov_numvfs", true, 0, 65535)) {
      dev.sriov_numvfs = *v;
      if (dev.sriov_totalvfs && *v > *dev.sriov_totalvfs) {
        r.Warn("sriov_numvfs " + std::to_string(*v) +
               " is above sriov_totalvfs " +
               std::to_string(*dev.sriov_totalvfs) +
               " (the kernel never allows that; the tree is inconsistent)");
      }
    }
    dev.sriov_vf_device = r.Hex<uint16_t>("sriov_vf_device", 0xffff, false);
    if (auto v = r.Text("sriov_drivers_autoprobe", false)) {
      if (*v == "1" || *v == "0") {
        dev.sriov_drivers_autoprobe = *v == "1";
      } else {
        r.Warn("sriov_drivers_autoprobe: malformed value '" + *v + "'");
      }
    }
  }
  std::vector<std::pair<int, PciAddress>> vfs;
  for (const std::string& name : entries.names()) {
    if (name.rfind("virtfn", 0) != 0) continue;
    const std::string_view view = name;
    auto idx = sysfs::ParseInt(view.substr(6));
    auto target = LinkBaseAt(fd, name.c_str());
    auto addr = target ? PciAddress::Parse(*target)
                       : Result<PciAddress>(Status::NotFound("no target"));
    if (!idx || *idx < 0 || *idx > 65535 || !addr.ok()) {
      r.Warn(name + ": not a link to a PCI function");
      continue;
    }
    vfs.emplace_back(static_cast<int>(*idx), *addr);
  }
  std::sort(vfs.begin(), vfs.end());
  for (auto& [i, a] : vfs) dev.virtfns.push_back(a);
  if (entries.Has("physfn")) {
    auto target = LinkBaseAt(fd, "physfn");
    auto addr = target ? PciAddress::Parse(*target)
                       : Result<PciAddress>(Status::NotFound("no target"));
    if (addr.ok() && *addr == dev.address) {
      r.Warn("physfn: points at the device itself; ignored");
    } else if (addr.ok()) {
      dev.physfn = *addr;
    } else {
      r.Warn("physfn: not a link to a PCI function");
    }
  }
  if (dev.physfn) {
    dev.type = DeviceType::kVf;
  } else if (dev.sriov_totalvfs && *dev.sriov_totalvfs > 0) {
    dev.type = DeviceType::kPf;
  }
}

}  // namespace

// PCI_ID=8086:10D3, PCI_SUBSYS_ID=8086:0000, PCI_CLASS=20000 (kernel
// pci_uevent format). Fields that do not parse are left unset so the
// caller reads the single files.
void ParseUevent(std::string_view text, PciDevice& dev) {
  auto pair = [](std::string_view v, std::optional<uint16_t>& a,
                 std::optional<uint16_t>& b) {
    auto colon = v.find(':');
    if (colon == std::string_view::npos) return;
    auto x = sysfs::ParseHex(v.substr(0, colon));
    auto y = sysfs::ParseHex(v.substr(colon + 1));
    if (x && y && *x <= 0xffff && *y <= 0xffff) {
      a = static_cast<uint16_t>(*x);
      b = static_cast<uint16_t>(*y);
    }
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("PCI_ID=", 0) == 0) {
      pair(line.substr(7), dev.vendor_id, dev.product_id);
    } else if (line.rfind("PCI_SUBSYS_ID=", 0) == 0) {
      pair(line.substr(14), dev.subsystem_vendor_id, dev.subsystem_product_id);
    } else if (line.rfind("PCI_CLASS=", 0) == 0) {
      auto c = sysfs::ParseHex(line.substr(10));
      if (c && *c <= 0xffffff) dev.class_code = *c;
    }
  }
}

namespace {

// The directories that device links point into (sys/devices/pci0000:00/
// 0000:00:02.0 holds a PF's 256 VFs), each opened once, confined, and
// shared by the threads: a confined openat2 from the root per device cost
// a fifth more CPU than the plain openat it replaced. At most kMaxCached
// are kept open (a hostile tree could name thousands).
class ParentDirs {
 public:
  explicit ParentDirs(int rootfd) : rootfd_(rootfd) {}
  ~ParentDirs() {
    for (auto& [rel, fd] : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  ParentDirs(const ParentDirs&) = delete;
  ParentDirs& operator=(const ParentDirs&) = delete;

  // An O_PATH fd of |rel| (under the root), or -1 (failed, or cache full).
  int Get(const std::string& rel) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = fds_.find(rel);
    if (it != fds_.end()) return it->second;
    if (fds_.size() >= kMaxCached) return -1;
    int fd = hostfs::OpenUnder(rootfd_, rel, O_PATH | O_DIRECTORY);
    fds_.emplace(rel, fd);
    return fd;
  }

 private:
  static constexpr size_t kMaxCached = 256;
  int rootfd_;
  std::mutex mu_;
  std::unordered_map<std::string, int> fds_;
};

// Opens the device directory |name| of |devs| (a relative link into
// sys/devices), confined: the link's parent directory comes from
// |parents|, its last component is opened there with O_NOFOLLOW. Anything
// else (absolute link, a link in the last component, a full cache) takes
// the general confined open from the root.
int OpenDeviceDir(const Dir& devs, const std::string& name,
                  ParentDirs& parents) {
  char buf[4096];
  ssize_t n = ::readlinkat(devs.fd, name.c_str(), buf, sizeof(buf));
  if (n > 0 && static_cast<size_t>(n) < sizeof(buf) && buf[0] != '/') {
    const std::string_view target(buf, static_cast<size_t>(n));
    const size_t slash = target.rfind('/');
    if (slash != std::string_view::npos) {
      const std::string base(target.substr(slash + 1));
      if (!base.empty() && base != "." && base != "..") {
        const int pfd =
            parents.Get(devs.rel + "/" + std::string(target.substr(0, slash)));
        if (pfd >= 0) {
          int fd = ::openat(pfd, base.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd >= 0) return fd;
        }
      }
    }
  }
  return hostfs::OpenUnder(devs.rootfd, devs.rel + "/" + name,
                           O_RDONLY | O_DIRECTORY);
}

// Reads one function, |name| in the directory |devs| (sys/bus/pci/devices,
// whose entries are symlinks into sys/devices, opened confined).
// |has_vfio_dev| reports the vfio-dev/ directory.
PciDevice ReadDevice(const Dir& devs, ParentDirs& parents,
                     const PciAddress& addr, const std::string& name,
                     bool* has_vfio_dev) {
  PciDevice dev;
  dev.address = addr;
  const std::string rel = devs.rel + "/" + name;
  Fd fd(OpenDeviceDir(devs, name, parents));
  if (!fd.ok()) {
    dev.warnings.push_back(
        name + ": cannot open device directory: " + std::strerror(errno));
    return dev;
  }
  const Dir dir{fd.get(), rel, devs.rootfd};
  Entries entries(ListAt(dir, "."));
  DeviceReader r(dir, entries, dev);

  // The kernel's uevent holds vendor, device, subsystem ids and class (the
  // same pdev fields the single files print) in one read; fall back to the
  // single files for whatever it lacks.
  if (entries.Has("uevent")) {
    if (auto ue = ReadAt(dir, "uevent")) ParseUevent(*ue, dev);
  }
  if (!dev.vendor_id || !dev.product_id) {
    dev.vendor_id = r.Hex<uint16_t>("vendor", 0xffff, true);
    dev.product_id = r.Hex<uint16_t>("device", 0xffff, true);
  }
  if (!dev.subsystem_vendor_id || !dev.subsystem_product_id) {
    dev.subsystem_vendor_id =
        r.Hex<uint16_t>("subsystem_vendor", 0xffff, false);
    dev.subsystem_product_id =
        r.Hex<uint16_t>("subsystem_device", 0xffff, false);
  }
  if (!dev.class_code) {
    dev.class_code = r.Hex<uint32_t>("class", 0xffffff, true);
  }

  if (entries.Has("driver")) dev.driver = LinkBaseAt(fd.get(), "driver");
  if (auto o = r.Text("driver_override", false)) {
    if (!o->empty() && *o != "(null)") dev.driver_override = *o;
  }
  if (entries.Has("iommu_group")) {
    auto g = LinkBaseAt(fd.get(), "iommu_group");
    auto id = g ? sysfs::ParseInt(*g) : std::nullopt;
    if (id && *id >= 0 && *id <= INT32_MAX) {
      dev.iommu_group = static_cast<int>(*id);
    } else {
      r.Warn("iommu_group: link target '" + g.value_or("") +
             "' is not a group number");
    }
  }
  // -1: no NUMA affinity. Linux has at most 1 << 10 nodes (NODES_SHIFT).
  if (auto n = r.IntIn("numa_node", false, -1, kMaxNumaNode); n && *n >= 0) {
    dev.numa_node = *n;
  }
  dev.local_cpulist = r.Text("local_cpulist", false).value_or("");
  dev.current_link_speed = r.Text("current_link_speed", false);
  dev.max_link_speed = r.Text("max_link_speed", false);
  if (auto w = r.IntIn("current_link_width", false, 0, 255)) {
    dev.current_link_width = *w;
  }
  if (auto w = r.IntIn("max_link_width", false, 0, 255)) {
    dev.max_link_width = *w;
  }
  if (auto rm = r.Text("reset_method", false)) {
    dev.reset_method_known = true;
    size_t pos = 0;
    while (pos < rm->size()) {
      size_t end = rm->find(' ', pos);
      if (end == std::string::npos) end = rm->size();
      if (end > pos) dev.reset_methods.push_back(rm->substr(pos, end - pos));
      pos = end + 1;
    }
  }
  if (auto v = r.Text("boot_vga", false)) {
    if (*v == "0" || *v == "1") {
      dev.boot_vga = *v == "1";
    } else {
      r.Warn("boot_vga: malformed value '" + *v + "'");
    }
  }
  if (entries.Has("config")) {
    int cfd = OpenIn(dir, "config", O_RDONLY | O_NONBLOCK);
    unsigned char hdr[64];
    if (cfd >= 0) {
      ssize_t n = ::pread(cfd, hdr, sizeof(hdr), 0);
      ::close(cfd);
      if (n >= 0x0f) {
        dev.header_type = hdr[0x0e] & 0x7f;
        // Revision from the header we already hold (the "revision" file
        // prints this same byte).
        if (hdr[0] != 0xff || hdr[1] != 0xff) dev.revision = hdr[0x08];
      } else {
        r.Warn("config: short read (" + std::to_string(n) + " bytes)");
      }
    }
  }
  if (!dev.revision) dev.revision = r.Hex<uint8_t>("revision", 0xff, false);
  if (entries.Has("net")) ReadNetdevs(dir, dev);
  if (entries.Has("nvme")) ReadNvme(dir, dev);
  ReadSriov(fd.get(), entries, r, dev);
  *has_vfio_dev = entries.Has("vfio-dev");
  return dev;
}

// Name lookups, memoised: big hosts repeat the same few ids thousands of
// times (VFs).
class NameCache {
 public:
  NameCache(PciNames& names, bool lookup) : names_(names), lookup_(lookup) {}

  void Fill(PciDevice& dev) {
    if (lookup_ && dev.vendor_id) {
      uint32_t key = uint32_t{*dev.vendor_id} << 16 | 0xffff;
      auto v = vendors_.find(*dev.vendor_id);
      if (v == vendors_.end()) {
        v = vendors_.emplace(*dev.vendor_id, names_.Vendor(*dev.vendor_id))
                .first;
      }
      dev.vendor_name = v->second;
      if (dev.product_id) {
        key = uint32_t{*dev.vendor_id} << 16 | *dev.product_id;
        auto p = products_.find(key);
        if (p == products_.end()) {
          p = products_
                  .emplace(key, names_.Product(*dev.vendor_id, *dev.product_id))
                  .first;
        }
        dev.product_name = p->second;
      }
    }
    if (dev.class_code) {
      auto c = classes_.find(*dev.class_code);
      if (c == classes_.end()) {
        c = classes_
                .emplace(*dev.class_code,
                         lookup_ ? names_.Class(*dev.class_code)
                                 : PciNames::BuiltinClassName(*dev.class_code))
                .first;
      }
      dev.class_name = c->second;
    }
  }

 private:
  PciNames& names_;
  bool lookup_;
  std::unordered_map<uint16_t, std::string> vendors_;
  std::unordered_map<uint32_t, std::string> products_;
  std::unordered_map<uint32_t, std::string> classes_;
};

// Reads sys/kernel/iommu_groups/<name> with the same fd-relative calls as
// devices (ReadIommuGroup in iommu.cc is the simple, general version).
std::optional<IommuGroup> ReadGroupAt(const Dir& groups,
                                      const std::string& name, int id) {
  Fd fd(OpenIn(groups, name.c_str(), O_RDONLY | O_DIRECTORY));
  if (!fd.ok()) return std::nullopt;
  const Dir dir = groups.Sub(fd.get(), name);
  IommuGroup g;
  g.id = id;
  for (const std::string& m : ListAt(dir, "devices")) {
    auto a = PciAddress::Parse(m);
    if (a.ok()) {
      g.members.push_back(*a);
    } else {
      g.non_pci_members.push_back(m);
    }
  }
  std::sort(g.members.begin(), g.members.end());
  // Three small files; a failed open of an absent one ("name" usually) is
  // cheaper than listing the directory first.
  g.type = ReadAt(dir, "type");
  if (auto rr = ReadAt(dir, "reserved_regions")) {
    g.has_direct_region = internal::HasDirectRegion(*rr);
  }
  if (auto name = ReadAt(dir, "name")) {
    g.noiommu = *name == "vfio-noiommu";
  }
  return g;
}

}  // namespace

namespace {

// Runs body(i) for every i in [0, n). Big hosts are read by up to 4
// threads: discovery is bound by the kernel's path lookups and small file
// reads, which proceed in parallel on separate cores (a 4,096-function
// SR-IOV host). Small hosts stay on the calling thread. |body| must only
// touch its own index's slot.
template <typename Body>
void ForEachIndex(size_t n, int max_threads, const Body& body) {
  constexpr size_t kMinParallel = 512;
  const size_t threads = std::min<size_t>(
      static_cast<size_t>(std::max(1, max_threads)),
      std::max<size_t>(1, std::thread::hardware_concurrency()));
  if (n < kMinParallel || threads < 2) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  const size_t chunk = (n + threads - 1) / threads;
  std::vector<std::thread> pool;
  size_t taken_to = chunk;  // [chunk, taken_to) belongs to started threads
  try {
    for (size_t t = 1; t < threads; ++t) {
      const size_t lo = t * chunk;
      const size_t hi = std::min(n, lo + chunk);
      if (lo >= hi) break;
      pool.emplace_back([&body, lo, hi] {
        for (size_t i = lo; i < hi; ++i) body(i);
      });
      taken_to = hi;
    }
  } catch (const std::system_error&) {
    // No more threads (resource limits): this thread does the rest.
  }
  for (size_t i = 0; i < std::min(chunk, n); ++i) body(i);
  for (size_t i = taken_to; i < n; ++i) body(i);
  for (std::thread& t : pool) t.join();
}

}  // namespace

Result<Inventory> Discover(const HostRoot& host, const DiscoveryOptions& opts) {
  const auto devs_dir = host.PciDevicesDir();
  auto rel_of = [&](const std::filesystem::path& p) {
    return p.lexically_relative(host.root()).string();
  };
  // Every open below goes through the root's fd, confined to it.
  Fd rootfd(hostfs::OpenRootFd(host));
  Fd devsfd(rootfd.ok() ? hostfs::OpenUnder(rootfd.get(), rel_of(devs_dir),
                                            O_RDONLY | O_DIRECTORY)
                        : -1);
  if (!devsfd.ok()) {
    return Status::FromErrno(errno, "list " + devs_dir.string())
        .WithContext("discover PCI devices");
  }
  const Dir devs{devsfd.get(), rel_of(devs_dir), rootfd.get()};
  std::vector<std::string> warnings;
  std::vector<PciDevice> devices;
  std::set<PciAddress> vfio_dev;
  std::vector<std::pair<PciAddress, std::string>> entries;
  for (std::string& name : ListAt(devs, ".")) {
    auto addr = PciAddress::Parse(name);
    if (!addr.ok()) {
      warnings.push_back(devs_dir.string() + "/" + name +
                         ": not a PCI address, skipped");
      continue;
    }
    entries.emplace_back(*addr, std::move(name));
  }
  devices.resize(entries.size());
  ParentDirs parents(rootfd.get());
  std::vector<char> has_vfio(entries.size(), 0);
  ForEachIndex(entries.size(), opts.max_threads, [&](size_t i) {
    bool vfio = false;
    devices[i] =
        ReadDevice(devs, parents, entries[i].first, entries[i].second, &vfio);
    has_vfio[i] = vfio ? 1 : 0;
  });
  for (size_t i = 0; i < entries.size(); ++i) {
    if (has_vfio[i]) vfio_dev.insert(entries[i].first);
  }

  AddNestedNetdevs(host, rootfd.get(), devices);

  PciNames pci_names(opts.pci_ids_path);
  if (opts.lookup_names && !pci_names.available()) {
    warnings.push_back("pci.ids database " +
                       (pci_names.path().empty() ? std::string("(default)")
                                                 : pci_names.path()) +
                       " not available: vendor and product names unknown");
  }
  NameCache name_cache(pci_names, opts.lookup_names && pci_names.available());
  for (PciDevice& dev : devices) name_cache.Fill(dev);

  HostUseTables tables;
  if (opts.host_use) {
    tables = LoadHostUseTables(host, ScanBlockDevices(host));
  } else {
    tables.blocks = ScanBlockDevices(host);
  }
  for (PciDevice& dev : devices) {
    dev.block_devices = BlockDevicesOf(tables, dev.address);
    if (opts.host_use) ApplyHostUse(host, tables, dev);
  }

  // IOMMU groups, then viability from the members' drivers.
  std::map<int, IommuGroup> groups;
  const auto groups_dir = host.IommuGroupsDir();
  Fd groupsfd(hostfs::OpenUnder(rootfd.get(), rel_of(groups_dir),
                                O_RDONLY | O_DIRECTORY));
  if (groupsfd.ok()) {
    const Dir groups_at{groupsfd.get(), rel_of(groups_dir), rootfd.get()};
    std::vector<std::pair<int, std::string>> ids;
    for (std::string& s : ListAt(groups_at, ".")) {
      auto id = sysfs::ParseInt(s);
      if (!id || *id < 0 || *id > INT32_MAX) {
        warnings.push_back(groups_dir.string() + "/" + s +
                           ": not a group number, skipped");
        continue;
      }
      ids.emplace_back(static_cast<int>(*id), std::move(s));
    }
    std::vector<std::optional<IommuGroup>> read(ids.size());
    std::vector<int> read_errno(ids.size(), 0);
    ForEachIndex(ids.size(), opts.max_threads, [&](size_t i) {
      read[i] = ReadGroupAt(groups_at, ids[i].second, ids[i].first);
      if (!read[i]) read_errno[i] = errno;  // errno is per thread
    });
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!read[i]) {
        warnings.push_back(
            groups_dir.string() + "/" + ids[i].second +
            ": cannot read group: " + std::strerror(read_errno[i]));
        continue;
      }
      groups.emplace(read[i]->id, std::move(*read[i]));
    }
  }
  // A device whose group link names a group we could not list.
  for (const PciDevice& dev : devices) {
    if (dev.iommu_group && !groups.count(*dev.iommu_group)) {
      IommuGroup g;
      g.id = *dev.iommu_group;
      warnings.push_back("IOMMU group " + std::to_string(g.id) + " of " +
                         dev.address.ToString() +
                         " is not listed in sys/kernel/iommu_groups");
      groups.emplace(g.id, std::move(g));
    }
  }
  std::unordered_map<PciAddress, size_t> index;
  index.reserve(devices.size());
  for (size_t i = 0; i < devices.size(); ++i) index[devices[i].address] = i;
  auto find = [&](const PciAddress& a) -> const PciDevice* {
    auto it = index.find(a);
    return it == index.end() ? nullptr : &devices[it->second];
  };
  for (auto& [id, g] : groups) {
    if (g.members.empty()) {
      for (const PciDevice& d : devices) {
        if (d.iommu_group == id) g.members.push_back(d.address);
      }
    }
    g = internal::EvaluateGroupWith(g, find, {}, &vfio_dev);
  }
  return Inventory(std::move(devices), std::move(groups), std::move(warnings));
}

}  // namespace pcipass
