#include "claims/numa.h"

#include <algorithm>
#include <set>

#include "core/sysfs.h"

namespace pcipass::claims {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<int> Number(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

Result<std::vector<int>> ParseCpuList(std::string_view text) {
  std::vector<int> out;
  text = Trim(text);
  if (text.empty()) return out;
  for (std::string_view item : Split(text, ',')) {
    item = Trim(item);
    size_t dash = item.find('-');
    std::optional<int> lo = Number(item.substr(0, dash));
    std::optional<int> hi =
        dash == std::string_view::npos ? lo : Number(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) {
      return Status::InvalidArgument("CPU list item '" + std::string(item) +
                                     "' is not N or N-M with N <= M");
    }
    for (int c = *lo; c <= *hi; ++c) out.push_back(c);
  }
  return out;
}

Result<std::vector<int>> ParseNumaCells(std::string_view text) {
  std::vector<int> out;
  std::set<int> seen;
  if (Trim(text).empty()) {
    return Status::InvalidArgument(
        "--numa-cells is empty; expected host NUMA cell ids such as 0,1");
  }
  for (std::string_view item : Split(text, ',')) {
    std::optional<int> v = Number(Trim(item));
    if (!v) {
      return Status::InvalidArgument(
          "--numa-cells item '" + std::string(item) +
          "' is not a NUMA cell id; expected non-negative integers such as "
          "0,1");
    }
    if (!seen.insert(*v).second) {
      return Status::InvalidArgument("--numa-cells lists cell " +
                                     std::to_string(*v) + " twice");
    }
    out.push_back(*v);
  }
  return out;
}

NumaTopology ReadNumaTopology(const HostRoot& host) {
  NumaTopology topo;
  auto nodes = sysfs::ListDir(host.Sys("devices/system/node"));
  if (!nodes.ok()) return topo;
  for (const std::string& name : *nodes) {
    if (name.rfind("node", 0) != 0) continue;
    const std::string_view view = name;
    std::optional<int> id = Number(view.substr(4));
    if (!id) continue;
    std::optional<int> socket;
    auto cpulist = sysfs::ReadOptional(
        host.Sys("devices/system/node/" + name + "/cpulist"));
    if (cpulist) {
      auto cpus = ParseCpuList(*cpulist);
      if (cpus.ok() && !cpus->empty()) {
        auto pkg = sysfs::ReadOptional(
            host.Sys("devices/system/cpu/cpu" + std::to_string(cpus->front()) +
                     "/topology/physical_package_id"));
        if (pkg) {
          if (auto v = sysfs::ParseInt(Trim(*pkg)); v && *v >= 0) {
            socket = static_cast<int>(*v);
          }
        }
      }
    }
    topo.cell_socket[*id] = socket;
  }
  return topo;
}

NumaSelection SelectByNuma(const std::vector<std::optional<int>>& nodes,
                           int count, NumaPolicy policy,
                           const std::vector<int>& cells,
                           const NumaTopology& topology) {
  const size_t n = nodes.size();
  NumaSelection sel{std::vector<bool>(n, true),
                    std::vector<NumaRank>(n, NumaRank::kRemote), ""};
  std::set<int> cell_set(cells.begin(), cells.end());
  auto local = [&](size_t i) {
    return nodes[i] && cell_set.count(*nodes[i]) > 0;
  };
  for (size_t i = 0; i < n; ++i) {
    sel.rank[i] = local(i)    ? NumaRank::kLocal
                  : !nodes[i] ? NumaRank::kNoNuma
                              : NumaRank::kRemote;
  }
  if (cells.empty()) {
    sel.note = "guest has no NUMA cells: no NUMA filtering";
    return sel;
  }
  auto keep_if = [&](auto pred) {
    for (size_t i = 0; i < n; ++i) sel.keep[i] = pred(i);
  };
  int n_local = 0, n_null = 0;
  for (size_t i = 0; i < n; ++i) {
    n_local += local(i);
    n_null += !nodes[i];
  }
  if (policy == NumaPolicy::kRequired || n_local >= count) {
    keep_if(local);
    sel.note = policy == NumaPolicy::kRequired
                   ? "required: only devices on cells"
                   : "enough devices on the guest's cells";
    return sel;
  }
  if (policy == NumaPolicy::kSocket) {
    std::set<int> sockets;
    for (const auto& [cell, socket] : topology.cell_socket) {
      if (!socket) {
        keep_if([](size_t) { return false; });
        sel.note = "socket: no socket information for host cell " +
                   std::to_string(cell);
        return sel;
      }
      if (cell_set.count(cell)) sockets.insert(*socket);
    }
    std::set<int> allowed;
    for (const auto& [cell, socket] : topology.cell_socket) {
      if (sockets.count(*socket)) allowed.insert(cell);
    }
    keep_if([&](size_t i) { return nodes[i] && allowed.count(*nodes[i]); });
    for (size_t i = 0; i < n; ++i) {
      if (sel.keep[i] && !local(i)) sel.rank[i] = NumaRank::kSameSocket;
    }
    sel.note = "socket: devices on the sockets of the guest's cells";
    return sel;
  }
  if (policy == NumaPolicy::kLegacy || n_local + n_null >= count) {
    keep_if([&](size_t i) { return local(i) || !nodes[i]; });
    sel.note = "devices on the guest's cells, then devices without NUMA";
    return sel;
  }
  sel.note = "preferred: local first, then without NUMA, then remote";
  return sel;  // preferred: everything, ranked
}

}  // namespace pcipass::claims
