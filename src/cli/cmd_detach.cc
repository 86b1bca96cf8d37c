// pcipass detach ADDR... : hand devices to vfio-pci (binding/handoff.h).
#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "binding/report.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "service/binding_ops.h"

namespace pcipass::cli {
namespace {

struct Flags {
  std::vector<std::string> addresses;
  bool dry_run = false;
  bool group = false;
  std::string force;
  int timeout_ms = 15000;
};

}  // namespace

RunFn SetupDetachCommand(CLI::App& sub) {
  auto f = std::make_shared<Flags>();
  sub.add_option("address", f->addresses,
                 "PCI addresses (dddd:bb:ss.f) to hand to vfio-pci")
      ->required();
  sub.add_flag("--dry-run", f->dry_run,
               "print every sysfs write, in order, and change nothing");
  sub.add_flag("--group", f->group,
               "also detach every endpoint member of the devices' IOMMU "
               "groups (bridges stay on pcieport)");
  sub.add_option("--force", f->force,
                 "take devices the host uses anyway; REASON is logged")
      ->type_name("REASON");
  sub.add_option("--timeout-ms", f->timeout_ms,
                 "watchdog for each sysfs write, 1..3600000 ms (default 15000)")
      ->check(CLI::Range(1, kMaxWriteTimeoutMs));
  return [f](CommandContext& ctx) -> int {
    service::DetachParams params;
    params.addresses = f->addresses;
    params.dry_run = f->dry_run;
    params.group = f->group;
    params.force = f->force;
    params.timeout_ms = f->timeout_ms;
    service::HandOffReply r = service::Detach(ctx.Env(), params);
    if (r.failed) return ReportFailure(r, ctx);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
    } else {
      PrintHandOffReport(ctx.out(), r.report, f->dry_run,
                         ctx.options().verbosity > 0, "detached (vfio-pci)",
                         "already on vfio-pci");
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
