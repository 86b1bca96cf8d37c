// pcipass config check [FILE]: validates a config (the file given, else
// --config / PCIPASS_CONFIG) and lists EVERY error, each with its file:line,
// entry, key, bad value and what is accepted. Exit 0 valid, 1 invalid or
// unreadable, 2 when no config was named.
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
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
  const Config& cfg = load.config;
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
    for (const auto& [name, alias] : cfg.aliases.aliases()) names.push_back(name);
    j["aliases"] = names;
    j["sections"] = cfg.ini.Sections();
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
      ctx.out() << "  " << e.message() << "\n";
    }
    return kExitRefused;
  }
  ctx.out() << path << ": valid: " << cfg.device_specs.size()
            << " device_spec entr" << (cfg.device_specs.size() == 1 ? "y" : "ies")
            << ", " << cfg.aliases.aliases().size() << " alias"
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
