// pcipass apply [--dry-run] : make the host match the config's [host]
// section (binding/desired_state.h). Run at boot by pcipass-apply.service.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "binding/report.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "service/binding_ops.h"

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
    service::ApplyParams params;
    params.dry_run = f->dry_run;
    params.force = f->force;
    params.timeout_ms = f->timeout_ms;
    service::ApplyReply reply = service::Apply(ctx.Env(), params);
    if (reply.failed) return ReportFailure(reply, ctx);
    if (ctx.json()) {
      ctx.out() << reply.json.dump(2) << "\n";
      return kExitOk;
    }
    const ApplyReport* r = &reply.report;
    std::ostream& out = ctx.out();
    if (r->nothing_to_do) {
      out << "nothing to do: the host already matches [host] in "
          << reply.config_path << "\n";
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
