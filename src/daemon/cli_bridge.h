// CliBridge: runs one pcipass operation in-process through the CLI's own
// command table (cli::RunCli with --json) and turns its result into an
// HTTP reply. This is how routes reach operations that the shared service
// layer (src/service) does not cover yet: the JSON is then byte-for-byte
// the CLI's --json, and no operation logic lives in the daemon. Each call
// opens its own session and ledger connection, like a pcipass process;
// the SQLite ledger serializes writers (BEGIN IMMEDIATE).
#ifndef PCIPASS_DAEMON_CLI_BRIDGE_H_
#define PCIPASS_DAEMON_CLI_BRIDGE_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pcipass::daemon {

// The global flags every operation runs with (the daemon's own).
struct HostFlags {
  std::string root;
  std::string config;
  std::string state;
  std::string pci_ids;
};

struct Reply {
  int http_status = 200;
  // The body as text (already JSON), so big outputs (devices) are not
  // parsed and re-serialized on the way through.
  std::string body;
  std::string content_type = "application/json";
};

// Runs `pcipass --json <host flags> <args...>`. |progress| (optional) gets
// each line the command writes to stderr as it writes it. The reply:
//   exit 0             -> 200 with the command's JSON;
//   exit 1 without an "error" object (not ready, does not fit) -> 200;
//   an "error" object  -> its code's HTTP status, field/fix added;
//   no JSON at all     -> 400 (usage error) with stderr as the message.
Reply RunCliOperation(const HostFlags& flags,
                      const std::vector<std::string>& args,
                      const std::function<void(const std::string&)>& progress,
                      int success_status = 200);

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_CLI_BRIDGE_H_
