#include "hv/vm_plan.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace pcipass::hv {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

// Splits "HOST=VALUE" (or just "HOST" when |want_value| is false) and
// resolves HOST to one of the instance's devices.
struct FlagEntry {
  size_t index;  // into the sorted device list
  std::string value;
};

Result<FlagEntry> ParseFlag(const std::string& flag, const std::string& text,
                            bool want_value, const std::string& instance,
                            std::span<const ClaimedDevice> devices,
                            const char* example) {
  std::string host_text = text;
  std::string value;
  if (want_value) {
    size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
      return Status::InvalidArgument(flag + " '" + text +
                                     "' is not HOST=VALUE; expected e.g. " +
                                     flag + " " + example);
    }
    host_text = text.substr(0, eq);
    value = text.substr(eq + 1);
  }
  Result<PciAddress> host = PciAddress::Parse(host_text);
  if (!host.ok()) {
    return Status::InvalidArgument(flag + " '" + text + "': '" + host_text +
                                   "' is not a host PCI address such as "
                                   "0000:81:00.1");
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].address == *host) return FlagEntry{i, value};
  }
  std::string held;
  for (const ClaimedDevice& d : devices) {
    held += (held.empty() ? "" : ", ") + d.address.ToString();
  }
  return Status::InvalidArgument(
      flag + " '" + text + "': instance " + instance + " does not hold " +
      host->ToString() + "; its devices are " + held);
}

}  // namespace

bool ManagedTagSaysYes(const std::optional<std::string>& value) {
  if (!value) return false;
  std::string v = Lower(*value);
  return v == "yes" || v == "true" || v == "1" || v == "on";
}

Result<std::vector<HostdevAssignment>> PlanAssignments(
    const std::string& instance, std::span<const ClaimedDevice> devices_in,
    const VmConfigFlags& flags) {
  if (devices_in.empty()) {
    return Status::NotFound("instance " + instance +
                            " holds no devices; claim some first with "
                            "'pcipass claim --instance " +
                            instance + " ALIAS:COUNT'");
  }
  std::vector<ClaimedDevice> devices(devices_in.begin(), devices_in.end());
  std::sort(devices.begin(), devices.end(),
            [](const ClaimedDevice& a, const ClaimedDevice& b) {
              return a.address < b.address;
            });
  std::vector<HostdevAssignment> out(devices.size());
  std::vector<bool> iface_flag(devices.size(), false);
  for (size_t i = 0; i < devices.size(); ++i) {
    const ClaimedDevice& c = devices[i];
    if (c.state == "removed") {
      return Status::FailedPrecondition(
          "device " + c.address.ToString() + " of instance " + instance +
          " is marked removed (it vanished from the host while claimed); "
          "release the instance's claims and claim again");
    }
    HostdevAssignment& a = out[i];
    a.host = c.address;
    a.id = "hostdev" + std::to_string(i);
    a.dev_type = c.dev_type;
    a.pci_alias = c.pci_alias;
    auto managed = c.tags.find("managed");
    a.managed = flags.managed.value_or(managed != c.tags.end() &&
                                       ManagedTagSaysYes(managed->second));
    auto physnet = c.tags.find("physical_network");
    a.as_interface = c.dev_type == DeviceType::kVf && physnet != c.tags.end() &&
                     physnet->second && !physnet->second->empty();
  }

  struct Kind {
    const char* flag;
    const std::vector<std::string>* values;
    bool want_value;
    const char* example;
  };
  const Kind kinds[] = {
      {"--pin", &flags.pins, true, "0000:81:00.1=00:05.0"},
      {"--mac", &flags.macs, true, "0000:81:10.1=52:54:00:12:34:56"},
      {"--vlan", &flags.vlans, true, "0000:81:10.1=100"},
      {"--interface", &flags.interfaces, false, "0000:81:10.1"},
  };
  for (const Kind& k : kinds) {
    std::set<size_t> seen;
    for (const std::string& text : *k.values) {
      Result<FlagEntry> e =
          ParseFlag(k.flag, text, k.want_value, instance, devices, k.example);
      if (!e.ok()) return e.status();
      HostdevAssignment& a = out[e->index];
      if (!seen.insert(e->index).second) {
        return Status::InvalidArgument(std::string(k.flag) +
                                       " given twice for " + a.host.ToString() +
                                       "; give it once");
      }
      const std::string where = std::string(k.flag) + " '" + text + "': ";
      if (std::string_view(k.flag) == "--pin") {
        Result<PciAddress> g = ParseGuestAddress(e->value);
        if (!g.ok()) {
          return Status::InvalidArgument(where + g.status().message());
        }
        a.guest = *g;
      } else if (std::string_view(k.flag) == "--mac") {
        Result<std::string> mac = ParseMac(e->value);
        if (!mac.ok()) {
          return Status::InvalidArgument(where + mac.status().message());
        }
        a.mac = *mac;
        iface_flag[e->index] = true;
      } else if (std::string_view(k.flag) == "--vlan") {
        Result<int> vlan = ParseVlan(e->value);
        if (!vlan.ok()) {
          return Status::InvalidArgument(where + vlan.status().message());
        }
        a.vlan = *vlan;
        iface_flag[e->index] = true;
      } else {
        iface_flag[e->index] = true;
      }
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (iface_flag[i]) out[i].as_interface = true;
  }
  PCIPASS_RETURN_IF_ERROR(ValidateAssignments(out));
  return out;
}

}  // namespace pcipass::hv
