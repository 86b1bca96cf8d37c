#include "hv/vm_config_json.h"

#include "hv/libvirt_xml.h"

namespace pcipass::hv {

Result<nlohmann::json> VmConfigJson(const std::string& instance,
                                    std::span<const HostdevAssignment> devices,
                                    const QemuOptions& qemu) {
  Result<QemuArgs> args = QemuDeviceArgs(devices, qemu);
  if (!args.ok()) return args.status();
  nlohmann::json out;
  out["instance"] = instance;
  out["devices"] = nlohmann::json::array();
  for (size_t i = 0; i < devices.size(); ++i) {
    const HostdevAssignment& d = devices[i];
    Result<std::string> xml = LibvirtDevicesXml(devices.subspan(i, 1));
    if (!xml.ok()) return xml.status();
    std::string element = *xml;
    while (!element.empty() && element.back() == '\n') element.pop_back();
    nlohmann::json j;
    j["id"] = d.id;
    j["host_address"] = d.host.ToString();
    j["dev_type"] = std::string(DeviceTypeName(d.dev_type));
    j["pci_alias"] = d.pci_alias.empty() ? nlohmann::json(nullptr)
                                         : nlohmann::json(d.pci_alias);
    j["managed"] = d.managed;
    j["guest_address"] =
        d.guest ? nlohmann::json(d.guest->ToString()) : nlohmann::json(nullptr);
    j["form"] = d.as_interface ? "interface" : "hostdev";
    j["mac"] =
        d.mac ? nlohmann::json(*ParseMac(*d.mac)) : nlohmann::json(nullptr);
    j["vlan"] = d.vlan ? nlohmann::json(*d.vlan) : nlohmann::json(nullptr);
    j["libvirt_alias"] = LibvirtAlias(d);
    j["libvirt_xml"] = element;
    j["qemu_device"] = args->argv[2 * i + 1];
    out["devices"].push_back(std::move(j));
  }
  out["qemu_args"] = args->argv;
  out["notes"] = args->notes;
  return out;
}

}  // namespace pcipass::hv
