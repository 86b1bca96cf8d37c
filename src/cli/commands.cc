#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/output.h"
#include "core/lock_wait.h"
#include "core/values.h"

namespace pcipass::cli {

namespace {

const CommandSpec kCommands[] = {
    {"check", "is this host ready for PCI passthrough? (exit 0 ready, 1 not)",
     SetupCheckCommand},
    {"detach", "hand devices to vfio-pci (safely, whole groups, rollback)",
     SetupDetachCommand},
    {"groups", "IOMMU groups, their members and whether VFIO can use them",
     SetupGroupsCommand},
    {"hotplug", "plug an instance's devices into its running VM (QMP)",
     SetupHotplugCommand},
    {"reattach", "give detached devices back to their host drivers",
     SetupReattachCommand},
    {"sriov", "set a PF's VF count safely and list its VFs", SetupSriovCommand},
    {"vfio-check", "prove a VMM can open a device through VFIO",
     SetupVfioCheckCommand},
    {"apply", "make the host match the [host] desired state (vfio, VFs)",
     SetupApplyCommand},
    {"fit", "could this host satisfy a request now, and with which devices?",
     SetupFitCommand},
    {"claim", "give devices to an instance by alias request (ledger + vfio)",
     SetupClaimCommand},
    {"release", "free an instance's devices (optionally back to the host)",
     SetupReleaseCommand},
    {"claims", "what each instance holds, from the ledger", SetupClaimsCommand},
    {"cluster",
     "the cluster: hosts, claims, place, release, explain, agent (PostgreSQL)",
     SetupClusterCommand},
    {"history", "the ledger's event history", SetupHistoryCommand},
    {"reconcile", "compare the ledger with the host and record the drift",
     SetupReconcileCommand},
    {"usage", "device-hours per instance and alias", SetupUsageCommand},
    {"list", "every PCI function: ids, driver, group, allowed, assignable",
     SetupListCommand},
    {"show", "everything known about one PCI function", SetupShowCommand},
    {"explain", "why a device is or is not selected and assignable",
     SetupExplainCommand},
    {"config", "validate the selection config: pcipass config check [FILE]",
     SetupConfigCommand},
    {"version", "print the pcipass version", SetupVersionCommand},
    {"vm-config", "libvirt XML / QEMU args for an instance's devices",
     SetupVmConfigCommand},
};

// The first word that is not a global option or its value: what the user
// meant as the command (for the "unknown command" message). "" if none.
std::string FirstCommandWord(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--root" || a == "--config" || a == "--state" ||
        a == "--pci-ids" || a == "--lock-timeout") {
      ++i;  // its value
      continue;
    }
    if (!a.empty() && a[0] == '-') continue;
    return std::string(a);
  }
  return "";
}

bool IsCommand(std::string_view word) {
  for (const CommandSpec& spec : kCommands) {
    if (word == spec.name) return true;
  }
  return false;
}

// "" when every location flag is usable; else the error for the first one
// given empty, naming it and the fix. (An empty PCIPASS_ROOT/CONFIG/STATE
// means unset, the usual way to clear a variable for one command.)
std::string EmptyLocationError(const CLI::App& app) {
  struct Location {
    const char* flag;
    const char* fix;
  };
  static constexpr Location kLocations[] = {
      {"--root",
       "give the directory that plays the part of / (a fixture tree), or "
       "leave --root out for the real host"},
      {"--config",
       "give the config file's path, or leave --config out for no config"},
      {"--state",
       "give the state directory, or leave --state out for the default "
       "(<root>/var/lib/pcipass)"},
  };
  for (const Location& l : kLocations) {
    const CLI::Option* opt = app.get_option(l.flag);
    if (opt->count() == 0) continue;
    for (const std::string& v : opt->results()) {
      if (v.empty()) return std::string(l.flag) + " is empty; " + l.fix;
    }
  }
  return "";
}

}  // namespace

