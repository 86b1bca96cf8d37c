// pcipass sriov PF --numvfs N : set a PF's VF count safely (binding/sriov.h).
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "service/binding_ops.h"

namespace pcipass::cli {
namespace {

struct Flags {
  std::string address;
  int numvfs = -1;
  bool no_autoprobe = false;
  bool autoprobe = false;
  bool dry_run = false;
  int timeout_ms = 30000;
};

}  // namespace

RunFn SetupSriovCommand(CLI::App& sub) {
  auto f = std::make_shared<Flags>();
  sub.add_option("pf", f->address, "the PF's PCI address (dddd:bb:ss.f)")
      ->required();
  sub.add_option("--numvfs", f->numvfs, "the VF count wanted (0 removes all)")
      ->required();
  sub.add_flag("--no-autoprobe", f->no_autoprobe,
               "keep new VFs unbound (sriov_drivers_autoprobe=0), for "
               "passthrough");
  sub.add_flag("--autoprobe", f->autoprobe,
               "let host VF drivers take new VFs (sriov_drivers_autoprobe=1)");
  sub.add_flag("--dry-run", f->dry_run,
               "print every sysfs write, in order, and change nothing");
  sub.add_option("--timeout-ms", f->timeout_ms,
                 "watchdog for each sysfs write, 1..3600000 ms (default 30000)")
      ->check(CLI::Range(1, kMaxWriteTimeoutMs));
  return [f](CommandContext& ctx) -> int {
    if (f->no_autoprobe && f->autoprobe) {
      return ReportError(
          Status::InvalidArgument("--autoprobe and --no-autoprobe exclude each "
                                  "other"),
          ctx.json(), ctx.out(), ctx.err());
    }
    service::SriovParams params;
    params.pf = f->address;
    params.numvfs = f->numvfs;
    if (f->no_autoprobe) params.autoprobe = false;
    if (f->autoprobe) params.autoprobe = true;
    params.dry_run = f->dry_run;
    params.timeout_ms = f->timeout_ms;
    service::SriovReply reply = service::Sriov(ctx.Env(), params);
    if (reply.failed) return ReportFailure(reply, ctx);
    if (ctx.json()) {
      ctx.out() << reply.json.dump(2) << "\n";
      return kExitOk;
    }
    const SriovReport* r = &reply.report;
    std::ostream& out = ctx.out();
    if (f->dry_run || ctx.options().verbosity > 0) {
      out << (f->dry_run ? "dry run: would write, in order:\n"
                         : "writes, in order:\n");
      if (r->writes.empty()) out << "  (nothing)\n";
      for (const auto& w : r->writes) {
        out << "  echo " << w.value << " > " << w.path << "   # " << w.why
            << "\n";
      }
    }
    out << r->pf.ToString() << ": " << r->before << " -> " << r->after
        << " VFs (of " << r->totalvfs << ")"
        << (r->changed ? "" : ", unchanged") << "\n";
    if (!r->vfs.empty()) {
      Table t({"VF", "ADDRESS", "IOMMU_GROUP", "DRIVER"});
      for (const VfInfo& vf : r->vfs) {
        t.AddRow({"virtfn" + std::to_string(vf.index), vf.address.ToString(),
                  vf.iommu_group ? std::to_string(*vf.iommu_group) : "-",
                  vf.driver.value_or("-")});
      }
      t.Print(out);
    }
    for (const auto& n : r->notes) out << "note: " << n << "\n";
    return kExitOk;
  };
}

}  // namespace pcipass::cli
