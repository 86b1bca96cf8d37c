#include "core/host_use.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <sstream>

#include "core/sysfs.h"

namespace pcipass {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> SplitWs(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::vector<std::string> Lines(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

bool LooksLikePciAddress(const std::string& s) {
  // dddd:bb:ss.f with a domain of 4+ hex digits.
  if (s.size() < 12 || s[s.size() - 2] != '.' || s[s.size() - 5] != ':' ||
      s[s.size() - 8] != ':') {
    return false;
  }
  return PciAddress::Parse(s).ok();
}

std::string Basename(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// 32 hex chars -> in6_addr.
bool HexToV6(const std::string& hex, in6_addr* out) {
  if (hex.size() != 32) return false;
  for (size_t i = 0; i < 16; ++i) {
    auto v = std::stoul(hex.substr(i * 2, 2), nullptr, 16);
    out->s6_addr[i] = static_cast<uint8_t>(v);
  }
  return true;
}

bool IsHexString(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c));
  });
}

void ReadRoutes(const HostRoot& host, HostUseTables& t) {
  auto v4 = Lines(
      sysfs::ReadOptional(host.Proc("net/route"), sysfs::kMaxHostTableBytes));
  for (size_t i = 1; i < v4.size(); ++i) {
    auto f = SplitWs(v4[i]);
    if (f.size() < 4 || !IsHexString(f[3])) continue;
    if ((std::stoul(f[3], nullptr, 16) & 0x1) == 0) continue;  // RTF_UP
    t.route_ifaces.insert(f[0]);
  }
  for (const std::string& line : Lines(sysfs::ReadOptional(
           host.Proc("net/ipv6_route"), sysfs::kMaxHostTableBytes))) {
    auto f = SplitWs(line);
    if (f.size() < 10 || f[0].size() != 32 || !IsHexString(f[0])) continue;
    const std::string& iface = f[9];
    if (iface == "lo") continue;
    unsigned b0 = std::stoul(f[0].substr(0, 2), nullptr, 16);
    unsigned b1 = std::stoul(f[0].substr(2, 2), nullptr, 16);
    if (b0 == 0xff) continue;                         // multicast
    if (b0 == 0xfe && (b1 & 0xc0) == 0x80) continue;  // fe80::/10
    t.route_ifaces.insert(iface);
  }
}

void ReadAddresses(const HostRoot& host, HostUseTables& t) {
  for (const std::string& line : Lines(sysfs::ReadOptional(
           host.Proc("net/if_inet6"), sysfs::kMaxHostTableBytes))) {
    auto f = SplitWs(line);
    if (f.size() < 6 || !IsHexString(f[2]) || !IsHexString(f[3])) continue;
    unsigned scope = std::stoul(f[3], nullptr, 16);
    if (scope == 0x20 || scope == 0x10) continue;  // link-local, host
    in6_addr a{};
    if (!IsHexString(f[0]) || !HexToV6(f[0], &a)) continue;
    char buf[INET6_ADDRSTRLEN];
    if (!::inet_ntop(AF_INET6, &a, buf, sizeof(buf))) continue;
    t.addresses[f[5]].push_back(std::string(buf) + "/" +
                                std::to_string(std::stoul(f[2], nullptr, 16)));
  }
  if (!host.is_real_root()) return;
  // IPv4 addresses are only in netlink; getifaddrs reads them for us.
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (!::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf))) continue;
    int prefix = 32;
    if (i->ifa_netmask) {
      auto* m = reinterpret_cast<sockaddr_in*>(i->ifa_netmask);
      prefix = __builtin_popcount(m->sin_addr.s_addr);
    }
    t.addresses[i->ifa_name].push_back(std::string(buf) + "/" +
                                       std::to_string(prefix));
  }
  ::freeifaddrs(list);
}

void ReadMountsAndSwaps(const HostRoot& host, HostUseTables& t) {
  for (const std::string& line : Lines(sysfs::ReadOptional(
           host.Proc("self/mountinfo"), sysfs::kMaxHostTableBytes))) {
    auto f = SplitWs(line);
    if (f.size() < 5) continue;
    t.mounts.emplace(f[2], f[4]);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (dash != f.end() && dash + 2 < f.end()) {
      const std::string& source = *(dash + 2);
      if (source.rfind("/dev/", 0) == 0)
        t.mounts.emplace(Basename(source), f[4]);
    }
  }
  auto swaps =
      Lines(sysfs::ReadOptional(host.Proc("swaps"), sysfs::kMaxHostTableBytes));
  for (size_t i = 1; i < swaps.size(); ++i) {
    auto f = SplitWs(swaps[i]);
    if (f.empty() || f[0].rfind("/dev/", 0) != 0) continue;
    t.swaps.insert(Basename(f[0]));
  }
}

// Mounted or swap use of one block device, or "".
std::string UseOf(const HostUseTables& t, const BlockDevice& b) {
  for (const std::string& key : {b.dev, b.name, b.dm_name}) {
    if (key.empty()) continue;
    if (auto it = t.mounts.find(key); it != t.mounts.end()) {
      return "mounted on " + it->second;
    }
    if (t.swaps.count(key)) return "used as swap";
  }
  return "";
}

// Reasons for |name| and, recursively, its holders (depth-limited).
void StorageReasons(const HostUseTables& t, const std::string& name,
                    const std::string& via, int depth,
                    std::vector<std::string>& out) {
  auto it = t.blocks.find(name);
  if (it == t.blocks.end() || depth > 8) return;
  std::string use = UseOf(t, it->second);
  if (!use.empty()) {
    out.push_back(via.empty()
                      ? name + " is " + use
                      : via + " is held by " + name + ", which is " + use);
  }
  for (const std::string& h : it->second.holders) {
    StorageReasons(t, h, via.empty() ? name : via, depth + 1, out);
  }
}

