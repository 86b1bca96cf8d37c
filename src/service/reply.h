// The service layer's common types: the environment every operation runs
// in (ServiceEnv), the outcome classes (Outcome) and the reply every
// operation returns (Reply). See service/service.h for how to call the
// operations.
#ifndef PCIPASS_SERVICE_REPLY_H_
#define PCIPASS_SERVICE_REPLY_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/host_root.h"
#include "core/status.h"

namespace pcipass::service {

// One step of a long operation (detach, reattach, claim, release, sriov,
// apply, hotplug), reported while it runs so a daemon can stream it.
struct ProgressEvent {
  std::string operation;  // "detach", "claim", ...
  std::string step;       // "plan", "ledger", "handoff", "done", ...
  std::string detail;     // human-readable
};
using ProgressFn = std::function<void(const ProgressEvent&)>;

// Everything an operation needs to know about where it runs. Values are
// already resolved: the service reads no environment variable and no
// global state (the CLI resolves --root/$PCIPASS_ROOT etc. before calling).
struct ServiceEnv {
  HostRoot host;            // plays the part of "/"
  std::string config_path;  // "" = no config: no device is allowed
  std::string state_dir;    // journal, lock, ledger.sqlite
  std::string pci_ids;      // pci.ids path; "" = the system's
  // Written as Event::who in the ledger's history for changes made by this
  // call ("" = "user=<login> pid=<pid>" of the process). A daemon passes
  // the authenticated peer, e.g. "uid=1000 pid=4242 via pcipassd".
  std::string who;
  // Called (on the calling thread) at each step of a long operation; may be
  // empty. Must not throw.
  ProgressFn progress;
};

// How an operation ended, for exit statuses and HTTP codes.
enum class Outcome {
  kOk,        // exit 0, HTTP 200
  kRefused,   // exit 1, HTTP 409 (422 for an invalid config; 503 busy)
  kBadInput,  // exit 2, HTTP 400
  kNotFound,  // exit 1, HTTP 404
  kInternal,  // exit 1 (2 for StatusCode::kInternal), HTTP 500
};
// "ok", "refused", "bad_input", "not_found", "internal".
const char* OutcomeName(Outcome outcome);
// OK -> kOk; invalid_argument -> kBadInput; not_found -> kNotFound;
// already_exists, failed_precondition, conflict, unavailable -> kRefused;
// permission_denied, io_error, data_loss, internal -> kInternal.
Outcome OutcomeFor(StatusCode code);

// What every operation returns. Operation-specific replies derive from it
// and add the typed data the CLI's text renderer needs.
struct Reply {
  // OK, or why the operation failed or refused. A refusal that still has a
  // full answer (fit "does not fit", check "not ready", explain "not
  // assignable") has a non-OK status AND the normal document in |json|
  // (failed = false).
  Status status;
  // true: no answer was produced; |json| is the error document
  // {"error": {"code", "message"[, "errors"]}} the CLI prints with --json.
  bool failed = false;
  // An invalid config: every error, in order (FailedPrecondition, HTTP 422;
  // from FailConfig json["error"]["code"] is "invalid_config").
  std::vector<std::string> config_errors;
  // The document `pcipass <command> --json` prints (same keys, shapes and
  // key order).
  nlohmann::ordered_json json;
  // Things the CLI prints to stderr ("pcipass: warning: ..."): never on
  // stdout, never in |json| unless the command's JSON already had them.
  std::vector<std::string> warnings;

  bool ok() const { return status.ok(); }
  Outcome outcome() const { return OutcomeFor(status.code()); }
  // 0 ok; 2 invalid_argument and internal; 1 otherwise (cli/output.h).
  int ExitCode() const;
  // 200 ok; 400 bad input; 404 not found; 422 invalid config; 409 other
  // refusals; 503 unavailable (ledger or device busy); 500 internal.
  int HttpStatus() const;

  // Marks this reply failed with |status| and fills the error document.
  void Fail(const Status& status);
  // Marks this reply failed because the config at |path| is invalid.
  void FailConfig(const std::string& path, const std::vector<Status>& errors);
};

// The {"error": {"code", "message"}} document for |status|.
nlohmann::ordered_json ErrorJson(const Status& status);

}  // namespace pcipass::service

#endif  // PCIPASS_SERVICE_REPLY_H_
