// QMP (the QEMU Machine Protocol): encoding commands and decoding replies,
// for hot-plugging claimed devices into a running VM (device_add vfio-pci /
// device_del).
//
// QMP is line-oriented JSON over a socket: QEMU greets with {"QMP": {...}},
// the client must send {"execute": "qmp_capabilities"} first, then every
// command gets exactly one {"return": ...} or {"error": {"class", "desc"}}
// reply carrying the command's "id"; asynchronous {"event": ...} messages
// may arrive in between. This file is pure (no I/O) so every message shape
// is unit-tested; qmp_socket.h does the socket.
#ifndef PCIPASS_HV_QMP_H_
#define PCIPASS_HV_QMP_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "hv/assignment.h"
#include "hv/qemu_args.h"

namespace pcipass::hv::qmp {

// One command as a single line (terminated by "\n"):
// {"execute": NAME, "arguments": ARGS (omitted when null), "id": ID}.
std::string EncodeCommand(std::string_view name, const nlohmann::json& args,
                          std::string_view id);

// The device_add arguments for |device|, the same properties as the
// -device value of qemu_args.h: {"driver": "vfio-pci", "host": ADDR,
// "id": ID[, "bus": ..., "addr": "0x05.0"]}. A hot-plugged device must go
// on a bus that supports hot-plug (on q35 a pcie-root-port, not pcie.0):
// a non-empty |bus| names it and overrides the pinned guest bus.
// InvalidArgument when ValidateAssignments refuses the device or the
// machine is not q35/pc.
Result<nlohmann::json> DeviceAddArgs(const HostdevAssignment& device,
                                     const QemuOptions& options = {},
                                     std::string_view bus = "");

struct Message {
  enum class Kind { kGreeting, kReturn, kError, kEvent };
  Kind kind = Kind::kReturn;
  nlohmann::json body;      // greeting's "QMP", "return", event "data"
  std::string id;           // the command id echoed back ("" if none)
  std::string error_class;  // kError: "GenericError", "DeviceNotFound", ...
  std::string error_desc;   // kError: QEMU's human-readable reason
  std::string event;        // kEvent: "DEVICE_DELETED", ...
};

// Decodes one line from QEMU. DataLoss for text that is not a JSON object
// or an object of none of the four shapes (the message quotes the line).
Result<Message> Decode(std::string_view line);

// The Status for an error reply: NotFound for DeviceNotFound, otherwise
// FailedPrecondition, with "QMP <command>: <class>: <desc>".
Status ErrorStatus(std::string_view command, const Message& reply);

}  // namespace pcipass::hv::qmp

#endif  // PCIPASS_HV_QMP_H_
