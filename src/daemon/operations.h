// Operations: long requests (hand-offs: detach, reattach, sriov, apply,
// hot-plug) run in their own thread and are visible as a resource,
//   GET /v1/operations/{id} -> {"id", "kind", "state", "created",
//        "started", "finished", "progress": [{"at", "message"}],
//        "http_status", "result"}
// state: "running" -> "succeeded" | "failed". progress grows while the
// operation runs (each line the operation reports); result is the same
// JSON the CLI prints (or the error) once it is done. The most recent
// kMaxKept operations are kept.
//
// Shutdown: WaitIdle() blocks until every running operation finished (a
// hand-off is never cut mid-way by SIGTERM).
#ifndef PCIPASS_DAEMON_OPERATIONS_H_
#define PCIPASS_DAEMON_OPERATIONS_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "daemon/http_reply.h"

namespace pcipass::daemon {

class Operations {
 public:
  static constexpr size_t kMaxKept = 256;
  // Reports one progress line of a running operation.
  using ProgressFn = std::function<void(const std::string&)>;
  using Body = std::function<Reply(const ProgressFn&)>;

  // Starts |body| in a new thread; returns the operation's id.
  // |on_done| runs in that thread after the result is stored.
  std::string Start(const std::string& kind, Body body,
                    std::function<void(const Reply&)> on_done);
  // The operation's JSON; nullopt for an unknown (or expired) id.
  std::optional<nlohmann::json> Get(const std::string& id) const;
  // Every kept operation, newest first, without results.
  nlohmann::json List() const;
  // Blocks until |id| is done (or |timeout_ms| passed); false on timeout.
  bool Wait(const std::string& id, int timeout_ms) const;
  // The finished reply of |id| (only after Wait returned true).
  std::optional<Reply> Result(const std::string& id) const;
  int Running() const;
  // Blocks until no operation is running.
  void WaitIdle() const;

 private:
  struct Op {
    std::string id;
    std::string kind;
    std::string state = "running";
    int64_t created_ms = 0;
    int64_t finished_ms = 0;
    std::vector<std::pair<int64_t, std::string>> progress;
    std::optional<Reply> reply;
  };
  nlohmann::json ToJson(const Op& op, bool with_result) const;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Op>> ops_;
  std::deque<std::string> order_;
  uint64_t next_ = 1;
  int running_ = 0;
};

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_OPERATIONS_H_
