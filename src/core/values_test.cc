#include "core/values.h"

#include <gtest/gtest.h>

#include <string>

namespace pcipass {
namespace {

TEST(InstanceIdTest, AcceptsUuidsAndNames) {
  EXPECT_TRUE(CheckInstanceId("6f2c1b1e-3c1a-4f55-9d0e-0b7b8a4e5c11").ok());
  EXPECT_TRUE(CheckInstanceId("vm-1").ok());
  EXPECT_TRUE(CheckInstanceId("instance_0001.prod:a").ok());
  EXPECT_TRUE(CheckInstanceId(std::string(kMaxInstanceIdLength, 'a')).ok());
}

TEST(InstanceIdTest, RefusesControlCharactersLengthAndLeadingPunctuation) {
  struct Case {
    std::string id;
    const char* words;
  } cases[] = {
      {"", "must not be empty"},
      {"vm\n1", "'\\n' at position 3"},
      {"vm\x1b[31mred", "'\\x1b' at position 3"},
      {"my vm", "' ' at position 3"},
      {"vm;rm", "';' at position 3"},
      {"vm/1", "'/' at position 3"},
      {"-vm", "starts with '-'"},
      {".hidden", "starts with '.'"},
      {std::string(5000, 'a'), "too long"},
      {std::string(kMaxInstanceIdLength + 1, 'a'), "too long"},
  };
  for (const Case& c : cases) {
    Status s = CheckInstanceId(c.id);
    ASSERT_FALSE(s.ok()) << ShowValue(c.id);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.words), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("A-Z a-z 0-9 . _ : -"), std::string::npos);
    // Never echoes a raw control character or a huge value.
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\x1b'), std::string::npos) << s.message();
    EXPECT_LT(s.message().size(), 400u) << s.message();
  }
}

TEST(ShowValueTest, EscapesAndCuts) {
  EXPECT_EQ(ShowValue("abc"), "abc");
  EXPECT_EQ(ShowValue("a\nb\x1b"), "a\\nb\\x1b");
  EXPECT_EQ(ShowValue(std::string(300, '9')),
            std::string(20, '9') + "...(300 characters)");
  EXPECT_EQ(ShowValue("12345", 3), "123...(5 characters)");
}

// ShowText keeps what a config author typed (backslashes, UTF-8) and
// escapes only bytes a terminal would act on.
TEST(ShowTextTest, EscapesOnlyControlBytes) {
  EXPECT_EQ(ShowText(R"({"address": "0000:0[0-9]:\\d"})"),
            R"({"address": "0000:0[0-9]:\\d"})");
  EXPECT_EQ(ShowText("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(ShowText("\x1b[31mred\x07\x7f\t"), "\\x1b[31mred\\x07\\x7f\\t");
  EXPECT_EQ(ShowText(std::string(250, 'x'), 200),
            std::string(200, 'x') + "...(250 characters)");
}

TEST(ClipLongNumbersTest, CutsOnlyLongDigitRuns) {
  EXPECT_EQ(ClipLongNumbers("value 42 in 0..65535"), "value 42 in 0..65535");
  EXPECT_EQ(ClipLongNumbers("got " + std::string(300, '7') + " here"),
            "got " + std::string(20, '7') + "... here");
  EXPECT_EQ(ClipLongNumbers("0000:03:00.0"), "0000:03:00.0");
}

}  // namespace
}  // namespace pcipass
