// Validates generated domain XML against libvirt's own RelaxNG schema with
// virt-xml-validate (Debian: libvirt-clients; the schemas come with
// libvirt0). A missing tool is a failure that names the package, never a
// silent skip: the schema check is part of what "done" means.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "hv/libvirt_xml.h"
#include "testing/fixture_tree.h"

namespace pcipass::hv {
namespace {

PciAddress Addr(const char* text) { return *PciAddress::Parse(text); }

std::string FindTool(const char* name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::filesystem::path p =
        std::filesystem::path(dirs.substr(start, end - start)) / name;
    if (!p.parent_path().empty() && access(p.c_str(), X_OK) == 0) return p;
    start = end + 1;
  }
  return "";
}

struct Validation {
  int status = -1;
  std::string output;
};

Validation Validate(const std::string& xml) {
  testing::FixtureTree tree;
  tree.WriteFile("domain.xml", xml);
  std::string cmd = FindTool("virt-xml-validate") + " '" +
                    tree.Abs("domain.xml").string() + "' domain 2>&1";
  Validation v;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return v;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) v.output.append(buf, n);
  int st = pclose(p);
  v.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return v;
}

class LibvirtSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(FindTool("virt-xml-validate").empty())
        << "virt-xml-validate not found: install the Debian package "
           "libvirt-clients (scripts/deps.sh lists it)";
  }
};

TEST_F(LibvirtSchemaTest, EveryFormValidates) {
  std::vector<HostdevAssignment> v(4);
  v[0].host = Addr("0000:81:00.1");
  v[0].id = "hostdev0";
  v[1].host = Addr("0000:82:00.0");
  v[1].id = "hostdev1";
  v[1].managed = false;
  v[1].guest = Addr("0000:00:05.0");
  v[1].dev_type = DeviceType::kPf;
  v[2].host = Addr("0000:0a:00.1");
  v[2].id = "net0";
  v[2].dev_type = DeviceType::kVf;
  v[2].as_interface = true;
  v[2].mac = "52:54:00:12:34:56";
  v[2].vlan = 100;
  v[2].guest = Addr("0000:00:06.0");
  v[3].host = Addr("10000:01:00.2");
  v[3].id = "net1";
  v[3].dev_type = DeviceType::kVf;
  v[3].as_interface = true;
  Result<std::string> xml = LibvirtDomainXml({.name = "instance-1"}, v);
  ASSERT_TRUE(xml.ok()) << xml.status().message();
  Validation r = Validate(*xml);
  EXPECT_EQ(r.status, 0) << r.output << "\n" << *xml;

  Result<std::string> qemu =
      LibvirtDomainXml({.name = "vm-2", .type = "qemu"}, {});
  ASSERT_TRUE(qemu.ok());
  r = Validate(*qemu);
  EXPECT_EQ(r.status, 0) << r.output << "\n" << *qemu;
}

// The validator really checks: a broken element is refused, so the test
// above cannot pass by accident.
TEST_F(LibvirtSchemaTest, ValidatorRejectsBrokenXml) {
  HostdevAssignment d;
  d.host = Addr("0000:81:00.1");
  d.id = "hostdev0";
  Result<std::string> xml = LibvirtDomainXml({.name = "vm"}, {&d, 1});
  ASSERT_TRUE(xml.ok());
  std::string broken = *xml;
  size_t at = broken.find("bus=\"0x81\"");
  ASSERT_NE(at, std::string::npos);
  broken.replace(at, 10, "bus=\"0xzz\"");
  Validation r = Validate(broken);
  EXPECT_NE(r.status, 0) << r.output;
}

}  // namespace
}  // namespace pcipass::hv
