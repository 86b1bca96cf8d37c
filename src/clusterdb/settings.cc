#include "clusterdb/settings.h"

#include <charconv>

namespace pcipass::clusterdb {

namespace {

std::optional<int> ParseSeconds(const std::string& v, int min, int max) {
  int out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < min || out > max) {
    return std::nullopt;
  }
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

Status ParseListen(const std::string& text, std::string* host, int* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("listen address '" + text +
                                   "' is not HOST:PORT (e.g. 127.0.0.1:8470)");
  }
  std::optional<int> p = ParseSeconds(text.substr(colon + 1), 0, 65535);
  if (!p) {
    return Status::InvalidArgument("listen address '" + text +
                                   "': port must be 0..65535");
  }
  *host = text.substr(0, colon);
  *port = *p;
  return Status::Ok();
}

Result<ClusterSettings> ReadClusterSettings(const IniFile& ini) {
  ClusterSettings s;
  for (const IniEntry& e : ini.entries()) {
    if (e.section != "cluster") continue;
    const std::string where = ini.Where(e.line) + ": [cluster] ";
    auto seconds = [&](int min, int max, int* out) -> Status {
      std::optional<int> v = ParseSeconds(e.value, min, max);
      if (!v) {
        return Status::InvalidArgument(where + e.key + " = '" + e.value +
                                       "' is not a whole number of " +
                                       "seconds from " + std::to_string(min) +
                                       " to " + std::to_string(max));
      }
      *out = *v;
      return Status::Ok();
    };
    if (e.key == "db") {
      s.db = e.value;
    } else if (e.key == "host") {
      s.host = Trim(e.value);
    } else if (e.key == "aggregate") {
      s.aggregate = Trim(e.value);
    } else if (e.key == "traits") {
      s.traits.clear();
      std::string item;
      for (char c : e.value + ",") {
        if (c != ',') {
          item += c;
          continue;
        }
        item = Trim(item);
        if (!item.empty()) s.traits.push_back(item);
        item.clear();
      }
    } else if (e.key == "heartbeat_interval") {
      PCIPASS_RETURN_IF_ERROR(seconds(1, 3600, &s.heartbeat_interval_s));
    } else if (e.key == "dead_after") {
      PCIPASS_RETURN_IF_ERROR(seconds(2, 86400, &s.dead_after_s));
    } else if (e.key == "reservation_ttl") {
      PCIPASS_RETURN_IF_ERROR(seconds(1, 86400, &s.reservation_ttl_s));
    } else if (e.key == "listen") {
      Status l = ParseListen(Trim(e.value), &s.listen_host, &s.listen_port);
      if (!l.ok()) return Status::InvalidArgument(where + l.message());
    } else {
      return Status::InvalidArgument(
          where + "unknown key '" + e.key +
          "'; accepted: db, host, aggregate, traits, heartbeat_interval, "
          "dead_after, reservation_ttl, listen");
    }
  }
  if (s.dead_after_s <= s.heartbeat_interval_s) {
    return Status::InvalidArgument(
        ini.source() + ": [cluster] dead_after (" +
        std::to_string(s.dead_after_s) +
        " s) must be longer than heartbeat_interval (" +
        std::to_string(s.heartbeat_interval_s) +
        " s), or live hosts are reported dead");
  }
  return s;
}

}  // namespace pcipass::clusterdb
