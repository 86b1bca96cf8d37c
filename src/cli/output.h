// Output helpers shared by the commands: exit codes, error printing, simple
// aligned tables.
#ifndef PCIPASS_CLI_OUTPUT_H_
#define PCIPASS_CLI_OUTPUT_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "core/status.h"

namespace pcipass::cli {

// Exit statuses of the pcipass binary.
inline constexpr int kExitOk = 0;       // success / ready
inline constexpr int kExitRefused = 1;  // not ready, refused, invalid config
inline constexpr int kExitUsage = 2;    // usage or internal error
// Upper bound of every --timeout-ms style option (one hour).
inline constexpr int kMaxWriteTimeoutMs = 3600000;

// The one mapping from Status to exit status: OK -> 0; invalid_argument and
// internal -> 2; everything else (not found, precondition, conflict,
// unavailable, I/O) -> 1.
int ExitCodeFor(const Status& status);

// Prints "pcipass: <message>" to |err| (or {"error": {...}} to |out| when
// |json|) and returns ExitCodeFor(status).
int ReportError(const Status& status, bool json, std::ostream& out,
                std::ostream& err);

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
