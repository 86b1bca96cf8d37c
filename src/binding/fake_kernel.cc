#include "binding/fake_kernel.h"

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "core/address.h"
#include "core/sysfs.h"

namespace pcipass::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string Chomp(std::string_view v) {
  std::string s(v);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

void Put(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::trunc);
  f << content;
}

// Links are relative, as the kernel's are: pcipass resolves an absolute
// link target inside the --root tree (<root>/<target>), so a link to the
// fixture's own absolute path would not resolve there.
void Link(const fs::path& link, const fs::path& target) {
  std::error_code ec;
  fs::create_directories(link.parent_path(), ec);
  fs::remove(link, ec);
  fs::path stored = target;
  if (target.is_absolute()) {
    stored = fs::weakly_canonical(target, ec)
                 .lexically_relative(fs::canonical(link.parent_path(), ec));
  }
  fs::create_symlink(stored, link, ec);
}

Status Errno(int err, const fs::path& path) {
  return Status::FromErrno(err, "write " + path.string());
}

}  // namespace

FakeKernel::FakeKernel(HostRoot host) : host_(std::move(host)) {
  auto names = sysfs::ListDir(host_.PciDevicesDir());
  if (!names.ok()) return;
  for (const std::string& n : *names) {
    if (auto d = DriverOf(n)) native_[n] = *d;
  }
}

fs::path FakeKernel::DevDir(const std::string& addr) const {
  return host_.PciDevicesDir() / addr;
}

bool FakeKernel::DeviceExists(const std::string& addr) const {
  std::error_code ec;
  return fs::exists(DevDir(addr), ec);
}

std::string FakeKernel::ReadAttr(const std::string& addr,
                                 const std::string& f) const {
  return sysfs::ReadOptional(DevDir(addr) / f).value_or("");
}

std::optional<std::string> FakeKernel::DriverOf(const std::string& addr) const {
  return sysfs::LinkBasename(DevDir(addr) / "driver");
}

std::optional<std::string> FakeKernel::OverrideOf(
    const std::string& addr) const {
  std::string o = ReadAttr(addr, "driver_override");
  if (o.empty() || o == "(null)") return std::nullopt;
  return o;
}

Status FakeKernel::Write(const fs::path& path, std::string_view value,
                         std::chrono::milliseconds /*timeout*/) {
  ++writes_;
  const std::string rel = path.lexically_relative(host_.root()).string();
  log_.push_back(rel + "=" + Chomp(value));
  if (before_) before_(writes_, rel);
  if (writes_ == fail_at_) return Errno(fail_errno_, path);
  if (!fail_suffix_.empty() && rel.size() >= fail_suffix_.size() &&
      rel.compare(rel.size() - fail_suffix_.size(), fail_suffix_.size(),
                  fail_suffix_) == 0) {
    return Errno(fail_errno_, path);
  }
  Status s = DoWrite(rel, std::string(value));
  if (!s.ok())
    return Status(s.code(), s.message() + " (" + path.string() + ")");
  return s;
}

