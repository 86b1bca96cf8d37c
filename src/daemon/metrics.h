// Metrics: pcipassd's Prometheus text exposition (format 0.0.4) at
// /metrics. Counters and histograms are kept in memory and updated by the
// request path, the operations and the reconcile loop; the ledger gauges
// (devices by state/type/NUMA node, claimed devices by alias) are read
// from the ledger at scrape time, so they are never stale.
//
// Thread-safe. Label values are escaped as the format requires.
#ifndef PCIPASS_DAEMON_METRICS_H_
#define PCIPASS_DAEMON_METRICS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "store/ledger.h"

namespace pcipass::daemon {

class Metrics {
 public:
  Metrics();

  // One API request: its route pattern (not the raw path, so addresses
  // and instance ids do not explode the label set), method and status.
  void CountRequest(const std::string& route, const std::string& method,
                    int status, double seconds);
  // An error reply, by its error code.
  void CountError(const std::string& code);
  // A host hand-off (claim/detach/reattach/sriov/apply/hotplug), its
  // wall time and whether it succeeded.
  void ObserveHandoff(const std::string& op, double seconds, bool ok);
  // One reconcile pass: drift items found by kind, duration, success.
  void ObserveReconcile(const std::map<std::string, int>& drift_by_kind,
                        double seconds, bool ok, int64_t now_unix);
  void CountConfigReload(bool ok);
  void SetConfigValid(bool valid);
  void SetOperationsRunning(int n);

  // The exposition text. |devices|/|claims| come from the ledger (empty
  // when it does not exist yet); |ledger_ok| false adds
  // pcipassd_ledger_up 0.
  std::string Render(const std::vector<LedgerDevice>& devices,
                     const std::vector<ClaimRecord>& claims,
                     bool ledger_ok) const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative at render
    uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mu_;
  int64_t start_unix_;
  std::map<std::string, double> requests_;            // label set -> count
  std::map<std::string, Histogram> request_seconds_;  // by route
  std::map<std::string, double> errors_;
  std::map<std::string, Histogram> handoff_seconds_;  // label set
  std::map<std::string, double> drift_;               // kind -> total
  double reconcile_runs_ok_ = 0;
  double reconcile_runs_failed_ = 0;
  double last_reconcile_unix_ = 0;
  double last_reconcile_drift_ = 0;
  Histogram reconcile_seconds_;
  double config_reloads_ok_ = 0;
  double config_reloads_failed_ = 0;
  bool config_valid_ = true;
  int operations_running_ = 0;
};

// Escapes a label value (backslash, double quote, newline).
std::string EscapeLabel(const std::string& value);

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_METRICS_H_
