// Scheduler: pcipass-scheduler's service. Places PCI requests over the
// cluster's hosts with the in-memory index (cluster/index.h) and claims
// the devices atomically in PostgreSQL (ClusterStore::PlaceOnHost).
//
// REST over TCP (cpp-httplib), JSON bodies (docs/cluster.md "API"):
//   POST   /v1/placements             place a request -> 201 placement
//   GET    /v1/placements[?host=H]    list
//   GET    /v1/placements/{id}        one
//   POST   /v1/placements/{id}/confirm   the agent's hand-off is done
//   DELETE /v1/placements/{id}        release -> 204
//   GET    /v1/hosts                  hosts, alive or dead
//   GET    /v1/explain?host=H&request=gpu:2[&...]  why (not) host H
//   GET    /v1/health
// Errors are {"error": {"code": "<status code name>", "message": ...}}
// with 400 (bad request, naming the field), 404, 409 (no host can take
// it, with the per-filter breakdown; or a placement expired), 503 (the
// database is unreachable; retry with the same placement id).
//
// Placement: candidates from the index (summaries, then the best few by
// pack/spread), each tried in its own PostgreSQL transaction under the
// host row lock with the exact fit; a host that turns out stale is
// reloaded and the next one tried. When every candidate failed, every
// host is reloaded in ONE repeatable-read snapshot and the exact fit run
// on all of them in memory: the request is refused (409) only when no host
// fits in that snapshot, i.e. no host could take it at that moment. A
// client-chosen placement id makes retries idempotent (a placement that
// exists is returned as is), so a client that lost its answer (scheduler
// killed, database restarted) retries without doubling anything.
//
// The index stays fresh through LISTEN pcipass_hosts (every change of a
// host's devices or claims bumps its generation and notifies), a cheap
// poll of every host's generation and heartbeat every second (catches a
// lost notification, e.g. across a database restart), and a full reload
// every resync period. A sweeper rolls back reservations past their
// expiry; any number of schedulers may run against one database.
#ifndef PCIPASS_CLUSTERDB_SCHEDULER_H_
#define PCIPASS_CLUSTERDB_SCHEDULER_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "claims/fit.h"
#include "core/status.h"
#include "select/alias.h"

namespace pcipass::clusterdb {

struct SchedulerOptions {
  std::string conninfo;
  std::string name;  // recorded on placements; default "scheduler-<pid>"
  std::string listen_host = "127.0.0.1";
  int listen_port = 8470;  // 0: any free port (see Scheduler::port())
  AliasTable aliases;      // [pci] alias of the config
  claims::Placement placement = claims::Placement::kPack;  // default weigher
  int dead_after_s = 30;
  int reservation_ttl_s = 60;
  int http_threads = 16;  // request threads = database connections
  int candidates = 8;     // exact fits tried before the full pass
  int sweep_interval_ms = 1000;
  int poll_interval_ms = 1000;
  int resync_interval_ms = 60000;
};

// The reply to one API call.
struct ApiReply {
  int status = 200;
  nlohmann::json body;
};

class Scheduler {
 public:
  // Connects, migrates the schema, loads the index, starts the HTTP
  // listener, the LISTEN thread and the sweeper. Errors: the database's;
  // Unavailable "cannot listen on HOST:PORT".
  static Result<std::unique_ptr<Scheduler>> Start(SchedulerOptions options);
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  int port() const;
  // Stops the listener and the threads (idempotent).
  void Stop();
  // Blocks until Stop() is called (from another thread or a signal).
  void Wait();

  // The API, callable without HTTP (tests).
  ApiReply Place(const nlohmann::json& body);
  ApiReply GetPlacement(const std::string& id);
  ApiReply ListPlacements(const std::string& host);
  ApiReply Confirm(const std::string& id);
  ApiReply Release(const std::string& id);
  ApiReply Hosts();
  ApiReply Explain(const std::string& host, const nlohmann::json& request);

  struct Impl;

 private:
  explicit Scheduler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The error body {"error": {"code", "message"}} and its HTTP status for
// |s| (InvalidArgument 400, NotFound 404, Conflict/AlreadyExists/
// FailedPrecondition 409, Unavailable 503, else 500).
ApiReply ErrorReply(const Status& s);

}  // namespace pcipass::clusterdb

#endif  // PCIPASS_CLUSTERDB_SCHEDULER_H_
