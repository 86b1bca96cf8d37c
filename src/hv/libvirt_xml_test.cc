#include "hv/libvirt_xml.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>
#include <vector>

namespace pcipass::hv {
namespace {

PciAddress Addr(const char* text) { return *PciAddress::Parse(text); }

HostdevAssignment Dev(const char* host, const char* id,
                      DeviceType type = DeviceType::kPci) {
  HostdevAssignment d;
  d.host = Addr(host);
  d.id = id;
  d.dev_type = type;
  return d;
}

pugi::xml_node ParseFirst(pugi::xml_document& doc, const std::string& xml) {
  pugi::xml_parse_result r = doc.load_string(xml.c_str());
  EXPECT_TRUE(r) << r.description() << "\n" << xml;
  return doc.first_child();
}

std::string SourceAddress(pugi::xml_node dev) {
  pugi::xml_node a = dev.child("source").child("address");
  std::string out;
  for (pugi::xml_attribute attr : a.attributes()) {
    out += std::string(attr.name()) + "=" + attr.value() + " ";
  }
  return out;
}

// Acceptance row 59: managed from the spec tag; the source address as Nova
// writes it (0x fields, no type attribute).
TEST(LibvirtXmlTest, Row59ManagedTag) {
  struct Case {
    bool managed;
    const char* want;
  } cases[] = {{true, "yes"}, {false, "no"}};
  for (const Case& c : cases) {
    HostdevAssignment d = Dev("0000:81:00.1", "hostdev0");
    d.managed = c.managed;
    Result<std::string> xml = LibvirtDevicesXml({&d, 1});
    ASSERT_TRUE(xml.ok()) << xml.status().message();
    pugi::xml_document doc;
    pugi::xml_node e = ParseFirst(doc, *xml);
    EXPECT_STREQ(e.name(), "hostdev");
    EXPECT_STREQ(e.attribute("mode").value(), "subsystem");
    EXPECT_STREQ(e.attribute("type").value(), "pci");
    EXPECT_STREQ(e.attribute("managed").value(), c.want) << c.managed;
    EXPECT_EQ(SourceAddress(e),
              "domain=0x0000 bus=0x81 slot=0x00 function=0x1 ");
    EXPECT_FALSE(e.child("address")) << "no guest address unless pinned";
  }
}

// Acceptance row 60: a VF as a NIC with VLAN 100.
TEST(LibvirtXmlTest, Row60InterfaceWithVlan) {
  HostdevAssignment d = Dev("0000:0a:00.1", "net0", DeviceType::kVf);
  d.as_interface = true;
  d.mac = "FA:16:3E:00:00:01";
  d.vlan = 100;
  Result<std::string> xml = LibvirtDevicesXml({&d, 1});
  ASSERT_TRUE(xml.ok()) << xml.status().message();
  pugi::xml_document doc;
  pugi::xml_node e = ParseFirst(doc, *xml);
  EXPECT_STREQ(e.name(), "interface");
  EXPECT_STREQ(e.attribute("type").value(), "hostdev");
  EXPECT_STREQ(e.attribute("managed").value(), "yes");
  EXPECT_STREQ(e.child("mac").attribute("address").value(),
               "fa:16:3e:00:00:01");
  EXPECT_EQ(SourceAddress(e),
            "type=pci domain=0x0000 bus=0x0a slot=0x00 function=0x1 ");
  EXPECT_STREQ(e.child("vlan").child("tag").attribute("id").value(), "100");
  EXPECT_FALSE(e.child("model")) << "Nova writes no <model>";
}

TEST(LibvirtXmlTest, ExactTextWithPinnedSlotAndAlias) {
  std::vector<HostdevAssignment> v = {
      Dev("0000:81:00.1", "hostdev0"),
      Dev("0000:0a:10.2", "net0", DeviceType::kVf)};
  v[0].guest = Addr("0000:00:05.0");
  v[0].managed = false;
  v[1].as_interface = true;
  Result<std::string> xml = LibvirtDevicesXml(v);
  ASSERT_TRUE(xml.ok()) << xml.status().message();
  EXPECT_EQ(*xml,
            "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">\n"
            "  <driver name=\"vfio\" />\n"
            "  <source>\n"
            "    <address domain=\"0x0000\" bus=\"0x81\" slot=\"0x00\" "
            "function=\"0x1\" />\n"
            "  </source>\n"
            "  <alias name=\"ua-hostdev0\" />\n"
            "  <address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" "
            "slot=\"0x05\" function=\"0x0\" />\n"
            "</hostdev>\n"
            "<interface type=\"hostdev\" managed=\"yes\">\n"
            "  <driver name=\"vfio\" />\n"
            "  <source>\n"
            "    <address type=\"pci\" domain=\"0x0000\" bus=\"0x0a\" "
            "slot=\"0x10\" function=\"0x2\" />\n"
            "  </source>\n"
            "  <alias name=\"ua-net0\" />\n"
            "</interface>\n");
}

TEST(LibvirtXmlTest, FiveDigitDomain) {
  HostdevAssignment d = Dev("10000:01:00.0", "hostdev0");
  Result<std::string> xml = LibvirtDevicesXml({&d, 1});
  ASSERT_TRUE(xml.ok()) << xml.status().message();
  EXPECT_NE(xml->find("domain=\"0x10000\""), std::string::npos) << *xml;
}

TEST(LibvirtXmlTest, RefusesInvalidAssignments) {
  HostdevAssignment d = Dev("0000:81:00.1", "hostdev0");
  d.guest = Addr("0000:00:00.0");
  Result<std::string> xml = LibvirtDevicesXml({&d, 1});
  ASSERT_FALSE(xml.ok());
  EXPECT_NE(xml.status().message().find("0000:81:00.1"), std::string::npos);
  Result<std::string> dom = LibvirtDomainXml({.name = "vm"}, {&d, 1});
  EXPECT_FALSE(dom.ok());
}

TEST(LibvirtDomainXmlTest, Structure) {
  HostdevAssignment d = Dev("0000:81:00.1", "hostdev0");
  Result<std::string> xml =
      LibvirtDomainXml({.name = "instance-1", .memory_mib = 2048}, {&d, 1});
  ASSERT_TRUE(xml.ok()) << xml.status().message();
  pugi::xml_document doc;
  pugi::xml_node dom = ParseFirst(doc, *xml);
  EXPECT_STREQ(dom.name(), "domain");
  EXPECT_STREQ(dom.attribute("type").value(), "kvm");
  EXPECT_STREQ(dom.child_value("name"), "instance-1");
  EXPECT_STREQ(dom.child_value("memory"), "2048");
  EXPECT_STREQ(dom.child("os").child("type").attribute("machine").value(),
               "q35");
  EXPECT_TRUE(dom.child("devices").child("hostdev"));
}

TEST(LibvirtDomainXmlTest, NameIsEscaped) {
  Result<std::string> xml = LibvirtDomainXml({.name = "a<b&'c\""}, {});
  ASSERT_TRUE(xml.ok()) << xml.status().message();
  pugi::xml_document doc;
  pugi::xml_node dom = ParseFirst(doc, *xml);
  EXPECT_STREQ(dom.child_value("name"), "a<b&'c\"");
}

TEST(LibvirtDomainXmlTest, RefusesBadOptions) {
  struct Case {
    DomainOptions options;
    const char* want;
  } cases[] = {
      {{.name = ""}, "non-empty name"},
      {{.name = "a/b"}, "without '/'"},
      {{.name = "a\nb"}, "control character"},
      {{.name = "vm", .type = "xen"}, "use kvm or qemu"},
      {{.name = "vm", .memory_mib = 0}, "must both be positive"},
      {{.name = "vm", .vcpus = -1}, "must both be positive"},
  };
  for (const Case& c : cases) {
    Result<std::string> xml = LibvirtDomainXml(c.options, {});
    ASSERT_FALSE(xml.ok()) << c.want;
    EXPECT_NE(xml.status().message().find(c.want), std::string::npos)
        << xml.status().message();
  }
}

}  // namespace
}  // namespace pcipass::hv
