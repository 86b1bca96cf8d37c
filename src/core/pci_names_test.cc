#include "core/pci_names.h"

#include <gtest/gtest.h>

#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

TEST(PciNames, LooksUpFromAGivenDatabase) {
  testing::FixtureTree tree;
  tree.WriteFile("ids",
                 "10de  NVIDIA Corporation\n"
                 "\t20b0  GA100 [A100 SXM4 40GB]\n"
                 "C 03  Display controller\n"
                 "\t02  3D controller\n");
  PciNames names(tree.Abs("ids").string());
  EXPECT_TRUE(names.available());
  EXPECT_EQ(names.Vendor(0x10de), "NVIDIA Corporation");
  EXPECT_EQ(names.Product(0x10de, 0x20b0), "GA100 [A100 SXM4 40GB]");
  EXPECT_EQ(names.Product(0x10de, 0x1234), "");
  EXPECT_EQ(names.Vendor(0x1234), "");
  EXPECT_EQ(names.Class(0x030200), "3D controller");
  // Subclass unknown to the db: base class name from the db.
  EXPECT_EQ(names.Class(0x038000), "Display controller");
  // Class unknown to the db: built-in table.
  EXPECT_EQ(names.Class(0x020000), "Ethernet controller");
}

TEST(PciNames, MissingOrMalformedDatabaseIsNotFatal) {
  testing::FixtureTree tree;
  tree.WriteFile("bad", "this is not\n\t\t\tpci.ids\nC zz\n");
  for (const std::string& path :
       {tree.Abs("missing").string(), tree.Abs("bad").string()}) {
    PciNames names(path);
    EXPECT_EQ(names.Vendor(0x8086), "") << path;
    EXPECT_EQ(names.Class(0x010802), "Non-Volatile memory controller") << path;
  }
  PciNames missing(tree.Abs("missing").string());
  EXPECT_FALSE(missing.available());
}

TEST(PciNames, BuiltinTable) {
  struct Case {
    uint32_t code;
    const char* name;
  } cases[] = {
      {0x020000, "Ethernet controller"},
      {0x010802, "Non-Volatile memory controller"},
      {0x060400, "PCI bridge"},
      {0x068000, "Bridge"},
      {0x030000, "VGA compatible controller"},
      {0x120000, "Processing accelerators"},
      {0x400000, "Class 4000"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PciNames::BuiltinClassName(c.code), c.name) << std::hex << c.code;
  }
}

}  // namespace
}  // namespace pcipass
