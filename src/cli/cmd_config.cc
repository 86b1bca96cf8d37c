// pcipass config check [FILE]: validates a config (the file given, else
// --config / PCIPASS_CONFIG): the [pci] selection rules (every error, each
// with its file:line, entry, key, bad value and what is accepted), the
// [host] desired state read by `pcipass apply`, and the [claims] settings
// read by the claims commands. Exit 0 valid, 1 invalid or unreadable, 2
// when no config was named.
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "binding/desired_state.h"
#include "claims/service.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "core/values.h"
#include "select/config.h"

namespace pcipass::cli {

namespace {

struct ConfigFlags {
  CLI::App* check = nullptr;
  std::string file;
};

int RunCheck(const ConfigFlags& flags, CommandContext& ctx) {
  std::string path = flags.file.empty() ? ctx.ConfigPath() : flags.file;
  if (path.empty()) {
    return ReportError(
        Status::InvalidArgument("config check needs a file: pcipass config "
                                "check FILE, or --config FILE"),
        ctx.json(), ctx.out(), ctx.err());
  }
  ConfigLoad load = LoadConfig(path, ctx.host());
  if (load.not_found && !ctx.json()) {
    ctx.out() << path << ": NOT FOUND\n";
    ctx.err() << "pcipass: " << load.errors.front().message() << "\n";
    return kExitRefused;
  }
  const Config& cfg = load.config;
  // The other layers' sections: an error there would otherwise only show
  // when `apply` or `claim` runs, possibly at boot.
  HostDesiredState host_state;
  if (!cfg.ini.Sections().empty()) {
    std::vector<Status> host_errors;
    host_state = ParseHostSection(cfg.ini, &host_errors);
    for (Status& e : host_errors) load.errors.push_back(std::move(e));
    Result<claims::ClaimsSettings> c = claims::ReadClaimsSettings(cfg.ini);
    if (!c.ok()) load.errors.push_back(c.status());  // names file:line
  }
  if (ctx.json()) {
    nlohmann::json j;
    j["path"] = path;
    j["valid"] = load.ok();
    nlohmann::json errors = nlohmann::json::array();
    for (const Status& e : load.errors) {
      errors.push_back({{"code", std::string(StatusCodeName(e.code()))},
                        {"message", e.message()}});
    }
    j["errors"] = errors;
    j["warnings"] = load.warnings;
    j["device_specs"] = cfg.device_specs.size();
    nlohmann::json names = nlohmann::json::array();
    for (const auto& [name, alias] : cfg.aliases.aliases())
      names.push_back(name);
    j["aliases"] = names;
    j["sections"] = cfg.ini.Sections();
    j["host_vfio_selectors"] = host_state.vfio.size();
    j["host_sriov_targets"] = host_state.sriov.size();
    ctx.out() << j.dump(2) << "\n";
    return load.ok() ? kExitOk : kExitRefused;
  }
  for (const std::string& w : load.warnings) {
    ctx.err() << "pcipass: warning: " << w << "\n";
  }
  if (!load.ok()) {
    ctx.out() << path << ": INVALID, " << load.errors.size() << " error"
              << (load.errors.size() == 1 ? "" : "s") << ":\n";
    for (const Status& e : load.errors) {
      ctx.out() << "  " << ClipLongNumbers(e.message()) << "\n";
    }
    return kExitRefused;
  }
  ctx.out() << path << ": valid: " << cfg.device_specs.size()
            << " device_spec entr"
            << (cfg.device_specs.size() == 1 ? "y" : "ies") << ", "
            << cfg.aliases.aliases().size() << " alias"
            << (cfg.aliases.aliases().size() == 1 ? "" : "es");
  if (!cfg.aliases.empty()) {
    ctx.out() << " (";
    bool first = true;
    for (const auto& [name, alias] : cfg.aliases.aliases()) {
      ctx.out() << (first ? "" : ", ") << name;
      first = false;
    }
    ctx.out() << ")";
  }
  if (!host_state.empty()) {
    ctx.out() << "; [host]: " << host_state.vfio.size() << " vfio selector"
              << (host_state.vfio.size() == 1 ? "" : "s") << ", "
              << host_state.sriov.size() << " sriov target"
              << (host_state.sriov.size() == 1 ? "" : "s");
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
