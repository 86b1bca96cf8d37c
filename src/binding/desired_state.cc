#include "binding/desired_state.h"

#include <fnmatch.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "binding/kernel_io.h"
#include "core/bounded_input.h"
#include "core/discovery.h"
#include "core/inventory.h"
#include "core/sysfs.h"

namespace pcipass {
namespace {

Status Bad(const IniEntry& e, const std::string& what,
           const std::string& source) {
  // A value can be as long as the config (1 MiB): quote its start only.
  constexpr size_t kQuote = 120;
  const std::string value =
      e.value.size() <= kQuote ? e.value
                               : e.value.substr(0, kQuote) + "... (" +
                                     std::to_string(e.value.size()) + " bytes)";
  return Status::InvalidArgument(source + ":" + std::to_string(e.line) +
                                 ": [host] " + e.key + " = " + value + ": " +
                                 what);
}

// "8086" or "*" -> id / any. Anything else: nullopt in |ok|.
bool ParseId(const std::string& s, std::optional<uint16_t>* out) {
  if (s == "*") {
    out->reset();
    return true;
  }
  if (s.empty() || s.size() > 4) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  *out = static_cast<uint16_t>(std::stoul(s, nullptr, 16));
  return true;
}

bool ValidGlob(const std::string& g) {
  if (g.empty()) return false;
  for (char c : g) {
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' ||
          c == '.' || c == '*' || c == '?' || c == '[' || c == ']' ||
          c == '-' || c == '!')) {
      return false;
    }
  }
  return std::count(g.begin(), g.end(), ':') >= 1;
}

// "0000:03:00.0=2" -> (pf, "2").
bool SplitPfValue(const std::string& v, PciAddress* pf, std::string* rest) {
  size_t eq = v.find('=');
  if (eq == std::string::npos) return false;
  auto a = PciAddress::Parse(v.substr(0, eq));
  if (!a.ok()) return false;
  *pf = *a;
  *rest = v.substr(eq + 1);
  return true;
}

}  // namespace

bool VfioSelector::Matches(const PciDevice& dev) const {
  if (vendor_id && dev.vendor_id != vendor_id) return false;
  if (product_id && dev.product_id != product_id) return false;
  if (address_glob) {
    std::string glob = *address_glob;
    // "03:00.0" (no domain) means domain 0000, as lspci prints it.
    if (std::count(glob.begin(), glob.end(), ':') == 1) glob = "0000:" + glob;
    if (fnmatch(glob.c_str(), dev.address.ToString().c_str(), 0) != 0) {
      return false;
    }
  }
  return true;
}

HostDesiredState ParseHostSection(const IniFile& ini,
                                  std::vector<Status>* errors) {
  HostDesiredState state;
  std::set<PciAddress> numvfs_seen, autoprobe_seen;
  const std::string& src = ini.source();
  // One entry; an error leaves |state| without it and parsing goes on, so
  // `config check` can list every bad line.
  auto parse_entry = [&](const IniEntry& e) -> Status {
    const std::string where = ini.Where(e.line);
    if (e.key == "vfio") {
      VfioSelector sel;
      sel.text = e.value;
      sel.where = where;
      if (!e.value.empty() && e.value.front() == '{') {
        if (Status d = CheckJsonDepth(e.value, kMaxSpecJsonDepth); !d.ok()) {
          return Bad(e, d.message(), src);
        }
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(e.value);
        } catch (const std::exception& ex) {
          return Bad(e, std::string("not valid JSON (") + ex.what() + ")", src);
        }
        if (!j.is_object() || j.empty()) {
          return Bad(e,
                     "expected a JSON object with vendor_id, product_id "
                     "and/or address",
                     src);
        }
        for (auto& [k, v] : j.items()) {
          if (!v.is_string()) {
            return Bad(e, "\"" + k + "\" must be a string", src);
          }
          const std::string s = v.get<std::string>();
          if (k == "vendor_id" || k == "product_id") {
            std::optional<uint16_t> id;
            if (!ParseId(s, &id)) {
              std::string what = "\"" + k + "\": \"";
              what += s;
              what += "\" is not 1-4 hex digits or \"*\"";
              return Bad(e, what, src);
            }
            (k == "vendor_id" ? sel.vendor_id : sel.product_id) = id;
          } else if (k == "address") {
            if (!ValidGlob(s)) {
              return Bad(e,
                         "\"address\": \"" + s +
                             "\" is not an address glob like "
                             "0000:03:00.* ",
                         src);
            }
            sel.address_glob = s;
          } else {
            return Bad(e,
                       "unknown key \"" + k +
                           "\" (accepted: vendor_id, product_id, address)",
                       src);
          }
        }
      } else {
        if (!ValidGlob(e.value)) {
          return Bad(e,
                     "expected an address or glob (0000:06:00.0, "
                     "0000:03:00.[1-4]) or a JSON object "
                     "{\"vendor_id\": \"8086\", \"product_id\": \"10d3\"}",
                     src);
        }
        sel.address_glob = e.value;
      }
      state.vfio.push_back(sel);
    } else if (e.key == "sriov_numvfs") {
      PciAddress pf;
      std::string rest;
      auto n = SplitPfValue(e.value, &pf, &rest) ? sysfs::ParseInt(rest)
                                                 : std::nullopt;
      if (!n || *n < 0 || *n > 65535) {
        return Bad(e, "expected PF_ADDRESS=COUNT, e.g. 0000:03:00.0=4", src);
      }
      if (!numvfs_seen.insert(pf).second) {
        return Bad(e, "PF " + pf.ToString() + " is listed twice", src);
      }
      auto it = std::find_if(state.sriov.begin(), state.sriov.end(),
                             [&](const SriovTarget& t) { return t.pf == pf; });
      if (it == state.sriov.end()) {
        state.sriov.push_back({pf, static_cast<int>(*n), std::nullopt, where});
      } else {
        it->numvfs = static_cast<int>(*n);
        it->where = where;
      }
    } else if (e.key == "sriov_autoprobe") {
      PciAddress pf;
      std::string rest;
      if (!SplitPfValue(e.value, &pf, &rest) ||
          (rest != "on" && rest != "off" && rest != "1" && rest != "0")) {
        return Bad(e, "expected PF_ADDRESS=on|off, e.g. 0000:03:00.0=off", src);
      }
      if (!autoprobe_seen.insert(pf).second) {
        return Bad(e, "PF " + pf.ToString() + " is listed twice", src);
      }
      bool on = rest == "on" || rest == "1";
      auto it = std::find_if(state.sriov.begin(), state.sriov.end(),
                             [&](const SriovTarget& t) { return t.pf == pf; });
      if (it == state.sriov.end()) {
        state.sriov.push_back({pf, -1, on, where});
      } else {
        it->autoprobe = on;
      }
    } else {
      return Bad(e,
                 "unknown key \"" + e.key +
                     "\" (accepted: vfio, sriov_numvfs, sriov_autoprobe)",
                 src);
    }
    return Status::Ok();
  };
  for (const IniEntry& e : ini.entries()) {
    if (e.section != "host") continue;
    Status st = parse_entry(e);
    if (!st.ok()) errors->push_back(std::move(st));
  }
  for (const SriovTarget& t : state.sriov) {
    if (t.numvfs < 0) {
      errors->push_back(Status::InvalidArgument(
          t.where + ": [host] sriov_autoprobe for " + t.pf.ToString() +
          " needs a sriov_numvfs line for the same PF"));
    }
  }
  return state;
}

