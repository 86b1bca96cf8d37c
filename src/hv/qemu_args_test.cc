#include "hv/qemu_args.h"

#include <gtest/gtest.h>

#include <vector>

namespace pcipass::hv {
namespace {

PciAddress Addr(const char* text) { return *PciAddress::Parse(text); }

HostdevAssignment Dev(const char* host, const char* id,
                      DeviceType type = DeviceType::kPci) {
  HostdevAssignment d;
  d.host = Addr(host);
  d.id = id;
  d.dev_type = type;
  return d;
}

TEST(QemuOptValueTest, DoublesCommas) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {{"", ""}, {"abc", "abc"}, {"a,b", "a,,b"}, {",,", ",,,,"}};
  for (const Case& c : cases) EXPECT_EQ(QemuOptValue(c.in), c.want) << c.in;
}

TEST(QemuDeviceArgsTest, PlainAndPinned) {
  std::vector<HostdevAssignment> v = {Dev("0000:81:00.1", "hostdev0"),
                                      Dev("0000:06:00.0", "hostdev1"),
                                      Dev("0000:07:00.0", "hostdev2")};
  v[1].guest = Addr("0000:00:1e.0");
  v[2].guest = Addr("0000:03:00.0");
  Result<QemuArgs> args = QemuDeviceArgs(v);
  ASSERT_TRUE(args.ok()) << args.status().message();
  EXPECT_EQ(
      args->argv,
      (std::vector<std::string>{
          "-device", "vfio-pci,host=0000:81:00.1,id=hostdev0", "-device",
          "vfio-pci,host=0000:06:00.0,id=hostdev1,bus=pcie.0,addr=0x1e.0",
          "-device",
          "vfio-pci,host=0000:07:00.0,id=hostdev2,bus=pci.3,addr=0x00.0"}));
  EXPECT_TRUE(args->notes.empty());

  Result<QemuArgs> pc = QemuDeviceArgs(v, {.machine = "pc"});
  ASSERT_TRUE(pc.ok());
  EXPECT_NE(pc->argv[3].find("bus=pci.0,"), std::string::npos) << pc->argv[3];
}

TEST(QemuDeviceArgsTest, InterfaceMacVlanBecomesNote) {
  HostdevAssignment d = Dev("0000:0a:00.1", "net0", DeviceType::kVf);
  d.as_interface = true;
  d.mac = "52:54:00:12:34:56";
  d.vlan = 100;
  Result<QemuArgs> args = QemuDeviceArgs({&d, 1});
  ASSERT_TRUE(args.ok()) << args.status().message();
  EXPECT_EQ(args->argv[1], "vfio-pci,host=0000:0a:00.1,id=net0");
  ASSERT_EQ(args->notes.size(), 1u);
  EXPECT_NE(args->notes[0].find("mac 52:54:00:12:34:56 vlan 100"),
            std::string::npos)
      << args->notes[0];
}

TEST(QemuDeviceArgsTest, Refuses) {
  HostdevAssignment d = Dev("0000:81:00.1", "hostdev0");
  Result<QemuArgs> machine = QemuDeviceArgs({&d, 1}, {.machine = "virt"});
  ASSERT_FALSE(machine.ok());
  EXPECT_NE(machine.status().message().find("use q35 or pc"),
            std::string::npos);
  std::vector<HostdevAssignment> dup = {d, Dev("0000:81:00.2", "hostdev0")};
  Result<QemuArgs> args = QemuDeviceArgs(dup);
  ASSERT_FALSE(args.ok());
  EXPECT_NE(args.status().message().find("used twice"), std::string::npos);
}

TEST(ShellQuoteTest, Words) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"", "''"},
      {"-device", "-device"},
      {"vfio-pci,host=0000:81:00.1,id=h0", "vfio-pci,host=0000:81:00.1,id=h0"},
      {"a b", "'a b'"},
      {"it's", "'it'\\''s'"},
      {"$HOME", "'$HOME'"},
      {"a;rm", "'a;rm'"},
  };
  for (const Case& c : cases) EXPECT_EQ(ShellQuote(c.in), c.want) << c.in;
}

// The one-liner, run through a real shell, gives back the exact words.
TEST(ShellJoinTest, RoundTripsThroughSh) {
  std::vector<std::string> words = {"-device", "a b", "it's", "$x", "", "ok"};
  std::string line = ShellJoin(words);
  std::string cmd =
      "sh -c 'for w in \"$@\"; do printf \"[%s]\" \"$w\"; "
      "done' sh " +
      line;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string got;
  char buf[256];
  while (size_t n = fread(buf, 1, sizeof buf, p)) got.append(buf, n);
  ASSERT_EQ(pclose(p), 0);
  EXPECT_EQ(got, "[-device][a b][it's][$x][][ok]") << line;
}

}  // namespace
}  // namespace pcipass::hv