// Why |ifname| (up, with address or route) matters, or "".
std::string NetReason(const HostUseTables& t, const std::string& ifname) {
  if (auto it = t.addresses.find(ifname);
      it != t.addresses.end() && !it->second.empty()) {
    std::string r = "is up with address " + it->second.front();
    if (it->second.size() > 1) {
      r += " (+" + std::to_string(it->second.size() - 1) + " more)";
    }
    return r;
  }
  if (t.route_ifaces.count(ifname)) return "is up and carries routes";
  return "";
}

bool IfaceUp(const std::optional<std::string>& operstate,
             const std::optional<std::string>& flags) {
  if (operstate && *operstate == "up") return true;
  if (flags) {
    auto v = sysfs::ParseHex(*flags);
    if (v && (*v & IFF_UP)) return true;
  }
  return false;
}

}  // namespace

std::map<std::string, BlockDevice> ScanBlockDevices(const HostRoot& host) {
  std::map<std::string, BlockDevice> out;
  auto names = sysfs::ListDir(host.ClassDir("block"));
  if (!names.ok()) return out;
  std::map<std::string, std::string> parent_of;
  for (const std::string& name : *names) {
    fs::path link = host.ClassDir("block") / name;
    auto target = sysfs::ReadLink(link);
    if (!target.ok()) continue;
    BlockDevice b;
    b.name = name;
    std::vector<std::string> parts;
    for (const auto& c : *target) parts.push_back(c.string());
    for (const std::string& c : parts) {
      if (LooksLikePciAddress(c)) b.pci = *PciAddress::Parse(c);
    }
    if (parts.size() >= 2) parent_of[name] = parts[parts.size() - 2];
    b.dev = sysfs::ReadOptional(link / "dev").value_or("");
    if (auto h = sysfs::ListDir(link / "holders"); h.ok()) b.holders = *h;
    if (name.rfind("dm-", 0) == 0) {
      b.dm_name = sysfs::ReadOptional(link / "dm" / "name").value_or("");
    }
    out.emplace(name, std::move(b));
  }
  for (auto& [name, b] : out) {
    auto p = parent_of.find(name);
    b.partition = p != parent_of.end() && out.count(p->second) > 0;
  }
  return out;
}

HostUseTables LoadHostUseTables(const HostRoot& host,
                                std::map<std::string, BlockDevice> blocks) {
  HostUseTables t;
  t.blocks = std::move(blocks);
  ReadRoutes(host, t);
  ReadAddresses(host, t);
  ReadMountsAndSwaps(host, t);
  return t;
}

std::vector<std::string> BlockDevicesOf(const HostUseTables& tables,
                                        const PciAddress& addr) {
  std::vector<std::string> out;
  for (const auto& [name, b] : tables.blocks) {
    if (b.pci == addr && !b.partition) out.push_back(name);
  }
  return out;
}

void ApplyHostUse(const HostRoot& host, const HostUseTables& t,
                  PciDevice& dev) {
  // Network.
  for (NetdevInfo& n : dev.netdevs) {
    if (auto it = t.addresses.find(n.name); it != t.addresses.end()) {
      n.addresses = it->second;
    }
    n.has_route = t.route_ifaces.count(n.name) > 0;
    bool up = n.admin_up || (n.operstate && *n.operstate == "up");
    std::string why = up ? NetReason(t, n.name) : "";
    if (!why.empty()) {
      dev.host_use.push_back({"netdev", n.name + " " + why});
      continue;
    }
    if (n.master) {
      fs::path m = host.ClassDir("net") / *n.master;
      bool mup = IfaceUp(sysfs::ReadOptional(m / "operstate"),
                         sysfs::ReadOptional(m / "flags"));
      std::string mwhy = mup ? NetReason(t, *n.master) : "";
      if (!mwhy.empty()) {
        dev.host_use.push_back({"netdev", n.name + " is enslaved to " +
                                              *n.master + ", which " + mwhy});
      }
    }
  }
  // Storage: every block device below the function, with partitions,
  // multipath heads and holders.
  std::vector<std::string> reasons;
  for (const auto& [name, b] : t.blocks) {
    if (b.pci != dev.address) continue;
    StorageReasons(t, name, "", 0, reasons);
    // nvme<S>c<C>n<N> (hidden multipath path) -> head nvme<S>n<N>.
    auto c = name.find('c', 4);
    if (name.rfind("nvme", 0) == 0 && c != std::string::npos) {
      auto n = name.find('n', c);
      if (n != std::string::npos) {
        std::string head = name.substr(0, c) + name.substr(n);
        StorageReasons(t, head, "", 0, reasons);
        for (const auto& [pname, pb] : t.blocks) {
          if (pname.rfind(head + "p", 0) == 0 && pb.partition) {
            StorageReasons(t, pname, "", 0, reasons);
          }
        }
      }
    }
  }
  std::sort(reasons.begin(), reasons.end());
  reasons.erase(std::unique(reasons.begin(), reasons.end()), reasons.end());
  for (std::string& r : reasons) dev.host_use.push_back({"storage", r});
  // Console.
  if (dev.boot_vga && *dev.boot_vga) {
    dev.host_use.push_back(
        {"console", "boot VGA device (the firmware's primary display)"});
  }
  // Bridges.
  if (dev.class_code && ((*dev.class_code >> 16) & 0xff) == 0x06) {
    char buf[64];
    std::snprintf(buf, sizeof(buf),
                  "PCI bridge (class %04x) stays with the host",
                  (*dev.class_code >> 8) & 0xffff);
    dev.host_use.push_back({"bridge", buf});
  }
}

}  // namespace pcipass
