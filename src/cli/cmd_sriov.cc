// pcipass sriov PF --numvfs N : set a PF's VF count safely (binding/sriov.h).
#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "binding/sriov.h"
#include "cli/commands.h"
#include "cli/ledger_guard.h"
#include "cli/output.h"

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

nlohmann::json ToJson(const SriovReport& r, bool dry_run) {
  nlohmann::json j;
  j["pf"] = r.pf.ToString();
  j["dry_run"] = dry_run;
  j["sriov_totalvfs"] = r.totalvfs;
  j["numvfs_before"] = r.before;
  j["numvfs_after"] = r.after;
  j["changed"] = r.changed;
  j["writes"] = nlohmann::json::array();
  for (const auto& w : r.writes) {
    j["writes"].push_back(
        {{"path", w.path}, {"value", w.value}, {"why", w.why}});
  }
  j["vfs"] = nlohmann::json::array();
  for (const VfInfo& vf : r.vfs) {
    j["vfs"].push_back(
        {{"index", vf.index},
         {"address", vf.address.ToString()},
         {"iommu_group",
          vf.iommu_group ? nlohmann::json(*vf.iommu_group) : nullptr},
         {"driver", vf.driver ? nlohmann::json(*vf.driver) : nullptr}});
  }
  j["notes"] = r.notes;
  return j;
}

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
    auto pf = PciAddress::Parse(f->address);
    if (!pf.ok()) {
      return ReportError(pf.status(), ctx.json(), ctx.out(), ctx.err());
    }
    if (f->no_autoprobe && f->autoprobe) {
      return ReportError(
          Status::InvalidArgument("--autoprobe and --no-autoprobe exclude each "
                                  "other"),
          ctx.json(), ctx.out(), ctx.err());
    }
    SriovOptions opts;
    opts.state_dir = ctx.StateDir();
    opts.numvfs = f->numvfs;
    if (f->no_autoprobe) opts.autoprobe = false;
    if (f->autoprobe) opts.autoprobe = true;
    opts.dry_run = f->dry_run;
    opts.write_timeout = std::chrono::milliseconds(f->timeout_ms);
    // Removing VFs that instances hold would pull them out of running VMs.
    Result<ClaimedByFn> claimed_by = LoadClaimedBy(ctx.StateDir());
    if (!claimed_by.ok()) {
      return ReportError(claimed_by.status().WithContext(
                             "sriov cannot tell which VFs are claimed"),
                         ctx.json(), ctx.out(), ctx.err());
    }
    opts.claimed_by = *claimed_by;
    auto r = SetNumVfs(ctx.host(), *pf, opts);
    if (!r.ok()) {
      return ReportError(r.status(), ctx.json(), ctx.out(), ctx.err());
    }
    if (ctx.json()) {
      ctx.out() << ToJson(*r, f->dry_run).dump(2) << "\n";
      return kExitOk;
    }
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
