// Output helpers shared by the commands: exit codes, error printing, simple
// aligned tables.
#ifndef PCIPASS_CLI_OUTPUT_H_
#define PCIPASS_CLI_OUTPUT_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/values.h"
#include "service/reply.h"

namespace pcipass::cli {

// Exit statuses of the pcipass binary.
inline constexpr int kExitOk = 0;       // success / ready
inline constexpr int kExitRefused = 1;  // not ready, refused, invalid config
inline constexpr int kExitUsage = 2;    // usage or internal error

// The one mapping from Status to exit status: OK -> 0; invalid_argument and
// internal -> 2; everything else (not found, precondition, conflict,
// unavailable, I/O) -> 1.
int ExitCodeFor(const Status& status);

// Prints "pcipass: <message>" to |err| (or {"error": {...}} to |out| when
// |json|) and returns ExitCodeFor(status).
int ReportError(const Status& status, bool json, std::ostream& out,
                std::ostream& err);

class CommandContext;

// Prints a failed service reply (reply.failed) the way ReportError does:
// its error document on stdout with --json, else "pcipass: <message>" on
// stderr (an invalid config: every error, then how to re-check). Returns
// reply.ExitCode().
int ReportFailure(const service::Reply& reply, CommandContext& ctx);

// Prints reply.warnings as "pcipass: <prefix><warning>" lines on stderr.
void PrintWarnings(const service::Reply& reply, CommandContext& ctx,
                   const char* prefix = "warning: ");

// A plain-text table: columns padded to the widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> row);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace pcipass::cli

#endif  // PCIPASS_CLI_OUTPUT_H_
