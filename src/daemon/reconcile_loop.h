// ReconcileLoop: every interval, compares the ledger with sysfs (the same
// pass every claims command starts with: service::Reconcile) and reports
// the drift: a device that vanished, a driver changed behind pcipass, ids,
// NUMA or group changes, host use starting or stopping. Each drift item is
// an event in the ledger's history (GET /v1/history), a log line and a
// count in pcipassd_reconcile_drift_total{kind}.
#ifndef PCIPASS_DAEMON_RECONCILE_LOOP_H_
#define PCIPASS_DAEMON_RECONCILE_LOOP_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/metrics.h"
#include "service/reply.h"

namespace pcipass::daemon {

class ReconcileLoop {
 public:
  using LogFn = std::function<void(const std::string&)>;
  ReconcileLoop(service::ServiceEnv env, Metrics* metrics, LogFn log)
      : env_(std::move(env)), metrics_(metrics), log_(std::move(log)) {}
  ~ReconcileLoop() { Stop(); }

  // One pass now. Returns its status (the drift is logged and counted).
  Status RunOnce();
  // Passes every |interval_s| seconds in a thread (0: none).
  void Start(int interval_s);
  // Ends the thread after the pass in progress.
  void Stop();

 private:
  service::ServiceEnv env_;
  Metrics* metrics_;
  LogFn log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_RECONCILE_LOOP_H_
