#include "core/sysfs.h"

#include <gtest/gtest.h>

#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

using testing::FixtureTree;

TEST(SysfsTest, ReadStripsOneNewlineAndReportsMissingFile) {
  FixtureTree t;
  t.WriteFile("a", "0x8086\n");
  auto r = sysfs::ReadText(t.Abs("a"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "0x8086");
  auto missing = sysfs::ReadText(t.Abs("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(t.Abs("nope").string()),
            std::string::npos);
}

TEST(SysfsTest, WriteThenReadBack) {
  FixtureTree t;
  t.WriteFile("driver_override", "(null)\n");
  ASSERT_TRUE(sysfs::WriteText(t.Abs("driver_override"), "vfio-pci").ok());
  EXPECT_EQ(*sysfs::ReadText(t.Abs("driver_override")), "vfio-pci");
  Status s = sysfs::WriteText(t.Abs("no/such/file"), "x");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST(SysfsTest, LinkBasenameAndListDir) {
  FixtureTree t;
  t.Symlink("dev/driver", "../../../bus/pci/drivers/e1000e");
  EXPECT_EQ(sysfs::LinkBasename(t.Abs("dev/driver")), "e1000e");
  EXPECT_EQ(sysfs::LinkBasename(t.Abs("dev/none")), std::nullopt);
  t.WriteFile("d/b", "");
  t.WriteFile("d/a", "");
  auto names = sysfs::ListDir(t.Abs("d"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b"}));
}

TEST(SysfsTest, ParseHexAndInt) {
  EXPECT_EQ(sysfs::ParseHex("0x8086"), 0x8086u);
  EXPECT_EQ(sysfs::ParseHex("10"), 0x10u);
  EXPECT_EQ(sysfs::ParseHex("0x"), std::nullopt);
  EXPECT_EQ(sysfs::ParseHex("zz"), std::nullopt);
  EXPECT_EQ(sysfs::ParseInt("-1"), -1);
  EXPECT_EQ(sysfs::ParseInt("4\n"), 4);
  EXPECT_EQ(sysfs::ParseInt("4x"), std::nullopt);
}

}  // namespace
}  // namespace pcipass
