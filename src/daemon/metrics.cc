#include "daemon/metrics.h"

#include <fmt/format.h>

#include <ctime>

namespace pcipass::daemon {

namespace {

const std::vector<double>& RequestBuckets() {
  static const std::vector<double> b = {0.001, 0.005, 0.01, 0.025, 0.05,
                                        0.1,   0.25,  0.5,  1,     5};
  return b;
}
const std::vector<double>& HandoffBuckets() {
  static const std::vector<double> b = {0.01, 0.05, 0.1, 0.25, 0.5,
                                        1,    2.5,  5,   15,   60};
  return b;
}

void Observe(std::vector<uint64_t>* buckets, const std::vector<double>& bounds,
             uint64_t* count, double* sum, double v) {
  if (buckets->empty()) buckets->assign(bounds.size(), 0);
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (v <= bounds[i]) ++(*buckets)[i];
  }
  ++*count;
  *sum += v;
}

std::string Num(double v) { return fmt::format("{}", v); }

void Header(std::string* out, const char* name, const char* type,
            const char* help) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string EscapeLabel(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Metrics::Metrics() : start_unix_(static_cast<int64_t>(std::time(nullptr))) {}

void Metrics::CountRequest(const std::string& route, const std::string& method,
                           int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[fmt::format("route=\"{}\",method=\"{}\",status=\"{}\"",
                        EscapeLabel(route), EscapeLabel(method), status)] += 1;
  Histogram& h =
      request_seconds_[fmt::format("route=\"{}\"", EscapeLabel(route))];
  Observe(&h.buckets, RequestBuckets(), &h.count, &h.sum, seconds);
}

void Metrics::CountError(const std::string& code) {
  std::lock_guard<std::mutex> lock(mu_);
  errors_[code] += 1;
}

void Metrics::ObserveHandoff(const std::string& op, double seconds, bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  Histogram& h = handoff_seconds_[fmt::format(
      "operation=\"{}\",result=\"{}\"", EscapeLabel(op), ok ? "ok" : "error")];
  Observe(&h.buckets, HandoffBuckets(), &h.count, &h.sum, seconds);
}

void Metrics::ObserveReconcile(const std::map<std::string, int>& drift_by_kind,
                               double seconds, bool ok, int64_t now_unix) {
  std::lock_guard<std::mutex> lock(mu_);
  int total = 0;
  for (const auto& [kind, n] : drift_by_kind) {
    drift_[kind] += n;
    total += n;
  }
  (ok ? reconcile_runs_ok_ : reconcile_runs_failed_) += 1;
  last_reconcile_unix_ = static_cast<double>(now_unix);
  last_reconcile_drift_ = total;
  Observe(&reconcile_seconds_.buckets, RequestBuckets(),
          &reconcile_seconds_.count, &reconcile_seconds_.sum, seconds);
}

void Metrics::CountConfigReload(bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  (ok ? config_reloads_ok_ : config_reloads_failed_) += 1;
}

void Metrics::SetConfigValid(bool valid) {
  std::lock_guard<std::mutex> lock(mu_);
  config_valid_ = valid;
}

void Metrics::SetOperationsRunning(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  operations_running_ = n;
}

std::string Metrics::Render(const std::vector<LedgerDevice>& devices,
                            const std::vector<ClaimRecord>& claims,
                            bool ledger_ok) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  auto histogram = [&out](const char* name, const std::string& labels,
                          const Histogram& h,
                          const std::vector<double>& bounds) {
    std::string sep = labels.empty() ? "" : labels + ",";
    for (size_t i = 0; i < bounds.size(); ++i) {
      uint64_t n = h.buckets.empty() ? 0 : h.buckets[i];
      out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, sep,
                         Num(bounds[i]), n);
    }
    out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, sep, h.count);
    std::string braces = labels.empty() ? "" : "{" + labels + "}";
    out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, Num(h.sum),
                       name, braces, h.count);
  };

  Header(&out, "pcipassd_start_time_seconds", "gauge",
         "Unix time pcipassd started.");
  out += fmt::format("pcipassd_start_time_seconds {}\n", start_unix_);

  Header(&out, "pcipassd_ledger_up", "gauge",
         "1 if the claims ledger could be read at this scrape.");
  out += fmt::format("pcipassd_ledger_up {}\n", ledger_ok ? 1 : 0);

  // Ledger gauges.
  std::map<std::string, int> by_state;
  for (const LedgerDevice& d : devices) {
    by_state[fmt::format(
        "state=\"{}\",dev_type=\"{}\",numa_node=\"{}\"",
        DeviceStateName(d.state), DeviceTypeName(d.dev_type),
        d.numa_node ? std::to_string(*d.numa_node) : std::string("none"))]++;
  }
  Header(&out, "pcipass_devices", "gauge",
         "Allowed PCI devices in the ledger by state, type and NUMA node.");
  for (const auto& [labels, n] : by_state) {
    out += fmt::format("pcipass_devices{{{}}} {}\n", labels, n);
  }
  std::map<std::string, int> by_alias;
  std::map<std::string, int> instances;
  for (const ClaimRecord& c : claims) {
    by_alias[fmt::format("alias=\"{}\",state=\"{}\"", EscapeLabel(c.alias_name),
                         EscapeLabel(c.state))]++;
    instances[c.instance]++;
  }
  Header(&out, "pcipass_claimed_devices", "gauge",
         "Devices held by instances, by request alias and claim state.");
  for (const auto& [labels, n] : by_alias) {
    out += fmt::format("pcipass_claimed_devices{{{}}} {}\n", labels, n);
  }
  Header(&out, "pcipass_claim_instances", "gauge",
         "Instances holding at least one device.");
  out += fmt::format("pcipass_claim_instances {}\n", instances.size());

  Header(&out, "pcipassd_http_requests_total", "counter",
         "API requests by route pattern, method and HTTP status.");
  for (const auto& [labels, n] : requests_) {
    out +=
        fmt::format("pcipassd_http_requests_total{{{}}} {}\n", labels, Num(n));
  }
  Header(&out, "pcipassd_http_request_duration_seconds", "histogram",
         "API request handling time by route pattern.");
  for (const auto& [labels, h] : request_seconds_) {
    histogram("pcipassd_http_request_duration_seconds", labels, h,
              RequestBuckets());
  }
  Header(&out, "pcipassd_errors_total", "counter",
         "Error replies by error code.");
  for (const auto& [code, n] : errors_) {
    out += fmt::format("pcipassd_errors_total{{code=\"{}\"}} {}\n",
                       EscapeLabel(code), Num(n));
  }
  Header(&out, "pcipassd_handoff_duration_seconds", "histogram",
         "Host hand-offs (claim, detach, reattach, sriov, apply, hotplug): "
         "wall time by operation and result.");
  for (const auto& [labels, h] : handoff_seconds_) {
    histogram("pcipassd_handoff_duration_seconds", labels, h, HandoffBuckets());
  }
  Header(&out, "pcipassd_reconcile_drift_total", "counter",
         "Drift found by the reconcile loop, by kind (device vanished, "
         "driver changed, ...).");
  for (const auto& [kind, n] : drift_) {
    out += fmt::format("pcipassd_reconcile_drift_total{{kind=\"{}\"}} {}\n",
                       EscapeLabel(kind), Num(n));
  }
  Header(&out, "pcipassd_reconcile_runs_total", "counter",
         "Reconcile passes by result.");
  out += fmt::format(
      "pcipassd_reconcile_runs_total{{result=\"ok\"}} {}\n"
      "pcipassd_reconcile_runs_total{{result=\"error\"}} {}\n",
      Num(reconcile_runs_ok_), Num(reconcile_runs_failed_));
  Header(&out, "pcipassd_reconcile_last_run_timestamp_seconds", "gauge",
         "Unix time of the last reconcile pass (0: none yet).");
  out += fmt::format("pcipassd_reconcile_last_run_timestamp_seconds {}\n",
                     Num(last_reconcile_unix_));
  Header(&out, "pcipassd_reconcile_last_drift_items", "gauge",
         "Drift items the last reconcile pass found.");
  out += fmt::format("pcipassd_reconcile_last_drift_items {}\n",
                     Num(last_reconcile_drift_));
  Header(&out, "pcipassd_reconcile_duration_seconds", "histogram",
         "Reconcile pass time.");
  histogram("pcipassd_reconcile_duration_seconds", "", reconcile_seconds_,
            RequestBuckets());
  Header(&out, "pcipassd_config_reloads_total", "counter",
         "SIGHUP config reloads by result.");
  out += fmt::format(
      "pcipassd_config_reloads_total{{result=\"ok\"}} {}\n"
      "pcipassd_config_reloads_total{{result=\"error\"}} {}\n",
      Num(config_reloads_ok_), Num(config_reloads_failed_));
  Header(&out, "pcipassd_config_valid", "gauge",
         "1 if the config loaded without errors at the last (re)load.");
  out += fmt::format("pcipassd_config_valid {}\n", config_valid_ ? 1 : 0);
  Header(&out, "pcipassd_operations_running", "gauge",
         "Long operations (hand-offs) in progress.");
  out += fmt::format("pcipassd_operations_running {}\n", operations_running_);
  return out;
}

}  // namespace pcipass::daemon
