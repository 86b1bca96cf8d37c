// FakeKernel: a KernelIo for unit tests that reacts to writes the way the
// Linux PCI core does, on a sysfs fixture tree (testing::SysfsBuilder).
//
// It implements the parts of the kernel the hand-off code drives, with the
// kernel's rules and errnos (kernel-vfio-reference.md 2.1-2.7, 4.1):
// driver_override ("\n" clears it), <dev>/driver/unbind, drivers/X/bind and
// unbind, drivers_probe (override first, else the device's "native" driver,
// which is the driver it had when the fake was created; VFs of a PF with
// autoprobe off need an override; vfio-pci refuses bridges, group-less
// devices and PFs with VFs), sriov_numvfs (ERANGE, EBUSY without going
// through 0, ENOENT with no PF driver or vfio-pci without enable_sriov;
// VFs are created beside the PF at function+1+i, each in a new IOMMU group)
// and /dev/vfio/<N> (present while a group member is on vfio-pci).
// Links are written with absolute targets, which readers treat alike.
//
// Tests can make step N fail with an errno, make a driver's probe fail for
// one device, or run a hook before each write (e.g. to SIGKILL a forked
// child between steps).
#ifndef PCIPASS_BINDING_FAKE_KERNEL_H_
#define PCIPASS_BINDING_FAKE_KERNEL_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "binding/kernel_io.h"
#include "core/host_root.h"

namespace pcipass::testing {

class FakeKernel : public KernelIo {
 public:
  // Learns every device's current driver as its native driver.
  explicit FakeKernel(HostRoot host);

  Status Write(const std::filesystem::path& path, std::string_view value,
               std::chrono::milliseconds timeout) override;
  Status LoadModule(std::string_view name) override;
  Status WaitForPath(const std::filesystem::path& path, bool present,
                     std::chrono::milliseconds timeout) override;

  // The |n|th write (1-based, counted from now on) fails with |err| and
  // changes nothing.
  void FailWrite(int n, int err) {
    fail_at_ = writes_ + n;
    fail_errno_ = err;
  }
  // Every write whose path ends with |suffix| fails with |err|.
  void FailPathSuffix(std::string suffix, int err) {
    fail_suffix_ = std::move(suffix);
    fail_errno_ = err;
  }
  // |driver|'s probe fails for |addr| (drivers_probe leaves it unbound,
  // bind returns EINVAL).
  void RefuseProbe(const std::string& addr, const std::string& driver) {
    refuse_.insert({addr, driver});
  }
  void SetNativeDriver(const std::string& addr, std::string driver) {
    native_[addr] = std::move(driver);
  }
  // Driver VFs get when autoprobe is on (default: none binds).
  void SetVfDriver(std::optional<std::string> d) { vf_driver_ = std::move(d); }
  // Called with the write number and path before each write.
  void SetBeforeWrite(std::function<void(int, const std::string&)> hook) {
    before_ = std::move(hook);
  }
  // Unbind of a device on vfio-pci never returns (until the watchdog).
  void BlockVfioUnbind(bool on) { block_vfio_unbind_ = on; }

  int writes() const { return writes_; }
  const std::vector<std::string>& log() const { return log_; }
  std::vector<std::string> modules_loaded() const { return modules_; }

 private:
  Status DoWrite(const std::string& rel, const std::string& value);
  Status Bind(const std::string& addr, const std::string& driver,
              bool report_errors);
  void Unbind(const std::string& addr);
  Status SetNumVfs(const std::string& pf, int n);
  std::optional<std::string> DriverOf(const std::string& addr) const;
  std::optional<std::string> OverrideOf(const std::string& addr) const;
  std::filesystem::path DevDir(const std::string& addr) const;
  bool DeviceExists(const std::string& addr) const;
  std::string ReadAttr(const std::string& addr, const std::string& f) const;
  void SyncVfioNodes();

  HostRoot host_;
  int writes_ = 0;
  int fail_at_ = -1;
  int fail_errno_ = 0;
  std::string fail_suffix_;
  std::set<std::pair<std::string, std::string>> refuse_;
  std::map<std::string, std::string> native_;
  std::optional<std::string> vf_driver_;
  std::function<void(int, const std::string&)> before_;
  bool block_vfio_unbind_ = false;
  int next_group_ = 1000;
  std::vector<std::string> log_;
  std::vector<std::string> modules_;
};

}  // namespace pcipass::testing

#endif  // PCIPASS_BINDING_FAKE_KERNEL_H_
