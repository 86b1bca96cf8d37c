#include "hv/qmp.h"

#include "core/bounded_input.h"

namespace pcipass::hv::qmp {

std::string EncodeCommand(std::string_view name, const nlohmann::json& args,
                          std::string_view id) {
  nlohmann::json cmd;
  cmd["execute"] = std::string(name);
  if (!args.is_null()) cmd["arguments"] = args;
  if (!id.empty()) cmd["id"] = std::string(id);
  // dump() escapes control characters, so the command is one line.
  return cmd.dump() + "\n";
}

Result<nlohmann::json> DeviceAddArgs(const HostdevAssignment& device,
                                     const QemuOptions& options,
                                     std::string_view bus) {
  // Reuse the -device generator so both paths share one set of rules.
  Result<QemuArgs> args = QemuDeviceArgs({&device, 1}, options);
  if (!args.ok()) return args.status();
  nlohmann::json out;
  out["driver"] = "vfio-pci";
  out["host"] = device.host.ToString();
  out["id"] = device.id;
  if (!bus.empty()) {
    out["bus"] = std::string(bus);
    if (device.guest) {
      out["addr"] =
          "0x" + device.guest->SlotHex() + "." + device.guest->FunctionHex();
    }
  } else if (device.guest) {
    out["bus"] = device.guest->bus == 0
                     ? (options.machine == "pc" ? "pci.0" : "pcie.0")
                     : "pci." + std::to_string(device.guest->bus);
    out["addr"] =
        "0x" + device.guest->SlotHex() + "." + device.guest->FunctionHex();
  }
  return out;
}

Result<Message> Decode(std::string_view line) {
  auto bad = [&](std::string_view why) {
    std::string quoted(line.substr(0, 200));
    return Status::DataLoss("QMP: " + std::string(why) + ": '" + quoted + "'");
  };
  if (Status d = CheckJsonDepth(line, kMaxQmpJsonDepth); !d.ok()) {
    return bad(d.message());
  }
  nlohmann::json j = nlohmann::json::parse(line, nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  Message m;
  if (auto id = j.find("id"); id != j.end()) {
    m.id = id->is_string() ? id->get<std::string>() : id->dump();
  }
  if (j.contains("QMP")) {
    m.kind = Message::Kind::kGreeting;
    m.body = j["QMP"];
  } else if (j.contains("return")) {
    m.kind = Message::Kind::kReturn;
    m.body = j["return"];
  } else if (j.contains("error")) {
    const nlohmann::json& e = j["error"];
    if (!e.is_object()) return bad("error reply without an object");
    // json::value() throws on a type mismatch; QEMU's schema says both
    // are strings, so anything else is a malformed reply, not a crash.
    for (const char* key : {"class", "desc"}) {
      if (e.contains(key) && !e[key].is_string()) {
        return bad(std::string("error ") + key + " is not a string");
      }
    }
    m.kind = Message::Kind::kError;
    m.error_class = e.value("class", "");
    m.error_desc = e.value("desc", "");
  } else if (j.contains("event")) {
    if (!j["event"].is_string()) return bad("event name is not a string");
    m.kind = Message::Kind::kEvent;
    m.event = j["event"].get<std::string>();
    m.body = j.value("data", nlohmann::json::object());
  } else {
    return bad("neither greeting, return, error nor event");
  }
  return m;
}

Status ErrorStatus(std::string_view command, const Message& reply) {
  std::string msg = "QMP " + std::string(command) + ": " + reply.error_class +
                    ": " + reply.error_desc;
  if (reply.error_class == "DeviceNotFound") return Status::NotFound(msg);
  return Status::FailedPrecondition(msg);
}

}  // namespace pcipass::hv::qmp
