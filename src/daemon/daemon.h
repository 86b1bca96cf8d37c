// Daemon: pcipassd's process: flags, the Unix-socket server (default), the
// optional TCP/TLS server, the reconcile loop, signals and systemd
// readiness.
//
// Lifecycle: the config is validated (an invalid one stops the start with
// every error), one reconcile pass runs (so a ledger left by a killed
// daemon matches the host before the first request), the servers bind,
// READY=1 goes to systemd. SIGHUP re-reads the token file and the socket
// group and re-validates the config (operations always read the config
// file as it is, like the CLI; an invalid file is reported in the log and
// in pcipassd_config_valid, and the daemon keeps running). SIGTERM/SIGINT
// stop accepting, let in-flight requests and running operations finish,
// and Run returns 0.
#ifndef PCIPASS_DAEMON_DAEMON_H_
#define PCIPASS_DAEMON_DAEMON_H_

#include <iosfwd>
#include <string>

#include "core/status.h"

namespace pcipass::daemon {

struct DaemonOptions {
  std::string root;
  std::string config;
  std::string state;
  std::string pci_ids;
  std::string socket;        // default <root>/run/pcipass/pcipassd.sock
  std::string socket_group;  // "" = root only
  std::string listen;        // "" = no TCP; "PORT", ":PORT", "HOST:PORT"
  std::string token_file;    // required with --listen
  std::string tls_cert;
  std::string tls_key;
  int reconcile_interval_s = 60;  // 0 = only at start
  int workers = 8;
  size_t max_body_bytes = size_t{64} * 1024;
};

// Parses pcipassd's command line. Returns the exit status to use when the
// process should stop now (--help: 0, a bad flag: 2), else -1.
int ParseDaemonArgs(int argc, const char* const* argv, DaemonOptions* options,
                    std::ostream& out, std::ostream& err);

// Runs until SIGTERM/SIGINT; returns the process exit status (0 after a
// clean drain, 1 when it could not start). Blocks SIGTERM, SIGINT and
// SIGHUP in the calling thread first (call before starting any thread).
int RunDaemon(const DaemonOptions& options, std::ostream& log);

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_DAEMON_H_
