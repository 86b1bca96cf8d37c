#include "core/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace pcipass {
namespace {

TEST(StatusTest, FromErrnoNamesErrnoAndMapsCode) {
  Status s = Status::FromErrno(EBUSY, "write /x/unbind");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.sys_errno(), EBUSY);
  EXPECT_NE(s.message().find("write /x/unbind: "), std::string::npos);
  EXPECT_NE(s.message().find("(EBUSY)"), std::string::npos);
  EXPECT_EQ(Status::FromErrno(ENOENT, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(Status::FromErrno(EACCES, "x").code(),
            StatusCode::kPermissionDenied);
}

TEST(StatusTest, WithContextChainsAndKeepsCode) {
  Status s = Status::NotFound("no device").WithContext("detach 0000:01:00.0");
  EXPECT_EQ(s.message(), "detach 0000:01:00.0: no device");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> good = 5;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  Result<int> bad = Status::Conflict("taken");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kConflict);
  EXPECT_EQ(bad.value_or(7), 7);
  // An OK status is a bug, never a silent success.
  Result<int> odd = Status::Ok();
  EXPECT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace pcipass
