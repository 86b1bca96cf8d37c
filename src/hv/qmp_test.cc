#include "hv/qmp.h"

#include <gtest/gtest.h>

namespace pcipass::hv::qmp {
namespace {

TEST(QmpEncodeTest, Command) {
  EXPECT_EQ(EncodeCommand("qmp_capabilities", nullptr, ""),
            "{\"execute\":\"qmp_capabilities\"}\n");
  EXPECT_EQ(EncodeCommand("device_del", {{"id", "hostdev0"}}, "pcipass-2"),
            "{\"arguments\":{\"id\":\"hostdev0\"},\"execute\":\"device_del\","
            "\"id\":\"pcipass-2\"}\n");
  // A value with a newline stays on one line.
  std::string line = EncodeCommand("x", {{"id", "a\nb"}}, "1");
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
}

TEST(QmpEncodeTest, DeviceAddArgs) {
  HostdevAssignment d;
  d.host = *PciAddress::Parse("0000:06:00.0");
  d.id = "hostdev0";
  Result<nlohmann::json> a = DeviceAddArgs(d);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->dump(),
            "{\"driver\":\"vfio-pci\",\"host\":\"0000:06:00.0\","
            "\"id\":\"hostdev0\"}");
  d.guest = *PciAddress::Parse("0000:00:05.0");
  a = DeviceAddArgs(d);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["bus"], "pcie.0");
  EXPECT_EQ((*a)["addr"], "0x05.0");
  a = DeviceAddArgs(d, {}, "rp1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["bus"], "rp1");
  d.id = "bad id";
  a = DeviceAddArgs(d);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("0000:06:00.0"), std::string::npos);
}

TEST(QmpDecodeTest, Shapes) {
  Result<Message> g = Decode(
      R"({"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}})");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->kind, Message::Kind::kGreeting);
  EXPECT_EQ(g->body["version"]["qemu"]["major"], 7);

  Result<Message> r = Decode(R"({"return": {}, "id": "pcipass-1"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, Message::Kind::kReturn);
  EXPECT_EQ(r->id, "pcipass-1");

  Result<Message> e = Decode(
      R"({"error": {"class": "DeviceNotFound", "desc": "Device 'x' not found"}, "id": "pcipass-3"})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->kind, Message::Kind::kError);
  EXPECT_EQ(e->error_class, "DeviceNotFound");
  EXPECT_EQ(e->id, "pcipass-3");
  Status s = ErrorStatus("device_del", *e);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "QMP device_del: DeviceNotFound: Device 'x' not found");
  e = Decode(R"({"error": {"class": "GenericError", "desc": "no"}})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(ErrorStatus("device_add", *e).code(),
            StatusCode::kFailedPrecondition);

  Result<Message> ev = Decode(
      R"({"timestamp": {"seconds": 1}, "event": "DEVICE_DELETED", "data": {"device": "hostdev0"}})");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->kind, Message::Kind::kEvent);
  EXPECT_EQ(ev->event, "DEVICE_DELETED");
  EXPECT_EQ(ev->body["device"], "hostdev0");
}

TEST(QmpDecodeTest, Rejects) {
  const char* cases[] = {"", "not json", "[1,2]", "{\"foo\": 1}",
                         "{\"error\": \"x\"}", "{\"event\": 5}",
                         "{\"return\": {}",
                         // Found by the qmp_reply fuzzer: json::value()
                         // threw type_error on a non-string class/desc.
                         "{\"error\": {\"class\": 1}}",
                         "{\"error\": {\"class\": \"E\", \"desc\": []}}"};
  for (const char* c : cases) {
    Result<Message> m = Decode(c);
    ASSERT_FALSE(m.ok()) << c;
    EXPECT_EQ(m.status().code(), StatusCode::kDataLoss) << c;
    EXPECT_NE(m.status().message().find("QMP"), std::string::npos) << c;
  }
}

}  // namespace
// A hostile or broken peer: nesting deep enough to overflow the stack in a
// recursive JSON value (a segfault before the depth check).
TEST(QmpDecodeTest, RefusesDeepNesting) {
  std::string greeting = "{\"QMP\": " + std::string(100000, '[') + "}";
  Result<Message> m = Decode(greeting);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("deeper than 64 levels"),
            std::string::npos)
      << m.status().message();
  std::string ok =
      "{\"return\": " + std::string(60, '[') + std::string(60, ']') + "}";
  EXPECT_TRUE(Decode(ok).ok());
}

}  // namespace pcipass::hv::qmp
