// pcipass check: is this host ready for PCI passthrough, and if not, why
// and how to fix it (core/host_check.h). Exit 0 ready, 1 not ready, 2 usage
// or internal error.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/host_check.h"
#include "service/inventory_ops.h"

namespace pcipass::cli {

namespace {

void PrintText(const HostReport& r, const std::string& summary_error,
               std::ostream& out) {
  out << (r.ready ? "READY" : "NOT READY") << ": " << r.verdict << "\n\n";
  size_t width = 0;
  for (const HostCheck& c : r.checks) width = std::max(width, c.id.size());
  for (const HostCheck& c : r.checks) {
    std::string id = c.id;
    id.resize(width, ' ');
    out << CheckStateName(c.status) << "  " << id << "  " << c.detail << "\n";
    if (!c.fix.empty()) {
      out << std::string(6 + width + 2, ' ') << "fix: " << c.fix << "\n";
    }
  }
  out << "\n";
  if (r.summary) {
    const HostSummary& s = *r.summary;
    out << "summary: " << s.devices << " PCI functions, " << s.groups
        << " IOMMU groups (" << s.viable_groups << " viable now";
    if (s.noiommu_groups > 0) out << ", " << s.noiommu_groups << " noiommu";
    out << "), " << s.vfio_devices << " on vfio-pci, " << s.pfs
        << " SR-IOV PFs with " << s.vfs << " VFs, " << s.bridges << " bridges, "
        << s.host_used << " used by the host\n";
  } else {
    out << "summary: unavailable (" << summary_error << ")\n";
  }
}

}  // namespace

RunFn SetupCheckCommand(CLI::App& sub) {
  sub.description(
      "is this host ready for PCI passthrough? Every check says what it saw "
      "and the exact fix. Exit 0 ready, 1 not ready, 2 usage/internal "
      "error.");
  return [](CommandContext& ctx) -> int {
    service::CheckReply r = service::Check(ctx.Env(), {});
    if (r.failed) return ReportFailure(r, ctx);
    if (ctx.json()) {
      ctx.out() << r.json.dump(2) << "\n";
    } else {
      PrintText(r.report, r.summary_error, ctx.out());
    }
    return r.ExitCode();
  };
}

}  // namespace pcipass::cli
