// pcipass detach ADDR... : hand devices to vfio-pci (binding/handoff.h).
#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "binding/handoff.h"
#include "binding/report.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace pcipass::cli {
namespace {

struct Flags {
  std::vector<std::string> addresses;
  bool dry_run = false;
  bool group = false;
  std::string force;
  int timeout_ms = 15000;
};

// Parses every address; the first bad one is an InvalidArgument naming it.
Result<std::vector<PciAddress>> ParseAll(const std::vector<std::string>& in) {
  std::vector<PciAddress> out;
  for (const std::string& s : in) {
    auto a = PciAddress::Parse(s);
    if (!a.ok()) return a.status();
    out.push_back(*a);
  }
  return out;
}

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
    auto addrs = ParseAll(f->addresses);
    if (!addrs.ok()) {
      return ReportError(addrs.status(), ctx.json(), ctx.out(), ctx.err());
    }
    HandOffOptions opts;
    opts.state_dir = ctx.StateDir();
    opts.dry_run = f->dry_run;
    opts.whole_group = f->group;
    if (!f->force.empty()) opts.force_reason = f->force;
    opts.write_timeout = std::chrono::milliseconds(f->timeout_ms);
    auto r = Detach(ctx.host(), *addrs, opts);
    if (!r.ok()) {
      return ReportError(r.status().WithContext("detach"), ctx.json(),
                         ctx.out(), ctx.err());
    }
    if (ctx.json()) {
      ctx.out() << HandOffReportToJson(*r, f->dry_run).dump(2) << "\n";
    } else {
      PrintHandOffReport(ctx.out(), *r, f->dry_run, ctx.options().verbosity > 0,
                         "detached (vfio-pci)", "already on vfio-pci");
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
