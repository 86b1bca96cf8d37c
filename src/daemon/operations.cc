#include "daemon/operations.h"

#include <fmt/format.h>

#include <chrono>
#include <random>
#include <thread>

#include "claims/session.h"

namespace pcipass::daemon {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Iso(int64_t ms) { return claims::FormatTime(ms / 1000); }

}  // namespace

std::string Operations::Start(const std::string& kind, Body body,
                              std::function<void(const Reply&)> on_done) {
  auto op = std::make_shared<Op>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    static std::mt19937_64 rng{std::random_device{}()};
    op->id = fmt::format("op-{}-{:08x}", next_++, static_cast<uint32_t>(rng()));
    op->kind = kind;
    op->created_ms = NowMs();
    op->progress.emplace_back(op->created_ms, kind + ": started");
    ops_[op->id] = op;
    order_.push_back(op->id);
    while (order_.size() > kMaxKept) {
      auto it = ops_.find(order_.front());
      if (it != ops_.end() && it->second->state == "running") break;
      ops_.erase(order_.front());
      order_.pop_front();
    }
    ++running_;
  }
  std::thread([this, op, body = std::move(body), on_done = std::move(on_done)] {
    ProgressFn progress = [this, op](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      op->progress.emplace_back(NowMs(), line);
    };
    Reply reply = body(progress);
    {
      std::lock_guard<std::mutex> lock(mu_);
      op->reply = reply;
      op->finished_ms = NowMs();
      op->state = reply.http_status < 400 ? "succeeded" : "failed";
      op->progress.emplace_back(op->finished_ms, op->kind + ": " + op->state);
    }
    if (on_done) on_done(reply);
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    cv_.notify_all();
  }).detach();
  return op->id;
}

nlohmann::json Operations::ToJson(const Op& op, bool with_result) const {
  nlohmann::json j;
  j["id"] = op.id;
  j["kind"] = op.kind;
  j["state"] = op.state;
  j["created"] = Iso(op.created_ms);
  j["finished"] = op.finished_ms ? nlohmann::json(Iso(op.finished_ms))
                                 : nlohmann::json(nullptr);
  j["href"] = "/v1/operations/" + op.id;
  if (!with_result) return j;
  nlohmann::json progress = nlohmann::json::array();
  for (const auto& [ms, msg] : op.progress) {
    progress.push_back({{"at_ms", ms}, {"message", msg}});
  }
  j["progress"] = progress;
  if (op.reply) {
    j["http_status"] = op.reply->http_status;
    nlohmann::json r = nlohmann::json::parse(op.reply->body, nullptr, false);
    j["result"] = r.is_discarded() ? nlohmann::json(op.reply->body) : r;
  } else {
    j["http_status"] = nullptr;
    j["result"] = nullptr;
  }
  return j;
}

std::optional<nlohmann::json> Operations::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(id);
  if (it == ops_.end()) return std::nullopt;
  return ToJson(*it->second, true);
}

nlohmann::json Operations::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json list = nlohmann::json::array();
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    auto op = ops_.find(*it);
    if (op != ops_.end()) list.push_back(ToJson(*op->second, false));
  }
  return {{"operations", list}};
}

bool Operations::Wait(const std::string& id, int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    auto it = ops_.find(id);
    return it == ops_.end() || it->second->reply.has_value();
  });
}

std::optional<Reply> Operations::Result(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(id);
  if (it == ops_.end()) return std::nullopt;
  return it->second->reply;
}

int Operations::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

void Operations::WaitIdle() const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return running_ == 0; });
}

}  // namespace pcipass::daemon
