#include "daemon/reconcile_loop.h"

#include <chrono>
#include <map>

#include "claims/session.h"
#include "service/claims_ops.h"

namespace pcipass::daemon {

Status ReconcileLoop::RunOnce() {
  auto t0 = std::chrono::steady_clock::now();
  service::ServiceEnv env = env_;
  env.who = "pcipassd reconcile loop";
  service::ReconcileReply reply = service::Reconcile(env, {});
  std::map<std::string, int> by_kind;
  for (const claims::DriftItem& d : reply.drift.drift) {
    by_kind[d.kind]++;
    log_("drift: " + d.address.ToString() + " " + d.kind + ": " + d.detail);
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  metrics_->ObserveReconcile(by_kind, secs, reply.ok(), claims::NowUnix());
  if (!reply.ok()) log_("reconcile failed: " + reply.status.message());
  return reply.status;
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
