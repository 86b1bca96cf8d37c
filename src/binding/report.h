// Rendering hand-off results for the CLI: the plain-text lines operators
// read and the stable JSON (snake_case) that scripts parse. Shared by
// detach, reattach, sriov and apply so they all look alike.
#ifndef PCIPASS_BINDING_REPORT_H_
#define PCIPASS_BINDING_REPORT_H_

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "binding/handoff.h"

namespace pcipass {

// {"dry_run", "writes": [{"path","value","why"}], "changed": [addr...],
//  "already_done": [addr...], "notes": [...]}.
nlohmann::json HandOffReportToJson(const HandOffReport& report, bool dry_run);

// Text: with |dry_run| (or |show_writes|) every write as
// "  write <value> > <path>   # <why>", then one line per device
// ("0000:01:00.0  <done_word>"), "already ..." lines and "note: ..." lines.
void PrintHandOffReport(std::ostream& out, const HandOffReport& report,
                        bool dry_run, bool show_writes,
                        const std::string& done_word,
                        const std::string& already_word);

}  // namespace pcipass

#endif  // PCIPASS_BINDING_REPORT_H_
