// The thin ioctl layer of `pcipass vfio-check`; see vfio_probe.h.
#include "binding/vfio_probe.h"

#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/host_root_open.h"
#include "core/sysfs.h"

namespace pcipass {
namespace {

// Closes the fd on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string ErrnoText(int err) {
  return std::string(std::strerror(err)) + " (errno " + std::to_string(err) +
         ")";
}

}  // namespace

Result<VfioProbeResult> ProbeVfio(const HostRoot& host,
                                  const PciAddress& addr) {
  const auto dev_dir = host.PciDeviceDir(addr);
  if (!sysfs::Exists(dev_dir)) {
    return Status::NotFound("no PCI device " + addr.ToString());
  }
  auto g = sysfs::LinkBasename(dev_dir / "iommu_group");
  auto gid = g ? sysfs::ParseInt(*g) : std::nullopt;
  if (!gid) {
    return Status::NotFound(addr.ToString() + " has no IOMMU group");
  }
  VfioProbeResult res;
  res.address = addr;
  res.group = static_cast<int>(*gid);
  auto step = [&](const std::string& name, bool ok, std::string detail) {
    res.steps.push_back({name, ok, std::move(detail)});
    return ok;
  };

  const std::string cpath = host.VfioContainerNode().string();
  Fd container(hostfs::OpenHostPath(cpath, O_RDWR | O_CLOEXEC));
  if (!step("open-container", container.get() >= 0,
            container.get() >= 0 ? cpath : cpath + ": " + ErrnoText(errno))) {
    return res;
  }
  int version = ::ioctl(container.get(), VFIO_GET_API_VERSION);
  if (!step("api-version", version == VFIO_API_VERSION,
            "version=" + std::to_string(version))) {
    return res;
  }
  int v2 = ::ioctl(container.get(), VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
  int v1 = ::ioctl(container.get(), VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU);
  if (!step("type1-extension", v2 > 0 || v1 > 0,
            "type1=" + std::to_string(v1) + " type1v2=" + std::to_string(v2))) {
    return res;
  }
  const std::string gpath = host.VfioGroupNode(res.group).string();
  Fd group(hostfs::OpenHostPath(gpath, O_RDWR | O_CLOEXEC));
  if (!step("open-group", group.get() >= 0,
            group.get() >= 0
                ? gpath
                : gpath + ": " + ErrnoText(errno) +
                      (errno == EBUSY    ? ": another process (a VM?) has it"
                       : errno == ENOENT ? ": the device is not on "
                                           "vfio-pci"
                                         : ""))) {
    return res;
  }
  vfio_group_status status{};
  status.argsz = sizeof(status);
  int rc = ::ioctl(group.get(), VFIO_GROUP_GET_STATUS, &status);
  bool viable = rc == 0 && (status.flags & VFIO_GROUP_FLAGS_VIABLE);
  char flags[32];
  std::snprintf(flags, sizeof(flags), "flags=0x%x", status.flags);
  if (!step("group-viable", viable,
            rc != 0 ? ErrnoText(errno)
                    : std::string(flags) +
                          (viable ? ""
                                  : ": a group member is still on a "
                                    "host driver (see pcipass groups)"))) {
    return res;
  }
  int cfd = container.get();
  rc = ::ioctl(group.get(), VFIO_GROUP_SET_CONTAINER, &cfd);
  if (!step("group-set-container", rc == 0,
            rc == 0 ? "ok" : ErrnoText(errno))) {
    return res;
  }
  rc = ::ioctl(container.get(), VFIO_SET_IOMMU,
               v2 > 0 ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU);
  if (!step("set-iommu", rc == 0,
            rc == 0
                ? (v2 > 0 ? "type1v2" : "type1")
                : ErrnoText(errno) +
                      (errno == EPERM ? ": no interrupt remapping?" : ""))) {
    return res;
  }
  const std::string name = addr.ToString();
  Fd device(::ioctl(group.get(), VFIO_GROUP_GET_DEVICE_FD, name.c_str()));
  if (!step("get-device-fd", device.get() >= 0,
            device.get() >= 0 ? name : name + ": " + ErrnoText(errno))) {
    return res;
  }
  vfio_device_info info{};
  info.argsz = sizeof(info);
  rc = ::ioctl(device.get(), VFIO_DEVICE_GET_INFO, &info);
  char detail[96];
  std::snprintf(detail, sizeof(detail), "flags=0x%x regions=%u irqs=%u",
                info.flags, info.num_regions, info.num_irqs);
  if (!step("device-info", rc == 0 && (info.flags & VFIO_DEVICE_FLAGS_PCI),
            rc == 0 ? detail : ErrnoText(errno))) {
    return res;
  }
  res.ok = true;
  return res;
}

}  // namespace pcipass
