// pcipass reattach ADDR... : give devices back to their host drivers
// (binding/handoff.h).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "binding/handoff.h"
#include "binding/report.h"
#include "cli/commands.h"
#include "cli/ledger_guard.h"
#include "cli/output.h"
#include "core/discovery.h"

namespace pcipass::cli {
namespace {

struct Flags {
  std::vector<std::string> addresses;
  bool dry_run = false;
  bool group = false;
  int timeout_ms = 15000;
  std::string force;
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

// The devices (with --group: also the members of their groups) that an
// instance holds in the claims ledger, as "ADDR (instance ID), ...", or ""
// when none is held. Giving one back would take it from the VM while the
// ledger still says the instance has it.
Result<std::string> ClaimedAmong(const CommandContext& ctx,
                                 const std::vector<PciAddress>& addrs,
                                 bool whole_group,
                                 const ClaimedByFn& claimed_by) {
  std::vector<PciAddress> check = addrs;
  if (whole_group) {
    Result<Inventory> inv = Discover(ctx.host());
    if (!inv.ok()) return inv.status();
    for (const PciAddress& a : addrs) {
      const PciDevice* dev = inv->Find(a);
      const IommuGroup* g = dev ? inv->GroupOf(*dev) : nullptr;
      if (g) check.insert(check.end(), g->members.begin(), g->members.end());
    }
  }
  std::sort(check.begin(), check.end());
  check.erase(std::unique(check.begin(), check.end()), check.end());
  std::string held;
  for (const PciAddress& a : check) {
    if (std::optional<std::string> who = claimed_by(a)) {
      held += (held.empty() ? "" : ", ") + a.ToString() + " (instance " + *who +
              ")";
    }
  }
  return held;
}

}  // namespace

RunFn SetupReattachCommand(CLI::App& sub) {
  auto f = std::make_shared<Flags>();
  sub.add_option("address", f->addresses,
                 "PCI addresses (dddd:bb:ss.f) to give back to the host")
      ->required();
  sub.add_flag("--dry-run", f->dry_run,
               "print every sysfs write, in order, and change nothing");
  sub.add_flag("--group", f->group,
               "also reattach every member of the devices' IOMMU groups "
               "that is on vfio-pci");
  sub.add_option("--timeout-ms", f->timeout_ms,
                 "watchdog for each sysfs write, 1..3600000 ms (default 15000)")
      ->check(CLI::Range(1, kMaxWriteTimeoutMs));
  sub.add_option("--force", f->force,
                 "give back devices an instance holds in the claims ledger "
                 "(the reason goes to stderr and <state>/log)");
  return [f](CommandContext& ctx) -> int {
    auto addrs = ParseAll(f->addresses);
    if (!addrs.ok()) {
      return ReportError(addrs.status(), ctx.json(), ctx.out(), ctx.err());
    }
    Result<ClaimedByFn> claimed_by = LoadClaimedBy(ctx.StateDir());
    if (!claimed_by.ok()) {
      return ReportError(claimed_by.status().WithContext(
                             "reattach cannot tell which devices are claimed"),
                         ctx.json(), ctx.out(), ctx.err());
    }
    Result<std::string> held = ClaimedAmong(ctx, *addrs, f->group, *claimed_by);
    if (!held.ok()) {
      return ReportError(held.status().WithContext("reattach"), ctx.json(),
                         ctx.out(), ctx.err());
    }
    if (!held->empty() && f->force.empty()) {
      return ReportError(
          Status::FailedPrecondition(
              "reattach: claimed in the ledger: " + *held +
              "; giving it back would take it from the VM. Release it first "
              "(pcipass release --instance ID), or pass --force REASON"),
          ctx.json(), ctx.out(), ctx.err());
    }
    if (!held->empty()) {
      ctx.err() << "pcipass: warning: --force \"" << f->force
                << "\": reattaching devices the ledger gives to instances: "
                << *held
                << (f->dry_run ? " (dry run: nothing is logged)"
                               : "; the reason is logged in " + ctx.StateDir() +
                                     "/log")
                << "\n";
    }
    HandOffOptions opts;
    opts.state_dir = ctx.StateDir();
    opts.dry_run = f->dry_run;
    opts.whole_group = f->group;
    opts.write_timeout = std::chrono::milliseconds(f->timeout_ms);
    if (!held->empty()) opts.force_reason = f->force;
    auto r = Reattach(ctx.host(), *addrs, opts);
    if (!r.ok()) {
      return ReportError(r.status().WithContext("reattach"), ctx.json(),
                         ctx.out(), ctx.err());
    }
    if (ctx.json()) {
      ctx.out() << HandOffReportToJson(*r, f->dry_run).dump(2) << "\n";
    } else {
      PrintHandOffReport(ctx.out(), *r, f->dry_run, ctx.options().verbosity > 0,
                         "reattached (original driver)", "not on vfio-pci");
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