std::span<const CommandSpec> AllCommands() { return kCommands; }

int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err) {
  CommandContext ctx(out, err);
  GlobalOptions& g = ctx.options();
  CLI::App app{"pcipass: safe PCI passthrough for KVM hosts", "pcipass"};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default(false);
  app.add_option("--root", g.root,
                 "directory that plays the part of / (sysfs fixture trees, "
                 "lab); default: $PCIPASS_ROOT or /");
  app.add_option("--config", g.config_path,
                 "pcipass/nova-style INI config; default: $PCIPASS_CONFIG");
  app.add_option("--state", g.state_dir,
                 "state directory (journal, lock, ledger); default: "
                 "$PCIPASS_STATE or /var/lib/pcipass");
  app.add_option("--pci-ids", g.pci_ids,
                 "pci.ids names database; default: the system's");
  app.add_flag("--json", g.json, "machine-readable output on stdout");
  app.add_flag("-v,--verbose", g.verbosity, "more diagnostics on stderr");
  app.add_option("--lock-timeout", g.lock_timeout,
                 "seconds to wait for the ledger/state lock of another "
                 "pcipass (0..3600, default 10; [claims] lock_timeout)");

  RunFn chosen;
  for (const CommandSpec& spec : kCommands) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.help);
    sub->fallthrough();  // global flags may follow the verb
    RunFn run = spec.setup(*sub);
    sub->callback([&chosen, run] { chosen = run; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      // --help on a subcommand.
      return app.exit(e, out, err);
    }
    std::string word = FirstCommandWord(argc, argv);
    if (!IsCommand(word)) {
      if (word.empty()) {
        err << "pcipass: no command given; commands are:";
      } else {
        err << "pcipass: unknown command '" << word << "'; commands are:";
      }
      for (const CommandSpec& spec : kCommands) err << " " << spec.name;
      err << "\nRun 'pcipass --help' for what each does.\n";
      return kExitUsage;
    }
    err << "pcipass: " << ClipLongNumbers(e.what()) << "\n"
        << "Run 'pcipass --help' for the list of commands.\n";
    return kExitUsage;
  }
  if (!chosen) {
    err << "pcipass: no command given\n";
    return kExitUsage;
  }
  // An empty root, config or state must never mean the real host's "/" or
  // a default (a script's `--root "$DIR"` with DIR unset would otherwise
  // act on the live host).
  if (std::string bad = EmptyLocationError(app); !bad.empty()) {
    err << "pcipass: " << bad << "\n";
    return kExitUsage;
  }
  if (!g.pci_ids.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(g.pci_ids, ec)) {
      err << "pcipass: --pci-ids " << g.pci_ids << ": "
          << (std::filesystem::exists(g.pci_ids, ec) ? "not a regular file"
                                                     : "not found")
          << "; give the path of a pci.ids file (e.g. from the pciutils or "
             "hwdata package) or leave --pci-ids out for the system's\n";
      return kExitUsage;
    }
  }
  if (!g.lock_timeout.empty()) {
    std::string why;
    std::optional<int> t =
        ParseLockTimeoutSeconds(g.lock_timeout, "--lock-timeout", &why);
    if (!t) {
      err << "pcipass: " << why << "\n";
      return kExitUsage;
    }
    LockWaitPolicy policy = CurrentLockWaitPolicy();
    policy.timeout_ms = *t * 1000;
    policy.timeout_from_flag = true;
    SetLockWaitPolicy(policy);
  }
  return chosen(ctx);
}

RunFn SetupVersionCommand(CLI::App& /*sub*/) {
  return [](CommandContext& ctx) {
    if (ctx.json()) {
      ctx.out() << nlohmann::json{{"version", "0.1.0"}}.dump() << "\n";
    } else {
      ctx.out() << "pcipass 0.1.0\n";
    }
    return kExitOk;
  };
}

}  // namespace pcipass::cli
