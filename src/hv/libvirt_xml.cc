#include "hv/libvirt_xml.h"

#include <pugixml.hpp>
#include <sstream>

#include "core/values.h"

namespace pcipass::hv {

namespace {

// Fills an <address> element with the 0x-prefixed fields libvirt and Nova
// use: domain 4 digits, bus 2, slot 2, function 1, lower-case hex.
void SetAddress(pugi::xml_node node, const PciAddress& a, bool with_type) {
  if (with_type) node.append_attribute("type") = "pci";
  node.append_attribute("domain") = ("0x" + a.DomainHex()).c_str();
  node.append_attribute("bus") = ("0x" + a.BusHex()).c_str();
  node.append_attribute("slot") = ("0x" + a.SlotHex()).c_str();
  node.append_attribute("function") = ("0x" + a.FunctionHex()).c_str();
}

void AppendHostdev(pugi::xml_node parent, const HostdevAssignment& d) {
  pugi::xml_node e = parent.append_child("hostdev");
  e.append_attribute("mode") = "subsystem";
  e.append_attribute("type") = "pci";
  e.append_attribute("managed") = d.managed ? "yes" : "no";
  e.append_child("driver").append_attribute("name") = "vfio";
  SetAddress(e.append_child("source").append_child("address"), d.host,
             /*with_type=*/false);
  e.append_child("alias").append_attribute("name") = LibvirtAlias(d).c_str();
  if (d.guest) SetAddress(e.append_child("address"), *d.guest, true);
}

void AppendInterface(pugi::xml_node parent, const HostdevAssignment& d) {
  pugi::xml_node e = parent.append_child("interface");
  e.append_attribute("type") = "hostdev";
  e.append_attribute("managed") = d.managed ? "yes" : "no";
  if (d.mac) {
    // Validated already; normalise case for the output.
    Result<std::string> mac = ParseMac(*d.mac);
    e.append_child("mac").append_attribute("address") =
        (mac.ok() ? *mac : *d.mac).c_str();
  }
  e.append_child("driver").append_attribute("name") = "vfio";
  SetAddress(e.append_child("source").append_child("address"), d.host,
             /*with_type=*/true);
  if (d.vlan) {
    e.append_child("vlan").append_child("tag").append_attribute("id") = *d.vlan;
  }
  e.append_child("alias").append_attribute("name") = LibvirtAlias(d).c_str();
  if (d.guest) SetAddress(e.append_child("address"), *d.guest, true);
}

std::string Print(const pugi::xml_node& node, int depth) {
  std::ostringstream out;
  node.print(out, "  ", pugi::format_indent, pugi::encoding_utf8, depth);
  return out.str();
}

}  // namespace

Result<std::string> LibvirtDevicesXml(
    std::span<const HostdevAssignment> devices) {
  PCIPASS_RETURN_IF_ERROR(ValidateAssignments(devices));
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("devices");
  for (const HostdevAssignment& d : devices) {
    if (d.as_interface) {
      AppendInterface(root, d);
    } else {
      AppendHostdev(root, d);
    }
  }
  std::string out;
  for (pugi::xml_node child : root.children()) out += Print(child, 0);
  return out;
}

Result<std::string> LibvirtDomainXml(
    const DomainOptions& options, std::span<const HostdevAssignment> devices) {
  if (options.name.empty() || options.name.find('/') != std::string::npos) {
    return Status::InvalidArgument(
        "domain name '" + ShowText(options.name) +
        "' is not accepted; libvirt needs a non-empty name without '/'");
  }
  for (unsigned char c : options.name) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(
          "domain name '" + ShowText(options.name) +
          "' contains a control character; use printable characters");
    }
  }
  if (options.type != "kvm" && options.type != "qemu") {
    return Status::InvalidArgument("domain type '" + options.type +
                                   "' is not accepted; use kvm or qemu");
  }
  if (options.memory_mib <= 0 || options.vcpus <= 0) {
    return Status::InvalidArgument(
        "domain memory (" + std::to_string(options.memory_mib) +
        " MiB) and vcpus (" + std::to_string(options.vcpus) +
        ") must both be positive");
  }
  PCIPASS_RETURN_IF_ERROR(ValidateAssignments(devices));

  pugi::xml_document doc;
  pugi::xml_node dom = doc.append_child("domain");
  dom.append_attribute("type") = options.type.c_str();
  dom.append_child("name").text() = options.name.c_str();
  pugi::xml_node mem = dom.append_child("memory");
  mem.append_attribute("unit") = "MiB";
  mem.text() = options.memory_mib;
  dom.append_child("vcpu").text() = options.vcpus;
  pugi::xml_node os = dom.append_child("os");
  pugi::xml_node type = os.append_child("type");
  type.append_attribute("arch") = options.arch.c_str();
  type.append_attribute("machine") = options.machine.c_str();
  type.text() = "hvm";
  pugi::xml_node devs = dom.append_child("devices");
  for (const HostdevAssignment& d : devices) {
    if (d.as_interface) {
      AppendInterface(devs, d);
    } else {
      AppendHostdev(devs, d);
    }
  }
  return Print(dom, 0);
}

}  // namespace pcipass::hv
