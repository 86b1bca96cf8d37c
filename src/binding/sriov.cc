#include "binding/sriov.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "binding/kernel_io.h"
#include "binding/state.h"
#include "core/host_root_open.h"
#include "core/sysfs.h"

namespace pcipass {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// True when another process holds /dev/vfio/<group> (one open at a time:
// EBUSY).
bool GroupHeldOpen(const HostRoot& host, int group) {
  const std::string node = host.VfioGroupNode(group).string();
  int fd = hostfs::OpenHostPath(node, O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return false;
  }
  return errno == EBUSY;
}

}  // namespace

std::vector<VfInfo> ListVfs(const HostRoot& host, const PciAddress& pf) {
  std::vector<VfInfo> out;
  const fs::path dir = host.PciDeviceDir(pf);
  for (int i = 0;; ++i) {
    auto name = sysfs::LinkBasename(dir / ("virtfn" + std::to_string(i)));
    if (!name) break;
    auto addr = PciAddress::Parse(*name);
    if (!addr.ok()) continue;
    VfInfo vf;
    vf.index = i;
    vf.address = *addr;
    const fs::path vdir = host.PciDeviceDir(*addr);
    vf.driver = sysfs::LinkBasename(vdir / "driver");
    if (auto g = sysfs::LinkBasename(vdir / "iommu_group")) {
      if (auto n = sysfs::ParseInt(*g)) vf.iommu_group = static_cast<int>(*n);
    }
    out.push_back(vf);
  }
  return out;
}

