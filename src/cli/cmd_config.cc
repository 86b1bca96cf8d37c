// pcipass config check [FILE]: validates a config (the file given, else
// --config / PCIPASS_CONFIG): the [pci] selection rules (every error, each
// with its file:line, entry, key, bad value and what is accepted), the
// [host] desired state read by `pcipass apply`, and the [claims] settings
// read by the claims commands. Exit 0 valid, 1 invalid or unreadable, 2
// when no config was named.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/values.h"
#include "service/inventory_ops.h"

namespace pcipass::cli {

namespace {

struct ConfigFlags {
  CLI::App* check = nullptr;
  std::string file;
};

int RunCheck(const ConfigFlags& flags, CommandContext& ctx) {
  service::ConfigCheckReply r = service::CheckConfig(ctx.Env(), {flags.file});
  if (r.failed) return ReportFailure(r, ctx);
  const std::string& path = r.path;
  if (ctx.json()) {
    ctx.out() << r.json.dump(2) << "\n";
    return r.ExitCode();
  }
  if (r.not_found) {
    ctx.out() << path << ": NOT FOUND\n";
    ctx.err() << "pcipass: " << r.errors.front().message() << "\n";
    return kExitRefused;
  }
  for (const std::string& w : r.load_warnings) {
    ctx.err() << "pcipass: warning: " << w << "\n";
  }
  if (!r.valid) {
    ctx.out() << path << ": INVALID, " << r.errors.size() << " error"
              << (r.errors.size() == 1 ? "" : "s") << ":\n";
    for (const Status& e : r.errors) {
      ctx.out() << "  " << ClipLongNumbers(e.message()) << "\n";
    }
    return kExitRefused;
  }
  ctx.out() << path << ": valid: " << r.device_specs << " device_spec entr"
            << (r.device_specs == 1 ? "y" : "ies") << ", " << r.aliases.size()
            << " alias" << (r.aliases.size() == 1 ? "" : "es");
  if (!r.aliases.empty()) {
    ctx.out() << " (";
    bool first = true;
    for (const std::string& name : r.aliases) {
      ctx.out() << (first ? "" : ", ") << name;
      first = false;
    }
    ctx.out() << ")";
  }
  if (!r.host_state_empty) {
    ctx.out() << "; [host]: " << r.host_vfio_selectors << " vfio selector"
              << (r.host_vfio_selectors == 1 ? "" : "s") << ", "
              << r.host_sriov_targets << " sriov target"
              << (r.host_sriov_targets == 1 ? "" : "s");
  }
  ctx.out() << "\n";
  return kExitOk;
}

}  // namespace

RunFn SetupConfigCommand(CLI::App& sub) {
  auto flags = std::make_shared<ConfigFlags>();
  sub.require_subcommand(1);
  flags->check =
      sub.add_subcommand("check", "validate a config and list every error");
  flags->check->fallthrough();
  flags->check->add_option("FILE", flags->file,
                           "config file (default: --config / "
                           "$PCIPASS_CONFIG)");
  return [flags](CommandContext& ctx) -> int {
    if (flags->check->parsed()) return RunCheck(*flags, ctx);
    return ReportError(Status::InvalidArgument("config: unknown subcommand"),
                       ctx.json(), ctx.out(), ctx.err());
  };
}

}  // namespace pcipass::cli
