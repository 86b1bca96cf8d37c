// Confinement under --root: every open below a HostRoot resolves inside it,
// through openat2 (RESOLVE_IN_ROOT) and through the fallback walk alike.
#include "core/host_root.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "core/host_root_open.h"
#include "core/sysfs.h"
#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

using testing::FixtureTree;

// Runs each test twice: with openat2 and with the component-wise walk.
class ConfineTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    hostfs::internal::g_force_walk = GetParam();
    outside_.WriteFile("secret", "SECRET\n");
    outside_.WriteFile("dir/entry", "x");
  }
  void TearDown() override { hostfs::internal::g_force_walk = false; }

  std::string Outside(const char* rel) const {
    return outside_.Abs(rel).string();
  }

  FixtureTree tree_;     // the --root tree
  FixtureTree outside_;  // what a hostile tree points at
  HostRoot host_{tree_.root()};
};

TEST_P(ConfineTest, AbsoluteLinkToAFileElsewhereIsNotReadOrWritten) {
  tree_.MakeDir("sys/bus/pci/devices/0000:01:00.0");
  const auto dev = host_.Sys("bus/pci/devices/0000:01:00.0");
  tree_.Symlink("sys/bus/pci/devices/0000:01:00.0/driver_override",
                Outside("secret"));
  tree_.Symlink("sys/bus/pci/devices/0000:01:00.0/sriov_numvfs",
                Outside("secret"));
  // Read: `show` printed the target's content before.
  auto r = sysfs::ReadText(dev / "driver_override");
  EXPECT_FALSE(r.ok() && *r == "SECRET");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  // Write: the target was overwritten before.
  EXPECT_FALSE(sysfs::WriteText(dev / "sriov_numvfs", "4").ok());
  EXPECT_EQ(*sysfs::ReadText(outside_.Abs("secret")), "SECRET");
}

TEST_P(ConfineTest, AbsoluteLinkMeansTheSamePathInsideTheRoot) {
  tree_.WriteFile("sys/devices/pci0000:00/0000:01:00.0/numa_node", "1\n");
  tree_.Symlink("sys/bus/pci/devices/0000:01:00.0",
                "/sys/devices/pci0000:00/0000:01:00.0");
  EXPECT_EQ(sysfs::ReadText(host_.Sys("bus/pci/devices/0000:01:00.0/numa_node"))
                .value_or("?"),
            "1");
}

TEST_P(ConfineTest, RelativeSysfsLinksKeepWorking) {
  // The real kernel's layout: relative links through "..".
  tree_.WriteFile("sys/devices/pci0000:00/0000:01:00.0/vendor", "0x8086\n");
  tree_.MakeDir("sys/bus/pci/drivers/e1000e");
  tree_.Symlink("sys/bus/pci/devices/0000:01:00.0",
                "../../../devices/pci0000:00/0000:01:00.0");
  tree_.Symlink("sys/devices/pci0000:00/0000:01:00.0/driver",
                "../../../bus/pci/drivers/e1000e");
  const auto dev = host_.PciDeviceDir(*PciAddress::Parse("0000:01:00.0"));
  EXPECT_EQ(sysfs::ReadText(dev / "vendor").value_or("?"), "0x8086");
  EXPECT_EQ(sysfs::LinkBasename(dev / "driver"), "e1000e");
  EXPECT_TRUE(sysfs::Exists(dev / "driver"));
  auto names = sysfs::ListDir(dev / "driver/..");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, std::vector<std::string>{"e1000e"});
}

TEST_P(ConfineTest, DotDotStopsAtTheRoot) {
  // Enough ".." to climb out of any temp dir, then into the outside tree.
  std::string up;
  for (int i = 0; i < 32; ++i) up += "../";
  tree_.MakeDir("sys/class");
  tree_.Symlink("sys/class/net", up + Outside("dir").substr(1));
  auto names = sysfs::ListDir(host_.ClassDir("net"));
  EXPECT_FALSE(names.ok());  // <root>/<outside path>/dir does not exist
  tree_.Symlink("sys/x", up + Outside("secret").substr(1));
  EXPECT_FALSE(sysfs::ReadText(host_.Sys("x")).ok());
  EXPECT_FALSE(sysfs::WriteText(host_.Sys("x"), "1").ok());
  EXPECT_EQ(*sysfs::ReadText(outside_.Abs("secret")), "SECRET");
}