Result<SriovReport> SetNumVfs(const HostRoot& host, KernelIo& io,
                              const PciAddress& pf, const SriovOptions& opts) {
  SriovReport report;
  report.pf = pf;
  const std::string a = pf.ToString();
  if (opts.numvfs < 0) {
    return Status::InvalidArgument("--numvfs " + std::to_string(opts.numvfs) +
                                   " for " + a +
                                   ": the VF count must be 0 or more");
  }
  std::optional<StateLock> lock;
  if (!opts.dry_run) {
    if (opts.state_dir.empty()) {
      return Status::InvalidArgument("no state directory (--state)");
    }
    auto l = StateLock::Acquire(opts.state_dir);
    if (!l.ok()) return l.status();
    lock.emplace(std::move(*l));
    PCIPASS_RETURN_IF_ERROR(RecoverJournal(host, io, opts.state_dir,
                                           opts.write_timeout, &report.notes));
  }
  const fs::path dir = host.PciDeviceDir(pf);
  if (!sysfs::Exists(dir)) {
    return Status::NotFound("no PCI device " + a +
                            " on this host (see `pcipass list`)");
  }
  auto total =
      sysfs::ParseInt(sysfs::ReadOptional(dir / "sriov_totalvfs").value_or(""));
  if (!total || *total <= 0) {
    return Status::FailedPrecondition(a +
                                      " is not SR-IOV capable "
                                      "(no sriov_totalvfs)");
  }
  report.totalvfs = static_cast<int>(*total);
  if (opts.numvfs > *total) {
    return Status::InvalidArgument("--numvfs " + std::to_string(opts.numvfs) +
                                   ": " + a + " supports at most " +
                                   std::to_string(*total) +
                                   " VFs (sriov_totalvfs)");
  }
  report.before = static_cast<int>(
      sysfs::ParseInt(sysfs::ReadOptional(dir / "sriov_numvfs").value_or(""))
          .value_or(0));
  report.after = report.before;

  auto write = [&](const fs::path& path, const std::string& value,
                   const std::string& why) -> Status {
    report.writes.push_back({path.string(), value, why});
    if (opts.dry_run) return Status::Ok();
    return io.Write(path, value, opts.write_timeout);
  };

  const bool count_changes = opts.numvfs != report.before;
  if (count_changes && report.before > 0) {
    // Every current VF is destroyed, even when the count grows.
    std::vector<std::string> busy;
    // With the PF on vfio-pci the kernel itself puts every VF on vfio-pci,
    // so that alone does not mean "detached for a VM"; an open group does.
    const bool pf_on_vfio =
        sysfs::LinkBasename(dir / "driver") == std::string("vfio-pci");
    std::vector<std::string> claimed;
    for (const VfInfo& vf : ListVfs(host, pf)) {
      // One reason per VF: a claim is the strongest (it names who).
      if (opts.claimed_by) {
        if (auto who = opts.claimed_by(vf.address)) {
          claimed.push_back(vf.address.ToString() + " (claimed by " + *who +
                            ")");
          continue;
        }
      }
      if (vf.driver == "vfio-pci" && !pf_on_vfio) {
        busy.push_back(vf.address.ToString() + " (on vfio-pci)");
      } else if (vf.driver == "vfio-pci" && vf.iommu_group && !opts.dry_run &&
                 GroupHeldOpen(host, *vf.iommu_group)) {
        busy.push_back(vf.address.ToString() + " (open by a VFIO user)");
      }
    }
    if (!claimed.empty()) {
      claimed.insert(claimed.end(), busy.begin(), busy.end());
      return Status::FailedPrecondition(
          "changing the VF count of " + a + " destroys its VFs, and " +
          Join(claimed) +
          " are in use; release the instances' claims first (pcipass "
          "release --instance ID), then pcipass reattach the VFs still on "
          "vfio-pci");
    }
    if (!busy.empty()) {
      return Status::FailedPrecondition(
          "changing the VF count of " + a + " destroys its VFs, and " +
          Join(busy) +
          " are in use; release/reattach them first (pcipass reattach)");
    }
  }

  if (opts.autoprobe) {
    const fs::path ap = dir / "sriov_drivers_autoprobe";
    const std::string want = *opts.autoprobe ? "1" : "0";
    if (sysfs::ReadOptional(ap).value_or("") != want) {
      PCIPASS_RETURN_IF_ERROR(
          write(ap, want,
                *opts.autoprobe ? "let host VF drivers probe new VFs"
                                : "keep new VFs unbound (for passthrough)"));
      if (!opts.dry_run && sysfs::ReadOptional(ap).value_or("") != want) {
        return Status::IOError("read back " + ap.string() + ": not " + want);
      }
    }
  }
  if (!count_changes) {
    report.vfs = ListVfs(host, pf);
    report.notes.push_back(a + " already has " + std::to_string(report.before) +
                           " VFs: nothing to do");
    return report;
  }

  auto driver = sysfs::LinkBasename(dir / "driver");
  if (!driver) {
    return Status::FailedPrecondition(
        a +
        " has no driver: the kernel needs the PF driver to change its "
        "VFs (reattach it first: pcipass reattach " +
        a + ")");
  }
  if (*driver == "vfio-pci" && opts.numvfs > 0) {
    const fs::path param =
        host.ModuleDir("vfio_pci") / "parameters" / "enable_sriov";
    if (sysfs::ReadOptional(param).value_or("N") != "Y") {
      PCIPASS_RETURN_IF_ERROR(
          write(param, "Y",
                "the PF is on vfio-pci, which creates VFs only with "
                "enable_sriov=Y"));
      report.notes.push_back(
          "the PF is on vfio-pci: its VFs are bound to vfio-pci by the "
          "kernel and need the PF user's VF token");
    }
  }

  Journal journal;
  journal.op = "sriov";
  journal.pid = static_cast<int>(::getpid());
  journal.started = UtcNow();
  journal.sriov_pf = pf;
  journal.sriov_numvfs = opts.numvfs;
  if (!opts.dry_run) {
    PCIPASS_RETURN_IF_ERROR(WriteJournal(opts.state_dir, journal));
    (void)AppendLog(opts.state_dir, "sriov " + a + " numvfs " +
                                        std::to_string(report.before) + " -> " +
                                        std::to_string(opts.numvfs));
  }
  const fs::path numvfs = dir / "sriov_numvfs";
  auto finish_error = [&](Status s) -> Status {
    if (!opts.dry_run) {
      // Try to put the previous count back; say whether that worked.
      int now = static_cast<int>(
          sysfs::ParseInt(sysfs::ReadOptional(numvfs).value_or(""))
              .value_or(-1));
      std::string restored;
      if (now != report.before && report.before > 0) {
        if (now > 0) (void)io.Write(numvfs, "0", opts.write_timeout);
        Status r =
            io.Write(numvfs, std::to_string(report.before), opts.write_timeout);
        restored = r.ok()
                       ? "; restored the previous count " +
                             std::to_string(report.before)
                       : "; could not restore the previous count " +
                             std::to_string(report.before) + ": " + r.message();
      }
      (void)ClearJournal(opts.state_dir);
      return Status(s.code(), s.message() + restored);
    }
    return s;
  };
  if (report.before > 0) {
    Status s = write(numvfs, "0",
                     "disable the " + std::to_string(report.before) +
                         " current VFs (a non-zero count must go through 0)");
    if (!s.ok()) return finish_error(s.WithContext("sriov " + a));
  }
  if (opts.numvfs > 0) {
    Status s = write(numvfs, std::to_string(opts.numvfs),
                     "create " + std::to_string(opts.numvfs) + " VFs");
    if (!s.ok()) {
      if (s.sys_errno() == ERANGE) {
        s = Status::InvalidArgument(s.message() + ": " + a +
                                    " supports at most " +
                                    std::to_string(*total) + " VFs");
      }
      return finish_error(s.WithContext("sriov " + a));
    }
  }
  report.changed = true;
  report.after = opts.numvfs;
  if (!opts.dry_run) {
    int now = static_cast<int>(
        sysfs::ParseInt(sysfs::ReadOptional(numvfs).value_or("")).value_or(-1));
    if (now != opts.numvfs) {
      (void)ClearJournal(opts.state_dir);
      return Status::IOError("read back " + numvfs.string() + ": " +
                             std::to_string(now) + " VFs instead of " +
                             std::to_string(opts.numvfs) +
                             " (see dmesg: firmware or BAR space limits)");
    }
    PCIPASS_RETURN_IF_ERROR(ClearJournal(opts.state_dir));
    report.vfs = ListVfs(host, pf);
  }
  return report;
}

Result<SriovReport> SetNumVfs(const HostRoot& host, const PciAddress& pf,
                              const SriovOptions& opts) {
  std::unique_ptr<KernelIo> io = MakeKernelIo();
  return SetNumVfs(host, *io, pf, opts);
}

}  // namespace pcipass
