#include "binding/handoff.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "binding/kernel_io.h"
#include "binding/state.h"
#include "core/discovery.h"
#include "core/host_root_open.h"
#include "core/inventory.h"
#include "core/iommu.h"
#include "core/sysfs.h"

namespace pcipass {
namespace {

namespace fs = std::filesystem;

constexpr char kVfioPci[] = "vfio-pci";
// devtmpfs creates /dev/vfio/<N> right after the bind; this is generous.
constexpr std::chrono::milliseconds kNodeTimeout{5000};

std::string Join(const std::vector<std::string>& parts,
                 const std::string& sep = ", ") {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string JoinAddrs(const std::vector<PciAddress>& addrs) {
  std::vector<std::string> parts;
  parts.reserve(addrs.size());
  for (const auto& a : addrs) parts.push_back(a.ToString());
  return Join(parts);
}

std::optional<std::string> CurrentDriver(const HostRoot& host,
                                         const PciAddress& addr) {
  return sysfs::LinkBasename(host.PciDeviceDir(addr) / "driver");
}

// nullopt when unset: the kernel prints "(null)".
std::optional<std::string> CurrentOverride(const HostRoot& host,
                                           const PciAddress& addr) {
  auto text = sysfs::ReadOptional(host.PciDeviceDir(addr) / "driver_override");
  if (!text || text->empty() || *text == "(null)") return std::nullopt;
  return text;
}

std::string DriverName(const std::optional<std::string>& d) {
  return d ? *d : "no driver";
}

// Executes (or, for a dry run, only records) writes, keeping the journal.
class Executor {
 public:
  Executor(const HostRoot& host, KernelIo& io, const HandOffOptions& opts,
           HandOffReport* report)
      : host_(host), io_(io), opts_(opts), report_(report) {}

  bool dry_run() const { return opts_.dry_run; }

  Status Write(const fs::path& path, const std::string& value,
               const std::string& why) {
    report_->writes.push_back({path.string(), value, why});
    if (opts_.dry_run) return Status::Ok();
    return io_.Write(path, value, opts_.write_timeout);
  }

  // Writes the override and reads it back.
  Status SetOverride(const PciAddress& addr,
                     const std::optional<std::string>& value,
                     const std::string& why) {
    const fs::path path = host_.PciDeviceDir(addr) / "driver_override";
    // "\n" clears the override (the kernel strips the newline -> empty).
    PCIPASS_RETURN_IF_ERROR(Write(path, value ? *value : "\n", why));
    if (opts_.dry_run) return Status::Ok();
    auto now = CurrentOverride(host_, addr);
    if (now != value) {
      return Status::IOError("read back " + path.string() + ": expected " +
                             (value ? *value : "(null)") + ", found " +
                             (now ? *now : "(null)"));
    }
    return Status::Ok();
  }

  // Unbinds |addr| from its current driver |driver| (through the device's
  // own driver/unbind link, which cannot hit another device's driver), then
  // checks the driver link is gone.
  Status Unbind(const PciAddress& addr, const std::string& driver) {
    const fs::path path = host_.PciDeviceDir(addr) / "driver" / "unbind";
    PCIPASS_RETURN_IF_ERROR(
        Write(path, addr.ToString(), "unbind from " + driver));
    if (opts_.dry_run) return Status::Ok();
    if (auto now = CurrentDriver(host_, addr)) {
      return Status::IOError("read back " + addr.ToString() +
                             "/driver: still bound to " + *now +
                             " after unbind");
    }
    return Status::Ok();
  }

  // The original driver's module may have been unloaded while the device
  // was away (e.g. `rmmod e1000e` once no device used it): load it again,
  // or no probe can give the device back. Driver names are module names
  // for PCI drivers; modprobe treats '-' and '_' alike.
  Status EnsureDriverLoaded(const std::string& driver) {
    if (!dry_run() && sysfs::Exists(host_.PciDriverDir(driver))) {
      return Status::Ok();
    }
    if (dry_run()) return Status::Ok();
    report_->writes.push_back(
        {"modprobe", driver, "load the original driver " + driver});
    PCIPASS_RETURN_IF_ERROR(io_.LoadModule(driver));
    if (!sysfs::Exists(host_.PciDriverDir(driver))) {
      return Status::FailedPrecondition(
          "modprobe " + driver + " succeeded but " +
          host_.PciDriverDir(driver).string() +
          " did not appear; bind the device by hand");
    }
    return Status::Ok();
  }

  // drivers_probe, then, if |want| did not take it, an explicit bind to
  // |want| (which reports the probe's errno, unlike drivers_probe).
  Status Probe(const PciAddress& addr, const std::string& want) {
    PCIPASS_RETURN_IF_ERROR(Write(host_.PciBusFile("drivers_probe"),
                                  addr.ToString(),
                                  "probe drivers (" + want + " expected)"));
    if (opts_.dry_run) return Status::Ok();
    auto now = CurrentDriver(host_, addr);
    if (now == want) return Status::Ok();
    if (now) {
      // Another driver matched first (e.g. a second driver for the same
      // ids): take the device back from it and bind |want| explicitly.
      PCIPASS_RETURN_IF_ERROR(Unbind(addr, *now)
                                  .WithContext(addr.ToString() +
                                               " was taken by " + *now +
                                               " instead of " + want));
    }
    Status bind = Write(host_.PciDriverDir(want) / "bind", addr.ToString(),
                        "bind explicitly to " + want);
    if (!bind.ok()) {
      return bind.WithContext(want + " did not take " + addr.ToString());
    }
    now = CurrentDriver(host_, addr);
    if (now != want) {
      return Status::IOError("read back " + addr.ToString() + "/driver: " +
                             DriverName(now) + " after binding to " + want);
    }
    return Status::Ok();
  }

  // Puts |rec.address| back to its recorded driver and override. Reads the
  // live state first, so it is a no-op on a device already there and safe
  // to repeat after a crash at any step.
  // |record_known| false: no record existed, the caller already said so.
  Status Restore(const HandOffRecord& rec, bool record_known = true) {
    const PciAddress& a = rec.address;
    if (!sysfs::Exists(host_.PciDeviceDir(a))) {
      report_->notes.push_back(a.ToString() +
                               " is gone from the bus; nothing to restore");
      return Status::Ok();
    }
    if (CurrentOverride(host_, a) != rec.previous_override || dry_run()) {
      PCIPASS_RETURN_IF_ERROR(SetOverride(a, rec.previous_override,
                                          rec.previous_override
                                              ? "restore the previous override"
                                              : "clear the vfio-pci override"));
    }
    auto cur = CurrentDriver(host_, a);
    if (dry_run()) cur = kVfioPci;
    if (cur == rec.original_driver) return Status::Ok();
    if (cur) PCIPASS_RETURN_IF_ERROR(Unbind(a, *cur));
    if (!rec.original_driver) {
      if (record_known) {
        report_->notes.push_back(a.ToString() +
                                 ": was unbound before; left unbound");
      }
      return Status::Ok();
    }
    PCIPASS_RETURN_IF_ERROR(EnsureDriverLoaded(*rec.original_driver)
                                .WithContext("give back " + a.ToString()));
    return Probe(a, *rec.original_driver);
  }

  void SaveJournal(Journal& journal) {
    if (opts_.dry_run) return;
    // A failed journal write is reported but does not stop the rollback.
    Status s = WriteJournal(opts_.state_dir, journal);
    if (!s.ok()) journal_error_ = s;
  }
  Status journal_error() const { return journal_error_; }

 private:
  const HostRoot& host_;
  KernelIo& io_;
  const HandOffOptions& opts_;
  HandOffReport* report_;
  Status journal_error_;
};

// What |addr| looks like now, for a message: "driver_override=vfio-pci,
// driver=e1000e".
std::string LiveState(const HostRoot& host, const PciAddress& addr) {
  if (!sysfs::Exists(host.PciDeviceDir(addr))) return "gone from the bus";
  auto ov = CurrentOverride(host, addr);
  return "driver_override=" + (ov ? *ov : std::string("(null)")) +
         ", driver=" + DriverName(CurrentDriver(host, addr));
}

// The journal step that matches what the tree shows now for |rec| (after
// a rollback that could not finish), so the kept journal tells the truth.
JournalStep LiveStep(const HostRoot& host, const HandOffRecord& rec) {
  const PciAddress& a = rec.address;
  auto drv = CurrentDriver(host, a);
  if (drv == kVfioPci && rec.original_driver != kVfioPci) {
    return JournalStep::kBound;
  }
  if (!drv && rec.original_driver) return JournalStep::kUnbound;
  if (CurrentOverride(host, a) != rec.previous_override) {
    return JournalStep::kOverrideSet;
  }
  return JournalStep::kPending;
}

// Rolls back every journaled device that is not pending, newest first.
// Returns the rollback summary, or DataLoss naming what could not be
// restored and what each such device looks like now. A device whose
// restore failed keeps a journal entry whose step matches the live tree.
Status RollBack(Executor& ex, const HostRoot& host, Journal& journal,
                const Status& cause, const std::string& state_dir) {
  std::vector<std::string> restored, failed;
  for (auto it = journal.devices.rbegin(); it != journal.devices.rend(); ++it) {
    if (it->step == JournalStep::kPending) continue;
    Status s = ex.Restore(it->record);
    if (s.ok()) {
      restored.push_back(it->record.address.ToString() + " (back on " +
                         DriverName(it->record.original_driver) + ")");
      it->step = JournalStep::kPending;
    } else {
      it->step = LiveStep(host, it->record);
      failed.push_back(
          it->record.address.ToString() + ": " + s.message() + "; it is now " +
          LiveState(host, it->record.address) + " (was driver_override=" +
          it->record.previous_override.value_or("(null)") +
          ", driver=" + DriverName(it->record.original_driver) + ")");
    }
  }
  if (!failed.empty()) {
    ex.SaveJournal(journal);
    std::string what =
        cause.message() + "; rollback restored " +
        (restored.empty() ? std::string("no device") : Join(restored)) +
        "; COULD NOT RESTORE " + Join(failed, "; ");
    (void)AppendLog(state_dir, "ROLLBACK FAILED: " + what);
    return Status::DataLoss(what + " (journal kept in " + state_dir +
                            " with each device's current step; the next "
                            "pcipass run retries)");
  }
  std::string what =
      cause.message() + "; rolled back: " +
      (restored.empty() ? std::string("nothing had changed") : Join(restored));
  (void)ClearJournal(state_dir);
  (void)AppendLog(state_dir, "rolled back: " + what);
  return Status(cause.code(), what);
}

void AddUnique(std::vector<PciAddress>& v, const PciAddress& a) {
  if (std::find(v.begin(), v.end(), a) == v.end()) v.push_back(a);
}

}  // namespace

Status RecoverJournal(const HostRoot& host, KernelIo& io,
                      const std::string& state_dir,
                      std::chrono::milliseconds write_timeout,
                      std::vector<std::string>* notes) {
  auto journal = ReadJournal(state_dir);
  if (!journal.ok()) return journal.status();
  if (!journal->has_value()) return Status::Ok();
  Journal j = **journal;
  HandOffOptions opts;
  opts.state_dir = state_dir;
  opts.write_timeout = write_timeout;
  HandOffReport scratch;
  Executor ex(host, io, opts, &scratch);
  std::vector<std::string> done, failed;
  for (const JournalDevice& d : j.devices) {
    Status s = ex.Restore(d.record);
    if (s.ok()) {
      done.push_back(d.record.address.ToString() + " -> " +
                     DriverName(d.record.original_driver));
      if (j.op == "reattach") (void)RemoveRecord(state_dir, d.record.address);
    } else {
      failed.push_back(d.record.address.ToString() + ": " + s.message());
    }
  }
  if (j.op == "sriov" && j.sriov_pf) {
    const fs::path numvfs = host.PciDeviceDir(*j.sriov_pf) / "sriov_numvfs";
    auto cur = sysfs::ReadOptional(numvfs);
    if (cur && *cur != std::to_string(j.sriov_numvfs)) {
      Status s = Status::Ok();
      if (*cur != "0") s = io.Write(numvfs, "0", write_timeout);
      if (s.ok() && j.sriov_numvfs != 0) {
        s = io.Write(numvfs, std::to_string(j.sriov_numvfs), write_timeout);
      }
      if (s.ok()) {
        done.push_back(j.sriov_pf->ToString() + " sriov_numvfs -> " +
                       std::to_string(j.sriov_numvfs));
      } else {
        failed.push_back(j.sriov_pf->ToString() + ": " + s.message());
      }
    }
  }
  const std::string what = "recovered an unfinished " + j.op + " (pid " +
                           std::to_string(j.pid) + ", started " + j.started +
                           ")";
  if (!failed.empty()) {
    (void)AppendLog(state_dir, what + " FAILED: " + Join(failed, "; "));
    return Status::DataLoss(what + " failed: " + Join(failed, "; ") +
                            "; journal kept in " + state_dir);
  }
  (void)AppendLog(state_dir, what + ": " + Join(done));
  if (notes) {
    notes->push_back(what + ": " +
                     (done.empty() ? "nothing needed restoring" : Join(done)));
  }
  return ClearJournal(state_dir);
}

Result<HandOffReport> Detach(const HostRoot& host, KernelIo& io,
                             const std::vector<PciAddress>& devices,
                             const HandOffOptions& opts) {
  HandOffReport report;
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
  DiscoveryOptions dopts;
  dopts.lookup_names = false;
  auto inv = Discover(host, dopts);
  if (!inv.ok()) return inv.status().WithContext("discover");
  auto set = PlanDetachSet(*inv, devices, opts);
  if (!set.ok()) return set.status();
  report.already_done = set->already_done;
  for (auto& n : set->notes) report.notes.push_back(n);
  if (set->to_change.empty()) return report;

  Executor ex(host, io, opts, &report);
  if (!sysfs::Exists(host.PciDriverDir(kVfioPci))) {
    report.writes.push_back({"modprobe", kVfioPci, "load the vfio-pci driver"});
    if (!opts.dry_run) {
      PCIPASS_RETURN_IF_ERROR(io.LoadModule(kVfioPci));
      if (!sysfs::Exists(host.PciDriverDir(kVfioPci))) {
        return Status::FailedPrecondition("modprobe vfio-pci succeeded but " +
                                          host.PciDriverDir(kVfioPci).string() +
                                          " did not appear");
      }
    }
  }

  // Record the original state of every device before the first write.
  Journal journal;
  journal.op = "detach";
  journal.pid = static_cast<int>(::getpid());
  journal.started = UtcNow();
  journal.force_reason = opts.force_reason;
  for (const PciAddress& a : set->to_change) {
    const PciDevice* dev = inv->Find(a);
    JournalDevice jd;
    jd.record = {a, dev->driver, CurrentOverride(host, a)};
    journal.devices.push_back(jd);
    if (!opts.dry_run) {
      PCIPASS_RETURN_IF_ERROR(SaveRecord(opts.state_dir, jd.record));
    }
  }
  if (!opts.dry_run) {
    PCIPASS_RETURN_IF_ERROR(WriteJournal(opts.state_dir, journal));
    (void)AppendLog(
        opts.state_dir,
        "detach " + JoinAddrs(set->to_change) +
            (opts.force_reason ? " FORCED: " + *opts.force_reason + " (" +
                                     Join(set->notes, "; ") + ")"
                               : ""));
  }

  auto fail = [&](const Status& s, const PciAddress& a) -> Status {
    Status cause = s.WithContext("detach " + a.ToString());
    if (opts.dry_run) return cause;
    return RollBack(ex, host, journal, cause, opts.state_dir);
  };
  for (JournalDevice& jd : journal.devices) {
    const PciAddress& a = jd.record.address;
    jd.step = JournalStep::kOverrideSet;
    ex.SaveJournal(journal);
    Status s =
        ex.SetOverride(a, std::string(kVfioPci),
                       "pin to vfio-pci first, so no host driver can grab it");
    if (!s.ok()) return fail(s, a);
    if (jd.record.original_driver) {
      jd.step = JournalStep::kUnbound;
      ex.SaveJournal(journal);
      s = ex.Unbind(a, *jd.record.original_driver);
      if (!s.ok()) return fail(s, a);
    }
    jd.step = JournalStep::kBound;
    ex.SaveJournal(journal);
    s = ex.Probe(a, kVfioPci);
    if (!s.ok()) return fail(s, a);
  }
  if (!opts.dry_run) {
    // Wait for the group nodes, then verify each group is viable now.
    std::set<int> groups;
    for (const PciAddress& a : set->to_change) {
      groups.insert(*inv->Find(a)->iommu_group);
    }
    for (int gid : groups) {
      Status s = io.WaitForPath(host.VfioGroupNode(gid), true, kNodeTimeout);
      if (!s.ok()) return fail(s, set->to_change.front());
    }
    // Verify from the kernel's own links (cheaper than a new discovery):
    // every member of each group is now unbound or on a driver that keeps
    // the group viable.
    for (int gid : groups) {
      auto members = sysfs::ListDir(host.IommuGroupDir(gid) / "devices");
      if (!members.ok()) continue;
      std::vector<std::string> blockers;
      for (const std::string& m : *members) {
        const fs::path mdir = host.IommuGroupDir(gid) / "devices" / m;
        auto drv = sysfs::LinkBasename(mdir / "driver");
        if (!DriverKeepsGroupViable(drv, sysfs::Exists(mdir / "vfio-dev"))) {
          blockers.push_back(m + " (" + DriverName(drv) + ")");
        }
      }
      if (!blockers.empty()) {
        return fail(Status::FailedPrecondition(
                        "IOMMU group " + std::to_string(gid) +
                        " is not viable after the detach: " + Join(blockers)),
                    set->to_change.front());
      }
    }
    PCIPASS_RETURN_IF_ERROR(ClearJournal(opts.state_dir));
    (void)AppendLog(opts.state_dir, "detached " + JoinAddrs(set->to_change));
  }
  report.changed = set->to_change;
  return report;
}

Result<HandOffReport> Reattach(const HostRoot& host, KernelIo& io,
                               const std::vector<PciAddress>& devices,
                               const HandOffOptions& opts) {
  if (devices.empty()) {
    return Status::InvalidArgument(
        "no device given; name at least one "
        "address (dddd:bb:ss.f)");
  }
  HandOffReport report;
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
  DiscoveryOptions dopts;
  dopts.lookup_names = false;
  dopts.host_use = false;
  auto inv = Discover(host, dopts);
  if (!inv.ok()) return inv.status().WithContext("discover");

  std::vector<PciAddress> todo;
  for (const PciAddress& a : devices) {
    const PciDevice* dev = inv->Find(a);
    if (!dev) {
      return Status::NotFound("no PCI device " + a.ToString() +
                              " on this host (see `pcipass list`)");
    }
    std::vector<PciAddress> cand = {a};
    if (opts.whole_group && dev->iommu_group) {
      if (const IommuGroup* g = inv->FindGroup(*dev->iommu_group)) {
        cand = g->members;
      }
    }
    for (const PciAddress& c : cand) {
      const PciDevice* cd = inv->Find(c);
      if (!cd) continue;
      if (cd->driver == kVfioPci) {
        AddUnique(todo, c);
      } else if (c == a) {
        AddUnique(report.already_done, c);
      }
    }
  }
  std::sort(todo.begin(), todo.end());
  if (todo.empty()) return report;

  // A group held open by a VFIO user (a running VM) would make the unbind
  // block until the VM lets go; refuse instead. The group node allows one
  // open at a time, so a successful open proves nobody holds it.
  if (!opts.dry_run) {
    std::set<int> groups;
    for (const PciAddress& a : todo) {
      if (auto g = inv->Find(a)->iommu_group) groups.insert(*g);
    }
    for (int gid : groups) {
      const fs::path node = host.VfioGroupNode(gid);
      int fd = hostfs::OpenHostPath(node, O_RDWR | O_CLOEXEC);
      if (fd >= 0) {
        ::close(fd);
      } else if (errno == EBUSY) {
        return Status::Unavailable(
            "IOMMU group " + std::to_string(gid) + " (" + node.string() +
            ") is open by a VFIO user (a running VM?); stop it first");
      }
    }
  }

  Journal journal;
  journal.op = "reattach";
  std::vector<PciAddress> unknown;  // no record: left unbound
  journal.pid = static_cast<int>(::getpid());
  journal.started = UtcNow();
  for (const PciAddress& a : todo) {
    auto rec = LoadRecord(opts.state_dir, a);
    if (!rec.ok()) return rec.status();
    JournalDevice jd;
    if (rec->has_value()) {
      jd.record = **rec;
    } else {
      jd.record = {a, std::nullopt, std::nullopt};
      unknown.push_back(a);
      report.notes.push_back(
          a.ToString() + ": original driver unknown (no record in " +
          opts.state_dir + "): left unbound; bind it with `echo " +
          a.ToString() + " > " + host.PciDriversDir().string() +
          "/<driver>/bind`");
    }
    journal.devices.push_back(jd);
  }
  if (!opts.dry_run) {
    PCIPASS_RETURN_IF_ERROR(WriteJournal(opts.state_dir, journal));
    (void)AppendLog(opts.state_dir,
                    "reattach " + JoinAddrs(todo) +
                        (opts.force_reason ? " FORCED: " + *opts.force_reason
                                           : std::string()));
  }
  Executor ex(host, io, opts, &report);
  for (JournalDevice& jd : journal.devices) {
    jd.step = JournalStep::kOverrideSet;
    ex.SaveJournal(journal);
    const bool known = std::find(unknown.begin(), unknown.end(),
                                 jd.record.address) == unknown.end();
    Status s = ex.Restore(jd.record, known);
    if (!s.ok()) {
      // Rolling forward is what recovery does too: keep the journal so the
      // next run retries, and say which devices are still on vfio-pci.
      std::vector<PciAddress> left;
      for (const auto& d : journal.devices) {
        if (CurrentDriver(host, d.record.address) == kVfioPci) {
          left.push_back(d.record.address);
        }
      }
      return Status(s.code(),
                    "reattach " + jd.record.address.ToString() + ": " +
                        s.message() + "; still on vfio-pci: " +
                        (left.empty() ? "none" : JoinAddrs(left)) +
                        " (journal kept; the next pcipass run retries)");
    }
    jd.step = JournalStep::kBound;
    if (!opts.dry_run) (void)RemoveRecord(opts.state_dir, jd.record.address);
    (known ? report.changed : report.left_unbound).push_back(jd.record.address);
  }
  if (!opts.dry_run) {
    PCIPASS_RETURN_IF_ERROR(ClearJournal(opts.state_dir));
    (void)AppendLog(opts.state_dir, "reattached " + JoinAddrs(todo));
  }
  return report;
}

Status RecoverUnfinishedHandOff(const HostRoot& host,
                                const std::string& state_dir,
                                std::vector<std::string>* notes) {
  if (state_dir.empty()) return Status::Ok();
  // Cheap check first: no journal, no lock file and no state directory
  // created by a command that may not need one.
  if (!sysfs::Exists(fs::path(state_dir) / "journal.json")) {
    return Status::Ok();
  }
  auto lock = StateLock::Acquire(state_dir);
  if (!lock.ok()) return lock.status();
  std::unique_ptr<KernelIo> io = MakeKernelIo();
  return RecoverJournal(host, *io, state_dir, HandOffOptions{}.write_timeout,
                        notes);
}

Result<HandOffReport> Detach(const HostRoot& host,
                             const std::vector<PciAddress>& devices,
                             const HandOffOptions& opts) {
  std::unique_ptr<KernelIo> io = MakeKernelIo();
  return Detach(host, *io, devices, opts);
}

Result<HandOffReport> Reattach(const HostRoot& host,
                               const std::vector<PciAddress>& devices,
                               const HandOffOptions& opts) {
  std::unique_ptr<KernelIo> io = MakeKernelIo();
  return Reattach(host, *io, devices, opts);
}

}  // namespace pcipass
