// pcipass apply [--dry-run] : make the host match the config's [host]
// section (binding/desired_state.h). Run at boot by pcipass-apply.service.
#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "binding/desired_state.h"
#include "binding/report.h"
#include "cli/commands.h"
#include "cli/ledger_guard.h"
#include "cli/output.h"
#include "select/ini.h"

namespace pcipass::cli {
namespace {

struct Flags {
  bool dry_run = false;
  std::string force;
  int timeout_ms = 30000;
};

}  // namespace

RunFn SetupApplyCommand(CLI::App& sub) {
  auto f = std::make_shared<Flags>();
  sub.add_flag("--dry-run", f->dry_run,
               "print the plan (every sysfs write, in order); change nothing");
  sub.add_option("--force", f->force,
                 "take listed devices even if the host uses them; REASON is "
                 "logged")
      ->type_name("REASON");
  sub.add_option("--timeout-ms", f->timeout_ms,
                 "watchdog for each sysfs write, 1..3600000 ms (default 30000)")
      ->check(CLI::Range(1, kMaxWriteTimeoutMs));
  return [f](CommandContext& ctx) -> int {
    auto fail = [&](const Status& s) {
      return ReportError(s, ctx.json(), ctx.out(), ctx.err());
    };
    const std::string path = ctx.ConfigPath();
    if (path.empty()) {
      return fail(Status::InvalidArgument(
          "apply needs a config with a [host] section (--config FILE or "
          "$PCIPASS_CONFIG)"));
    }
    auto ini = IniFile::Load(path);
    if (!ini.ok()) return fail(ini.status());
    if (Status h = RequireHostSection(*ini); !h.ok()) return fail(h);
    auto state = ParseHostSection(*ini);
    if (!state.ok()) return fail(state.status());
    ApplyOptions opts;
    opts.state_dir = ctx.StateDir();
    opts.dry_run = f->dry_run;
    opts.write_timeout = std::chrono::milliseconds(f->timeout_ms);
    if (!f->force.empty()) opts.force_reason = f->force;
    Result<ClaimedByFn> claimed_by = LoadClaimedBy(ctx.StateDir());
    if (!claimed_by.ok()) {
      return ReportError(claimed_by.status().WithContext(
                             "apply cannot tell which VFs are claimed"),
                         ctx.json(), ctx.out(), ctx.err());
    }
    opts.claimed_by = *claimed_by;
    auto r = Apply(ctx.host(), *state, opts);
    if (!r.ok()) return fail(r.status().WithContext("apply"));
    if (ctx.json()) {
      nlohmann::json j;
      j["dry_run"] = f->dry_run;
      j["nothing_to_do"] = r->nothing_to_do;
      j["sriov"] = nlohmann::json::array();
      for (const SriovReport& s : r->sriov) {
        nlohmann::json vfs = nlohmann::json::array();
        for (const VfInfo& vf : s.vfs) vfs.push_back(vf.address.ToString());
        nlohmann::json writes = nlohmann::json::array();
        for (const auto& w : s.writes) {
          writes.push_back(
              {{"path", w.path}, {"value", w.value}, {"why", w.why}});
        }
        j["sriov"].push_back({{"pf", s.pf.ToString()},
                              {"numvfs_before", s.before},
                              {"numvfs_after", s.after},
                              {"writes", writes},
                              {"vfs", vfs}});
      }
      j["detach"] = HandOffReportToJson(r->detach, f->dry_run);
      j["notes"] = r->notes;
      ctx.out() << j.dump(2) << "\n";
      return kExitOk;
    }
    std::ostream& out = ctx.out();
    if (r->nothing_to_do) {
      out << "nothing to do: the host already matches [host] in " << path
          << "\n";
    }
    for (const SriovReport& s : r->sriov) {
      if (f->dry_run) {
        for (const auto& w : s.writes) {
          out << "  echo " << w.value << " > " << w.path << "   # " << w.why
              << "\n";
        }
      }
      out << s.pf.ToString() << ": " << s.before << " -> " << s.after << " VFs"
          << (f->dry_run ? " (planned)" : "") << "\n";
    }
    PrintHandOffReport(out, r->detach, f->dry_run, ctx.options().verbosity > 0,
                       "detached (vfio-pci)", "already on vfio-pci");
    for (const auto& n : r->notes) out << "note: " << n << "\n";
    return kExitOk;
  };
}

}  // namespace pcipass::cli
