#include "hv/qemu_args.h"

#include <algorithm>
#include <cctype>

namespace pcipass::hv {

std::string QemuOptValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    out.push_back(c);
    if (c == ',') out.push_back(',');
  }
  return out;
}

Result<QemuArgs> QemuDeviceArgs(std::span<const HostdevAssignment> devices,
                                const QemuOptions& options) {
  std::string root_bus;
  if (options.machine == "q35") {
    root_bus = "pcie.0";
  } else if (options.machine == "pc") {
    root_bus = "pci.0";
  } else {
    return Status::InvalidArgument(
        "QEMU machine '" + options.machine +
        "' is not accepted; use q35 or pc (it decides the root bus name)");
  }
  PCIPASS_RETURN_IF_ERROR(ValidateAssignments(devices));
  QemuArgs result;
  for (const HostdevAssignment& d : devices) {
    std::string value = "vfio-pci,host=" + QemuOptValue(d.host.ToString()) +
                        ",id=" + QemuOptValue(d.id);
    if (d.guest) {
      std::string bus =
          d.guest->bus == 0 ? root_bus : "pci." + std::to_string(d.guest->bus);
      value += ",bus=" + QemuOptValue(bus) + ",addr=0x" + d.guest->SlotHex() +
               "." + d.guest->FunctionHex();
    }
    result.argv.push_back("-device");
    result.argv.push_back(std::move(value));
    if (d.as_interface && (d.mac || d.vlan)) {
      std::string what;
      if (d.mac) what = "MAC " + *d.mac;
      if (d.vlan) {
        what += std::string(what.empty() ? "" : " and ") + "VLAN " +
                std::to_string(*d.vlan);
      }
      result.notes.push_back(
          d.host.ToString() + " (" + d.id + "): QEMU cannot set the " + what +
          " of a VF; set it through the PF before starting QEMU: " +
          "ip link set <pf-netdev> vf <n>" +
          (d.mac ? " mac " + *d.mac : std::string()) +
          (d.vlan ? " vlan " + std::to_string(*d.vlan) : std::string()));
    }
  }
  return result;
}

std::string ShellQuote(std::string_view word) {
  if (word.empty()) return "''";
  bool safe = std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  });
  if (safe) return std::string(word);
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out += "'";
  return out;
}

std::string ShellJoin(std::span<const std::string> words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += ShellQuote(w);
  }
  return out;
}

}  // namespace pcipass::hv
