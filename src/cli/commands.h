// The subcommand table (after ninja's Tool table): each command has a name,
// a one-line help text and a Setup function that adds its own flags to a
// CLI11 subcommand and returns the function that runs it.
//
// To add a command: write cmd_<verb>.cc with a Setup<Verb>Command function,
// declare it below, and add one row to kCommands in commands.cc.
#ifndef PCIPASS_CLI_COMMANDS_H_
#define PCIPASS_CLI_COMMANDS_H_

#include <functional>
#include <span>

#include "cli/context.h"

namespace CLI {
class App;
}

namespace pcipass::cli {

// Runs the command with the parsed flags; returns the process exit status.
using RunFn = std::function<int(CommandContext&)>;
// Adds the command's flags to |sub|; returns its runner.
using SetupFn = RunFn (*)(CLI::App& sub);

struct CommandSpec {
  const char* name;
  const char* help;
  SetupFn setup;
};

std::span<const CommandSpec> AllCommands();

// Parses argv, runs the chosen command and returns the exit status. The
// entry point of the pcipass binary (and of the CLI tests).
int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err);

RunFn SetupCheckCommand(CLI::App& sub);
RunFn SetupClaimCommand(CLI::App& sub);
RunFn SetupClaimsCommand(CLI::App& sub);
RunFn SetupClusterCommand(CLI::App& sub);
RunFn SetupFitCommand(CLI::App& sub);
RunFn SetupHistoryCommand(CLI::App& sub);
RunFn SetupReconcileCommand(CLI::App& sub);
RunFn SetupReleaseCommand(CLI::App& sub);
RunFn SetupUsageCommand(CLI::App& sub);
RunFn SetupDetachCommand(CLI::App& sub);
RunFn SetupGroupsCommand(CLI::App& sub);
RunFn SetupHotplugCommand(CLI::App& sub);
RunFn SetupReattachCommand(CLI::App& sub);
RunFn SetupSriovCommand(CLI::App& sub);
RunFn SetupVfioCheckCommand(CLI::App& sub);
RunFn SetupApplyCommand(CLI::App& sub);
RunFn SetupConfigCommand(CLI::App& sub);
RunFn SetupExplainCommand(CLI::App& sub);
RunFn SetupListCommand(CLI::App& sub);
RunFn SetupShowCommand(CLI::App& sub);
RunFn SetupVersionCommand(CLI::App& sub);
RunFn SetupVmConfigCommand(CLI::App& sub);

}  // namespace pcipass::cli

#endif  // PCIPASS_CLI_COMMANDS_H_