Status FakeKernel::DoWrite(const std::string& rel, const std::string& value) {
  const std::vector<std::string> p = Split(rel);
  const fs::path abs = host_.root() / rel;
  auto is = [&](std::initializer_list<const char*> prefix) {
    if (p.size() < prefix.size()) return false;
    size_t i = 0;
    for (const char* x : prefix) {
      if (*x && p[i] != x) return false;
      ++i;
    }
    return true;
  };
  if (is({"sys", "bus", "pci", "devices", ""}) && p.size() >= 6) {
    const std::string& addr = p[4];
    if (!DeviceExists(addr)) return Errno(ENOENT, abs);
    if (p.size() == 6 && p[5] == "driver_override") {
      std::string v = Chomp(value);
      if (v.size() >= 4096) return Errno(EINVAL, abs);
      Put(DevDir(addr) / "driver_override", (v.empty() ? "(null)" : v) + "\n");
      return Status::Ok();
    }
    if (p.size() == 7 && p[5] == "driver" && p[6] == "unbind") {
      auto d = DriverOf(addr);
      if (!d) return Errno(ENOENT, abs);
      if (Chomp(value) != addr) return Errno(ENODEV, abs);
      if (*d == "vfio-pci" && block_vfio_unbind_) {
        return Status::Unavailable("write " + abs.string() +
                                   ": timed out (fake: device in use)");
      }
      Unbind(addr);
      return Status::Ok();
    }
    if (p.size() == 6 && p[5] == "sriov_numvfs") {
      auto n = sysfs::ParseInt(Chomp(value));
      if (!n || *n < 0) return Errno(EINVAL, abs);
      Status s = SetNumVfs(addr, static_cast<int>(*n));
      return s.ok() ? s : Errno(s.sys_errno() ? s.sys_errno() : EIO, abs);
    }
    if (p.size() == 6 && fs::exists(DevDir(addr) / p[5])) {
      Put(DevDir(addr) / p[5], Chomp(value) + "\n");
      return Status::Ok();
    }
    return Errno(ENOENT, abs);
  }
  if (rel == "sys/bus/pci/drivers_probe") {
    const std::string addr = Chomp(value);
    if (!DeviceExists(addr)) return Errno(ENODEV, abs);
    if (DriverOf(addr)) return Status::Ok();
    std::optional<std::string> drv = OverrideOf(addr);
    if (!drv) {
      bool is_vf = fs::exists(DevDir(addr) / "physfn");
      if (is_vf) {
        auto pf = sysfs::LinkBasename(DevDir(addr) / "physfn");
        if (pf && ReadAttr(*pf, "sriov_drivers_autoprobe") == "0") {
          return Status::Ok();
        }
        drv = vf_driver_;
      } else if (native_.count(addr) && native_[addr] != "vfio-pci") {
        drv = native_[addr];
      }
    }
    if (drv && fs::exists(host_.PciDriverDir(*drv))) {
      (void)Bind(addr, *drv, false);  // drivers_probe hides probe errors
    }
    return Status::Ok();
  }
  if (is({"sys", "bus", "pci", "drivers", ""}) && p.size() == 6) {
    const std::string& drv = p[4];
    const std::string addr = Chomp(value);
    if (!fs::exists(host_.PciDriverDir(drv))) return Errno(ENOENT, abs);
    if (!DeviceExists(addr)) return Errno(ENODEV, abs);
    if (p[5] == "unbind") {
      if (DriverOf(addr) != drv) return Errno(ENODEV, abs);
      Unbind(addr);
      return Status::Ok();
    }
    if (p[5] == "bind") {
      if (DriverOf(addr)) return Errno(EBUSY, abs);
      auto ov = OverrideOf(addr);
      bool match = ov ? *ov == drv
                      : (drv != "vfio-pci" && native_.count(addr) &&
                         native_[addr] == drv);
      if (!match) return Errno(ENODEV, abs);
      if (!ov && fs::exists(DevDir(addr) / "physfn")) {
        auto pf = sysfs::LinkBasename(DevDir(addr) / "physfn");
        if (pf && ReadAttr(*pf, "sriov_drivers_autoprobe") == "0") {
          return Errno(ENODEV, abs);
        }
      }
      Status s = Bind(addr, drv, true);
      return s.ok() ? s : Errno(s.sys_errno(), abs);
    }
  }
  if (fs::exists(abs) || is({"sys", "module"})) {
    Put(abs, Chomp(value) + "\n");
    return Status::Ok();
  }
  return Errno(ENOENT, abs);
}

Status FakeKernel::Bind(const std::string& addr, const std::string& driver,
                        bool /*report_errors*/) {
  if (refuse_.count({addr, driver})) return Status::FromErrno(EINVAL, "probe");
  if (driver == "vfio-pci") {
    if (ReadAttr(addr, "class").rfind("0x06", 0) == 0) {
      return Status::FromErrno(EINVAL, "probe");
    }
    if (!fs::exists(DevDir(addr) / "iommu_group")) {
      return Status::FromErrno(EINVAL, "probe");
    }
    auto n = sysfs::ParseInt(ReadAttr(addr, "sriov_numvfs"));
    if (n && *n > 0) return Status::FromErrno(EBUSY, "probe");
  }
  const fs::path real = fs::canonical(DevDir(addr));
  Link(DevDir(addr) / "driver", host_.PciDriverDir(driver));
  Link(host_.PciDriverDir(driver) / addr, real);
  if (driver == "vfio-pci") {
    Put(DevDir(addr) / "vfio-dev" / "vfio0" / "dev", "511:0\n");
  }
  SyncVfioNodes();
  return Status::Ok();
}

void FakeKernel::Unbind(const std::string& addr) {
  std::error_code ec;
  auto d = DriverOf(addr);
  fs::remove(DevDir(addr) / "driver", ec);
  if (d) fs::remove(host_.PciDriverDir(*d) / addr, ec);
  fs::remove_all(DevDir(addr) / "vfio-dev", ec);
  SyncVfioNodes();
}

void FakeKernel::SyncVfioNodes() {
  auto groups = sysfs::ListDir(host_.IommuGroupsDir());
  if (!groups.ok()) return;
  for (const std::string& g : *groups) {
    bool vfio = false;
    auto members = sysfs::ListDir(host_.IommuGroupsDir() / g / "devices");
    if (members.ok()) {
      for (const std::string& m : *members) {
        if (DriverOf(m) == "vfio-pci") vfio = true;
      }
    }
    const fs::path node = host_.Dev("vfio") / g;
    std::error_code ec;
    if (vfio && !fs::exists(node, ec)) Put(node, "");
    if (!vfio) fs::remove(node, ec);
  }
}

