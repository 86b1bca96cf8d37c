// Shared by the claims commands (fit, claim, release, claims, history,
// reconcile, usage): printing of what the service returns.
#ifndef PCIPASS_CLI_CMD_CLAIMS_COMMON_H_
#define PCIPASS_CLI_CMD_CLAIMS_COMMON_H_

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "claims/session.h"
#include "cli/context.h"
#include "cli/output.h"

namespace pcipass::cli {

// Drift found by the reconcile that starts every claims command goes to
// stderr (stdout is data only).
inline void WarnDrift(CommandContext& ctx,
                      const claims::ReconcileReport& report) {
  for (const claims::DriftItem& d : report.drift) {
    ctx.err() << "pcipass: drift: " << d.address.ToString() << " " << d.kind
              << ": " << d.detail << "\n";
  }
}

// Human-readable explanation of a fit, one line per request and step.
inline void PrintFitText(std::ostream& out, const claims::FitResult& fit) {
  for (const claims::RequestOutcome& r : fit.requests) {
    out << "request " << r.index + 1 << " " << r.alias_name << ":" << r.count
        << " (numa_policy " << NumaPolicyName(r.numa_policy)
        << "): " << (r.ok ? "ok" : "NO, failed at step " + r.failed_step)
        << "\n";
    for (const claims::FitStep& s : r.steps) {
      out << "  " << s.name << ": " << s.before << " -> " << s.after << "\n";
      for (const std::string& d : s.dropped) out << "      " << d << "\n";
      if (s.dropped_total > s.dropped.size()) {
        out << "      ... and " << s.dropped_total - s.dropped.size()
            << " more\n";
      }
    }
    if (!r.ok) out << "  why: " << r.message << "\n";
    for (const PciAddress& a : r.chosen) {
      out << "  takes " << a.ToString() << "\n";
    }
  }
}

}  // namespace pcipass::cli

#endif  // PCIPASS_CLI_CMD_CLAIMS_COMMON_H_
