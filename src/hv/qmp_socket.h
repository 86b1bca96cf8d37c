// QmpClient: a QMP connection over a Unix socket (qemu -qmp
// unix:PATH,server=on,wait=off), and hot-plug / unplug of claimed devices
// into a running VM through it.
//
// Only the socket and its timeouts live here; every message is encoded and
// decoded by qmp.h. One client is used by one thread. Every wait is bounded
// (poll with a deadline): a QEMU that stops answering gives Unavailable,
// never a hang.
#ifndef PCIPASS_HV_QMP_SOCKET_H_
#define PCIPASS_HV_QMP_SOCKET_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "hv/assignment.h"
#include "hv/qemu_args.h"
#include "hv/qmp.h"

namespace pcipass::hv {

class QmpClient {
 public:
  // Connects to the QMP socket at |path|, reads QEMU's greeting and
  // negotiates capabilities. Unavailable when nothing listens there
  // (ENOENT, ECONNREFUSED: errno in the message) or QEMU does not answer
  // within |timeout_ms|; DataLoss when the peer does not speak QMP.
  static Result<std::unique_ptr<QmpClient>> Connect(const std::string& path,
                                                    int timeout_ms = 5000);
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  // Sends command |name| with |args| (omitted when null) and waits for its
  // reply; events that arrive meanwhile are kept for WaitEvent. The
  // "return" value, or ErrorStatus() of the error reply; Unavailable on
  // timeout or a closed connection.
  Result<nlohmann::json> Execute(std::string_view name,
                                 const nlohmann::json& args = nullptr);

  // Waits for event |name| whose "data" has every key/value of |match|
  // (already received ones count). Its data, or Unavailable after
  // |timeout_ms|.
  Result<nlohmann::json> WaitEvent(std::string_view name,
                                   const nlohmann::json& match, int timeout_ms);

 private:
  QmpClient(int fd, int timeout_ms) : fd_(fd), timeout_ms_(timeout_ms) {}
  Status Send(const std::string& line);
  // Next line within |deadline_ms| (CLOCK_MONOTONIC milliseconds).
  Result<std::string> ReadLine(int64_t deadline_ms);

  int fd_ = -1;
  int timeout_ms_ = 5000;
  int next_id_ = 1;
  std::string buffer_;
  std::vector<qmp::Message> events_;
};

// Hot-plugs |device| (device_add vfio-pci with the same properties as the
// -device form) onto |bus| (see qmp::DeviceAddArgs). OK once QEMU accepted
// it; QEMU's refusal (no such host device, group not viable, id in use, bus
// without hot-plug, ...) as FailedPrecondition with QEMU's reason.
Status HotplugDevice(QmpClient& qmp, const HostdevAssignment& device,
                     std::string_view bus, const QemuOptions& options = {});

// Asks QEMU to unplug device |id| (device_del) and waits for its
// DEVICE_DELETED event: only then is the host device free to release.
// NotFound for an unknown id; Unavailable when the guest did not let the
// device go within |timeout_ms| (the guest OS must acknowledge an unplug).
Status UnplugDevice(QmpClient& qmp, const std::string& id, int timeout_ms);

}  // namespace pcipass::hv

#endif  // PCIPASS_HV_QMP_SOCKET_H_
