#include "core/bounded_input.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

using testing::FixtureTree;

TEST(ReadUserFileTest, ReadsARegularFileWhole) {
  FixtureTree t;
  t.WriteFile("pcipass.conf", "[pci]\nx = 1\n");
  auto r = ReadUserFile(t.Abs("pcipass.conf"), kMaxConfigBytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "[pci]\nx = 1\n");
}

TEST(ReadUserFileTest, RefusesAFifoWithoutWaitingForAWriter) {
  FixtureTree t;
  ASSERT_EQ(::mkfifo(t.Abs("fifo").c_str(), 0600), 0);
  auto r = ReadUserFile(t.Abs("fifo"), kMaxConfigBytes);  // would hang before
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("a FIFO"), std::string::npos);
}

TEST(ReadUserFileTest, RefusesDevicesAndDirectories) {
  FixtureTree t;
  t.MakeDir("d");
  auto dir = ReadUserFile(t.Abs("d"), kMaxConfigBytes);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("a directory"), std::string::npos);
  // A character device that never ends: memory grew without bound before.
  t.Symlink("zero", "/dev/zero");
  auto zero = ReadUserFile(t.Abs("zero"), kMaxConfigBytes);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("a character device"),
            std::string::npos);
}

TEST(ReadUserFileTest, RefusesAFileAboveTheLimit) {
  FixtureTree t;
  t.WriteFile("big", std::string(kMaxConfigBytes + 1, '#'));
  auto r = ReadUserFile(t.Abs("big"), kMaxConfigBytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("1 MiB limit"), std::string::npos);
  t.WriteFile("exact", std::string(kMaxConfigBytes, '#'));
  EXPECT_TRUE(ReadUserFile(t.Abs("exact"), kMaxConfigBytes).ok());
}

TEST(ReadUserFileTest, MissingFileIsNotFound) {
  FixtureTree t;
  auto r = ReadUserFile(t.Abs("none"), kMaxConfigBytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(CheckJsonDepthTest, CountsArraysAndObjectsNotStrings) {
  EXPECT_TRUE(CheckJsonDepth(R"({"a": [1, {"b": [2]}]})", 4).ok());
  EXPECT_FALSE(CheckJsonDepth(R"({"a": [1, {"b": [2]}]})", 3).ok());
  // Brackets inside strings (and escaped quotes) do not count.
  EXPECT_TRUE(CheckJsonDepth(R"({"a": "[[[[\"[[[["})", 1).ok());
  EXPECT_TRUE(CheckJsonDepth("[][][][]", 1).ok());
}

TEST(CheckJsonDepthTest, RefusesDeepNestingBeforeAnyParserSeesIt) {
  const std::string deep(100000, '[');
  Status s = CheckJsonDepth(deep, kMaxSpecJsonDepth);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("deeper than 32 levels"), std::string::npos);
  std::string ok = std::string(32, '[') + std::string(32, ']');
  EXPECT_TRUE(CheckJsonDepth(ok, kMaxSpecJsonDepth).ok());
}

}  // namespace
}  // namespace pcipass
