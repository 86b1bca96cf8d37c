#include "core/address.h"

#include <gtest/gtest.h>

namespace pcipass {
namespace {

TEST(PciAddressTest, ParsesCanonicalAndVmdDomains) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"0000:0a:00.5", "0000:0a:00.5"},
      {"0000:0A:1F.7", "0000:0a:1f.7"},
      {"10000:02:05.0", "10000:02:05.0"},
      {"0:a:0.5", "0000:0a:00.5"},
  };
  for (const auto& c : cases) {
    auto a = PciAddress::Parse(c.in);
    ASSERT_TRUE(a.ok()) << c.in << ": " << a.status().ToString();
    EXPECT_EQ(a->ToString(), c.out) << c.in;
  }
}

TEST(PciAddressTest, RejectsMalformedWithClearMessage) {
  const char* bad[] = {"",
                       "0a:00.5",
                       "0000:0a:00",
                       "0000:0a:20.0",
                       "0000:0a:00.8",
                       "0000:100:00.0",
                       "zzzz:0a:00.0",
                       "0000:0a:00.5x",
                       "0000:0a:00.5.1"};
  for (const char* in : bad) {
    auto a = PciAddress::Parse(in);
    ASSERT_FALSE(a.ok()) << in;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << in;
    EXPECT_NE(a.status().message().find("expected DOMAIN:BUS:SLOT.FUNCTION"),
              std::string::npos)
        << in;
  }
}

TEST(PciAddressTest, OrdersByDomainBusSlotFunction) {
  auto a = *PciAddress::Parse("0000:01:00.1");
  auto b = *PciAddress::Parse("0000:01:01.0");
  auto c = *PciAddress::Parse("10000:00:00.0");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

}  // namespace
}  // namespace pcipass
