#include "daemon/reconcile_loop.h"

#include <chrono>
#include <map>

#include "claims/session.h"

namespace pcipass::daemon {

Status ReconcileLoop::RunOnce() {
  auto t0 = std::chrono::steady_clock::now();
  claims::SessionOptions o;
  o.host = HostRoot::FromFlagOrEnv(flags_.root);
  o.config_path = flags_.config;
  o.state_dir = flags_.state.empty() ? o.host.Path("var/lib/pcipass").string()
                                     : flags_.state;
  o.pci_ids = flags_.pci_ids;
  o.create_ledger = true;
  std::map<std::string, int> by_kind;
  Status status = Status::Ok();
  Result<claims::Session> session = claims::OpenSession(o);
  if (!session.ok()) {
    status = session.status();
  } else {
    Result<claims::ReconcileReport> report =
        claims::Reconcile(*session->ledger, session->snapshot);
    if (!report.ok()) {
      status = report.status();
    } else {
      for (const claims::DriftItem& d : report->drift) {
        by_kind[d.kind]++;
        log_("drift: " + d.address.ToString() + " " + d.kind + ": " +
             d.detail);
      }
    }
  }
  double secs = std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - t0)
                    .count();
  metrics_->ObserveReconcile(by_kind, secs, status.ok(), claims::NowUnix());
  if (!status.ok()) log_("reconcile failed: " + status.message());
  return status;
}

void ReconcileLoop::Start(int interval_s) {
  if (interval_s <= 0) return;
  thread_ = std::thread([this, interval_s] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(interval_s),
                         [this] { return stop_; })) {
      lock.unlock();
      (void)RunOnce();
      lock.lock();
    }
  });
}

void ReconcileLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pcipass::daemon