Status RequireHostSection(const IniFile& ini) {
  const std::vector<std::string> sections = ini.Sections();
  const bool present =
      std::find(sections.begin(), sections.end(), "host") != sections.end();
  if (present && !ini.Keys("host").empty()) return Status::Ok();
  return Status::FailedPrecondition(
      ini.source() +
      (present ? " has an empty [host] section" : " has no [host] section") +
      ", so apply has nothing to make true. Add the desired state, e.g.\n"
      "  [host]\n"
      "  vfio = 0000:03:00.0\n"
      "  sriov_numvfs = 0000:05:00.0=4\n"
      "(docs/operations.md, \"Desired state: [host] and pcipass apply\")");
}

Result<HostDesiredState> ParseHostSection(const IniFile& ini) {
  std::vector<Status> errors;
  HostDesiredState state = ParseHostSection(ini, &errors);
  if (errors.empty()) return state;
  if (errors.size() == 1) return errors.front();
  std::string all = std::to_string(errors.size()) + " errors in [host]:";
  for (const Status& e : errors) all += "\n  " + e.message();
  return Status::InvalidArgument(all);
}

Result<ApplyReport> Apply(const HostRoot& host, KernelIo& io,
                          const HostDesiredState& state,
                          const ApplyOptions& opts) {
  ApplyReport report;
  bool changed = false;
  for (const SriovTarget& t : state.sriov) {
    const auto dir = host.PciDeviceDir(t.pf);
    auto cur =
        sysfs::ParseInt(sysfs::ReadOptional(dir / "sriov_numvfs").value_or(""));
    auto ap = sysfs::ReadOptional(dir / "sriov_drivers_autoprobe");
    bool ap_ok = !t.autoprobe || ap == (*t.autoprobe ? "1" : "0");
    if (cur && *cur == t.numvfs && ap_ok) continue;
    SriovOptions so;
    so.state_dir = opts.state_dir;
    so.numvfs = t.numvfs;
    so.autoprobe = t.autoprobe;
    so.dry_run = opts.dry_run;
    so.write_timeout = opts.write_timeout;
    so.claimed_by = opts.claimed_by;
    auto r = SetNumVfs(host, io, t.pf, so);
    if (!r.ok()) return r.status().WithContext(t.where + ": sriov_numvfs");
    changed = changed || r->changed || !r->writes.empty();
    report.sriov.push_back(*r);
  }

  DiscoveryOptions dopts;
  dopts.lookup_names = false;
  dopts.host_use = false;
  auto inv = Discover(host, dopts);
  if (!inv.ok()) return inv.status().WithContext("discover");
  std::vector<PciAddress> want;
  for (const VfioSelector& sel : state.vfio) {
    int matched = 0;
    for (const PciDevice& d : inv->devices()) {
      if (!sel.Matches(d)) continue;
      ++matched;
      if (std::find(want.begin(), want.end(), d.address) == want.end()) {
        want.push_back(d.address);
      }
    }
    if (matched == 0) {
      report.notes.push_back(sel.where + ": vfio = " + sel.text +
                             " matches no device" +
                             (opts.dry_run && !report.sriov.empty()
                                  ? " (yet: the dry run creates no VFs)"
                                  : ""));
    }
  }
  if (!want.empty()) {
    HandOffOptions ho;
    ho.state_dir = opts.state_dir;
    ho.dry_run = opts.dry_run;
    ho.force_reason = opts.force_reason;
    ho.write_timeout = opts.write_timeout;
    auto r = Detach(host, io, want, ho);
    if (!r.ok()) return r.status().WithContext("[host] vfio");
    report.detach = *r;
    changed = changed || !r->changed.empty();
  }
  report.nothing_to_do = !changed;
  return report;
}

Result<ApplyReport> Apply(const HostRoot& host, const HostDesiredState& state,
                          const ApplyOptions& opts) {
  std::unique_ptr<KernelIo> io = MakeKernelIo();
  return Apply(host, *io, state, opts);
}

}  // namespace pcipass
