#include "select/ini.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "testing/fixture_tree.h"

namespace pcipass {
namespace {

using ::testing::HasSubstr;

TEST(IniTest, MultiValuedKeysContinuationsAndComments) {
  auto ini = IniFile::Parse(
      "# comment\n"
      "[DEFAULT]\n"
      "debug = true\n"
      "\n"
      "[pci]\n"
      "; another comment\n"
      "device_spec = {\"vendor_id\": \"8086\",\n"
      "   \"product_id\": \"1520\"}\n"
      "alias: {\"name\": \"a\"}\n"
      "device_spec = \"quoted\"\n"
      "[host]\n"
      "vfio = 0000:01:00.0\n"
      "[pci]\n"
      "alias = second\r\n",
      "n.conf");
  ASSERT_TRUE(ini.ok()) << ini.status().ToString();
  auto specs = ini->GetAll("pci", "device_spec");
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].value,
            "{\"vendor_id\": \"8086\",\n\"product_id\": \"1520\"}");
  EXPECT_EQ(specs[0].line, 7);
  EXPECT_EQ(specs[1].value, "quoted");
  auto aliases = ini->GetAll("pci", "alias");
  ASSERT_EQ(aliases.size(), 2u);
  EXPECT_EQ(aliases[1].value, "second");
  EXPECT_EQ(aliases[1].line, 14);
  EXPECT_EQ(ini->Get("DEFAULT", "debug"), "true");
  EXPECT_EQ(ini->Get("pci", "alias"), "second");  // last wins
  EXPECT_EQ(ini->Get("pci", "nope"), std::nullopt);
  EXPECT_EQ(ini->Sections(),
            (std::vector<std::string>{"DEFAULT", "pci", "host"}));
  EXPECT_EQ(ini->Keys("pci"),
            (std::vector<std::string>{"device_spec", "alias"}));
  EXPECT_EQ(ini->Where(7), "n.conf:7");
}

TEST(IniTest, Errors) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"key = v\n", "n.conf:1: entry 'key' comes before any section header"},
      {"[pci\n", "n.conf:1: malformed section header '[pci'"},
      {"[ ]\n", "n.conf:1: empty section name"},
      {"[pci]\njust words\n", "n.conf:2: expected 'key = value'"},
      {"[pci]\n= v\n", "n.conf:2: entry has no key"},
      {"[pci]\n\n  dangling\n", "n.conf:3: indented line continues no entry"},
  };
  for (const Case& c : cases) {
    auto ini = IniFile::Parse(c.text, "n.conf");
    ASSERT_FALSE(ini.ok()) << c.text;
    EXPECT_EQ(ini.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(ini.status().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(IniTest, LoadMissingFileNamesThePath) {
  testing::FixtureTree tree;
  auto ini = IniFile::Load(tree.Abs("etc/none.conf"));
  ASSERT_FALSE(ini.ok());
  EXPECT_EQ(ini.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(ini.status().message(), HasSubstr("none.conf"));
  tree.WriteFile("etc/p.conf", "[pci]\nalias = x\n");
  auto ok = IniFile::Load(tree.Abs("etc/p.conf"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->Get("pci", "alias"), "x");
  EXPECT_THAT(ok->source(), HasSubstr("p.conf"));
}

// Issue 8: a config of /dev/zero grew memory without end, a FIFO hung.
TEST(IniTest, LoadRefusesNonRegularAndOversizedFiles) {
  testing::FixtureTree tree;
  ASSERT_EQ(::mkfifo(tree.Abs("fifo.conf").c_str(), 0600), 0);
  auto fifo = IniFile::Load(tree.Abs("fifo.conf"));
  ASSERT_FALSE(fifo.ok());
  EXPECT_THAT(fifo.status().message(), HasSubstr("fifo.conf"));
  EXPECT_THAT(fifo.status().message(),
              HasSubstr("not a regular file (a FIFO)"));
  auto zero = IniFile::Load("/dev/zero");
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("a character device"));
  tree.WriteFile("big.conf", std::string(size_t{2} * 1024 * 1024, '#'));
  auto big = IniFile::Load(tree.Abs("big.conf"));
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.status().message(), HasSubstr("big.conf"));
  EXPECT_THAT(big.status().message(), HasSubstr("1 MiB limit"));
}

}  // namespace
}  // namespace pcipass
