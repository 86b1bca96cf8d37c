// pcipass check: is this host ready for PCI passthrough, and if not, why
// and how to fix it (core/host_check.h). Exit 0 ready, 1 not ready, 2 usage
// or internal error.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <system_error>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/discovery.h"
#include "core/host_check.h"

namespace pcipass::cli {

namespace {

nlohmann::ordered_json NullIfEmpty(const std::string& s) {
  return s.empty() ? nlohmann::ordered_json(nullptr)
                   : nlohmann::ordered_json(s);
}

nlohmann::ordered_json ToJson(const HostReport& r) {
  nlohmann::ordered_json j;
  j["ready"] = r.ready;
  j["verdict"] = r.verdict;
  j["kernel_release"] = NullIfEmpty(r.kernel_release);
  j["iommu_vendor"] = NullIfEmpty(r.iommu_vendor);
  j["checks"] = nlohmann::ordered_json::array();
  for (const HostCheck& c : r.checks) {
    j["checks"].push_back({{"id", c.id},
                           {"status", std::string(CheckStateName(c.status))},
                           {"detail", c.detail},
                           {"fix", NullIfEmpty(c.fix)}});
  }
  if (r.summary) {
    const HostSummary& s = *r.summary;
    j["summary"] = {{"devices", s.devices},
                    {"iommu_groups", s.groups},
                    {"viable_groups", s.viable_groups},
                    {"noiommu_groups", s.noiommu_groups},
                    {"vfio_devices", s.vfio_devices},
                    {"sriov_pfs", s.pfs},
                    {"sriov_vfs", s.vfs},
                    {"bridges", s.bridges},
                    {"host_used", s.host_used}};
  } else {
    j["summary"] = nullptr;
  }
  return j;
}

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
    HostRoot host = ctx.host();
    std::error_code ec;
    if (!std::filesystem::is_directory(host.root(), ec)) {
      return ReportError(
          Status::InvalidArgument("--root " + host.root().string() +
                                  ": not a directory"),
          ctx.json(), ctx.out(), ctx.err());
    }
    HostReport report = CheckHost(host);
    DiscoveryOptions opts;
    opts.pci_ids_path = ctx.options().pci_ids;
    opts.lookup_names = false;  // counts only
    std::string summary_error;
    Result<Inventory> inv = Discover(host, opts);
    if (inv.ok()) {
      report.summary = SummarizeInventory(*inv);
    } else {
      summary_error = inv.status().message();
    }
    if (ctx.json()) {
      nlohmann::ordered_json j = ToJson(report);
      j["summary_error"] = NullIfEmpty(summary_error);
      ctx.out() << j.dump(2) << "\n";
    } else {
      PrintText(report, summary_error, ctx.out());
    }
    return report.ready ? kExitOk : kExitRefused;
  };
}

}  // namespace pcipass::cli