TEST_P(ConfineTest, DirectoryLinkElsewhereIsNotListedOrEntered) {
  tree_.MakeDir("sys/kernel");
  tree_.Symlink("sys/kernel/iommu_groups", Outside("dir"));
  EXPECT_FALSE(sysfs::ListDir(host_.IommuGroupsDir()).ok());
  EXPECT_FALSE(sysfs::Exists(host_.IommuGroupsDir() / "entry"));
  EXPECT_TRUE(sysfs::Exists(host_.IommuGroupsDir()));  // the link itself
}

TEST_P(ConfineTest, LinkLoopIsAnErrorNotAHang) {
  tree_.MakeDir("sys");
  tree_.Symlink("sys/a", "b");
  tree_.Symlink("sys/b", "/sys/a");
  auto r = sysfs::ReadText(host_.Sys("a"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("symbolic links"), std::string::npos)
      << r.status().message();
}

TEST_P(ConfineTest, ReadLinkSeesTheLinkThroughConfinedParents) {
  tree_.MakeDir("sys/devices/d");
  tree_.Symlink("sys/devices/d/iommu_group", "../../kernel/iommu_groups/7");
  tree_.Symlink("sys/dev", "/sys/devices/d");  // absolute, in-root
  auto t = sysfs::ReadLink(host_.Sys("dev/iommu_group"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->string(), "../../kernel/iommu_groups/7");
  tree_.Symlink("sys/away", Outside("dir"));
  EXPECT_FALSE(sysfs::ReadLink(host_.Sys("away/entry")).ok());
}

TEST_P(ConfineTest, ResolveInRootFollowsLinksInsideTheRoot) {
  tree_.MakeDir("elsewhere");
  tree_.Symlink("var", Outside("dir"));  // would put the state dir outside
  const auto resolved =
      hostfs::ResolveInRoot(host_, host_.Path("var/lib/pcipass"));
  const std::string root = std::filesystem::canonical(tree_.root()).string();
  EXPECT_EQ(resolved.string().rfind(root + "/", 0), 0u) << resolved;
  EXPECT_NE(resolved.string().find("/lib/pcipass"), std::string::npos);
  // Without links the caller's spelling is kept.
  EXPECT_EQ(hostfs::ResolveInRoot(host_, host_.Path("elsewhere/x")),
            host_.Path("elsewhere/x"));
}

INSTANTIATE_TEST_SUITE_P(OpenAt2AndWalk, ConfineTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "Walk" : "OpenAt2";
                         });

TEST(SysfsBoundsTest, AttributeReadsAreBoundedAndRegularOnly) {
  FixtureTree t;
  HostRoot host(t.root());
  t.WriteFile("sys/big", std::string(sysfs::kMaxAttributeBytes + 1, '1'));
  auto big = sysfs::ReadText(host.Sys("big"));
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("65536-byte limit"), std::string::npos);
  EXPECT_TRUE(sysfs::ReadText(host.Sys("big"), sysfs::kMaxHostTableBytes).ok());
  // A FIFO: read and write used to wait forever for the other end.
  ASSERT_EQ(::mkfifo(host.Sys("fifo").c_str(), 0600), 0);
  auto r = sysfs::ReadText(host.Sys("fifo"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a regular file (a FIFO)"),
            std::string::npos);
  EXPECT_FALSE(sysfs::WriteText(host.Sys("fifo"), "1").ok());
}

TEST(HostRootTest, SplitHostPathUsesTheLongestRoot) {
  FixtureTree t;
  HostRoot outer(t.root());
  HostRoot inner(t.root() / "inner");
  auto [root, rel] = hostfs::SplitHostPath(inner.Sys("x"));
  EXPECT_EQ(root, (t.root() / "inner").string());
  EXPECT_EQ(rel, "sys/x");
  auto [r2, rel2] = hostfs::SplitHostPath(t.root().string() + "x/sys");
  EXPECT_EQ(r2, "");  // a sibling whose name starts the same is not under
  HostRoot trailing(t.root().string() + "/");
  EXPECT_EQ(trailing.root(), t.root());
}

}  // namespace
}  // namespace pcipass
