// pcipass groups: every IOMMU group, its members and whether VFIO could
// use it now (the kernel's viability rule, core/iommu.h).
#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "service/inventory_ops.h"

namespace pcipass::cli {

namespace {

std::string ViableText(const IommuGroup& g) {
  if (g.noiommu) return "UNSAFE (noiommu)";
  return g.viable ? "yes" : "no";
}

int RunGroups(CommandContext& ctx, bool only_non_viable) {
  service::GroupsParams params;
  params.non_viable_only = only_non_viable;
  service::GroupsReply r = service::ListGroups(ctx.Env(), params);
  if (r.failed) return ReportFailure(r, ctx);
  if (ctx.options().verbosity > 0) PrintWarnings(r, ctx);
  if (ctx.json()) {
    ctx.out() << r.json.dump(2) << "\n";
    return kExitOk;
  }
  const Inventory* inv = &r.inventory;
  if (inv->groups().empty()) {
    ctx.err() << "pcipass: no IOMMU groups: the IOMMU is off or absent "
                 "(run 'pcipass check' for the reason and the fix)\n";
    return kExitOk;
  }
  Table t(
      {"GROUP", "VIABLE", "TYPE", "ADDRESS", "DRIVER", "CLASS", "BLOCKED BY"});
  // Not a structured binding: the row lambda uses the group, and clang
  // before 16 cannot capture structured bindings.
  for (const auto& entry : inv->groups()) {
    const int id = entry.first;
    const IommuGroup& g = entry.second;
    if (only_non_viable && g.viable) continue;
    std::string blockers;
    for (const std::string& b : g.blockers) {
      blockers += (blockers.empty() ? "" : ", ") + b;
    }
    if (g.has_direct_region) {
      blockers += std::string(blockers.empty() ? "" : "; ") +
                  "firmware direct-mapped region (RMRR)";
    }
    bool first = true;
    auto row = [&](const std::string& addr, const std::string& driver,
                   const std::string& cls) {
      t.AddRow({first ? std::to_string(id) : "", first ? ViableText(g) : "",
                first ? g.type.value_or("-") : "", addr, driver, cls,
                first ? (blockers.empty() ? "-" : blockers) : ""});
      first = false;
    };
    for (const PciAddress& a : g.members) {
      const PciDevice* d = inv->Find(a);
      row(a.ToString(), d && d->driver ? *d->driver : "-",
          d && !d->class_name.empty() ? d->class_name : "-");
    }
    for (const std::string& n : g.non_pci_members) row(n, "-", "(non-PCI)");
    if (first) row("-", "-", "-");
  }
  t.Print(ctx.out());
  return kExitOk;
}

}  // namespace

RunFn SetupGroupsCommand(CLI::App& sub) {
  auto only_non_viable = std::make_shared<bool>(false);
  sub.add_flag("--non-viable", *only_non_viable,
               "show only groups VFIO could not use now");
  return [only_non_viable](CommandContext& ctx) {
    return RunGroups(ctx, *only_non_viable);
  };
}

}  // namespace pcipass::cli
