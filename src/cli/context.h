// CommandContext: what every CLI command gets: the global flags, the host
// root, output streams, and lazily loaded shared state.
//
// stdout carries data only (a table, or JSON with --json); diagnostics go to
// stderr. A command reports its exit status through the return value of its
// run function (see commands.h).
#ifndef PCIPASS_CLI_CONTEXT_H_
#define PCIPASS_CLI_CONTEXT_H_

#include <iosfwd>
#include <string>

#include "core/host_root.h"
#include "service/reply.h"

namespace pcipass::cli {

struct GlobalOptions {
  std::string root;          // --root (or env PCIPASS_ROOT)
  std::string config_path;   // --config (or PCIPASS_CONFIG)
  std::string state_dir;     // --state (or PCIPASS_STATE)
  std::string pci_ids;       // --pci-ids (names database)
  bool json = false;         // --json
  int verbosity = 0;         // -v (repeatable)
  std::string lock_timeout;  // --lock-timeout SECONDS ("" = not given)
};

class CommandContext {
 public:
  CommandContext(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  GlobalOptions& options() { return options_; }
  const GlobalOptions& options() const { return options_; }
  bool json() const { return options_.json; }
  HostRoot host() const { return HostRoot::FromFlagOrEnv(options_.root); }
  // --state, else env PCIPASS_STATE, else <root>/var/lib/pcipass.
  std::string StateDir() const;
  // --config, else env PCIPASS_CONFIG, else "" (no config: nothing allowed).
  std::string ConfigPath() const;
  // The resolved environment for a service call (service/reply.h).
  service::ServiceEnv Env() const;

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

 private:
  GlobalOptions options_;
  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace pcipass::cli

#endif  // PCIPASS_CLI_CONTEXT_H_