Status FakeKernel::SetNumVfs(const std::string& pf, int n) {
  auto total = sysfs::ParseInt(ReadAttr(pf, "sriov_totalvfs"));
  if (!total) return Status::FromErrno(ENOENT, "sriov");
  if (n > *total) return Status::FromErrno(ERANGE, "sriov");
  int cur = static_cast<int>(
      sysfs::ParseInt(ReadAttr(pf, "sriov_numvfs")).value_or(0));
  if (n == cur) return Status::Ok();
  auto pf_driver = DriverOf(pf);
  if (!pf_driver) return Status::FromErrno(ENOENT, "sriov");
  if (*pf_driver == "vfio-pci" &&
      sysfs::ReadOptional(host_.ModuleDir("vfio_pci") / "parameters" /
                          "enable_sriov")
              .value_or("N") != "Y") {
    return Status::FromErrno(ENOENT, "sriov");
  }
  if (n > 0 && cur > 0) return Status::FromErrno(EBUSY, "sriov");
  std::error_code ec;
  if (n == 0) {
    for (int i = 0; i < cur; ++i) {
      const fs::path vlink = DevDir(pf) / ("virtfn" + std::to_string(i));
      auto vf = sysfs::LinkBasename(vlink);
      if (!vf) continue;
      if (DriverOf(*vf)) Unbind(*vf);
      auto group = sysfs::LinkBasename(DevDir(*vf) / "iommu_group");
      const fs::path real = fs::canonical(DevDir(*vf), ec);
      if (group) fs::remove_all(host_.IommuGroupsDir() / *group, ec);
      fs::remove(DevDir(*vf), ec);
      fs::remove_all(real, ec);
      fs::remove(vlink, ec);
    }
    Put(DevDir(pf) / "sriov_numvfs", "0\n");
    SyncVfioNodes();
    return Status::Ok();
  }
  auto pfa = PciAddress::Parse(pf);
  if (!pfa.ok()) return Status::FromErrno(EINVAL, "sriov");
  const fs::path pf_real = fs::canonical(DevDir(pf));
  const bool autoprobe = ReadAttr(pf, "sriov_drivers_autoprobe") != "0";
  for (int i = 0; i < n; ++i) {
    int devfn = (pfa->slot << 3 | pfa->function) + 1 + i;
    PciAddress va = *pfa;
    va.bus = static_cast<uint8_t>(pfa->bus + (devfn >> 8));
    va.slot = static_cast<uint8_t>((devfn & 0xff) >> 3);
    va.function = static_cast<uint8_t>(devfn & 7);
    const std::string vf = va.ToString();
    const fs::path real = pf_real.parent_path() / vf;
    Put(real / "vendor", ReadAttr(pf, "vendor") + "\n");
    Put(real / "device", "0x" + ReadAttr(pf, "sriov_vf_device") + "\n");
    Put(real / "class", ReadAttr(pf, "class") + "\n");
    Put(real / "subsystem_vendor", ReadAttr(pf, "subsystem_vendor") + "\n");
    Put(real / "subsystem_device", ReadAttr(pf, "subsystem_device") + "\n");
    Put(real / "revision", "0x00\n");
    Put(real / "numa_node", ReadAttr(pf, "numa_node") + "\n");
    Put(real / "driver_override", "(null)\n");
    Put(real / "reset_method", "flr\n");
    const int g = next_group_++;
    const fs::path gdir = host_.IommuGroupDir(g);
    Put(gdir / "type", "DMA\n");
    Put(gdir / "reserved_regions",
        "0x00000000fee00000 0x00000000feefffff msi\n");
    Link(gdir / "devices" / vf, real);
    Link(real / "iommu_group", gdir);
    Link(real / "physfn", "../" + pf);
    Link(DevDir(pf) / ("virtfn" + std::to_string(i)), "../" + vf);
    Link(DevDir(vf), real);
  }
  Put(DevDir(pf) / "sriov_numvfs", std::to_string(n) + "\n");
  for (int i = 0; i < n; ++i) {
    auto vf = sysfs::LinkBasename(DevDir(pf) / ("virtfn" + std::to_string(i)));
    if (!vf) continue;
    if (*pf_driver == "vfio-pci") {
      // "Captured SR-IOV VF ... driver_override".
      Put(DevDir(*vf) / "driver_override", "vfio-pci\n");
      (void)Bind(*vf, "vfio-pci", false);
    } else if (autoprobe && vf_driver_ &&
               fs::exists(host_.PciDriverDir(*vf_driver_))) {
      (void)Bind(*vf, *vf_driver_, false);
    }
  }
  return Status::Ok();
}

Status FakeKernel::LoadModule(std::string_view name) {
  modules_.emplace_back(name);
  std::string drv(name);
  if (drv == "vfio_pci") drv = "vfio-pci";
  const fs::path d = host_.PciDriverDir(drv);
  for (const char* f : {"bind", "unbind", "new_id", "remove_id", "uevent"}) {
    if (!fs::exists(d / f)) Put(d / f, "");
  }
  if (drv == "vfio-pci") {
    const fs::path p =
        host_.ModuleDir("vfio_pci") / "parameters" / "enable_sriov";
    if (!fs::exists(p)) Put(p, "N\n");
  }
  return Status::Ok();
}

Status FakeKernel::WaitForPath(const fs::path& path, bool present,
                               std::chrono::milliseconds /*timeout*/) {
  std::error_code ec;
  if (fs::exists(path, ec) == present) return Status::Ok();
  return Status::Unavailable(
      path.string() + (present ? " did not appear" : " did not go away"));
}

}  // namespace pcipass::testing
