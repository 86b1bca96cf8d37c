#include "binding/report.h"

namespace pcipass {

nlohmann::json HandOffReportToJson(const HandOffReport& report, bool dry_run) {
  nlohmann::json j;
  j["dry_run"] = dry_run;
  j["writes"] = nlohmann::json::array();
  for (const PlannedWrite& w : report.writes) {
    j["writes"].push_back(
        {{"path", w.path}, {"value", w.value}, {"why", w.why}});
  }
  j["changed"] = nlohmann::json::array();
  for (const auto& a : report.changed) j["changed"].push_back(a.ToString());
  j["already_done"] = nlohmann::json::array();
  for (const auto& a : report.already_done) {
    j["already_done"].push_back(a.ToString());
  }
  j["left_unbound"] = nlohmann::json::array();
  for (const auto& a : report.left_unbound) {
    j["left_unbound"].push_back(a.ToString());
  }
  j["notes"] = report.notes;
  return j;
}

void PrintHandOffReport(std::ostream& out, const HandOffReport& report,
                        bool dry_run, bool show_writes,
                        const std::string& done_word,
                        const std::string& already_word) {
  if (dry_run || show_writes) {
    out << (dry_run ? "dry run: would write, in order:\n"
                    : "writes, in order:\n");
    if (report.writes.empty()) out << "  (nothing)\n";
    for (const PlannedWrite& w : report.writes) {
      if (w.path == "modprobe") {
        out << "  modprobe " << w.value << "   # " << w.why << "\n";
        continue;
      }
      std::string v = w.value == "\n" ? "\"\"" : w.value;
      out << "  echo " << v << " > " << w.path << "   # " << w.why << "\n";
    }
  }
  for (const auto& a : report.changed) {
    out << a.ToString() << "  " << (dry_run ? "would be " : "") << done_word
        << "\n";
  }
  for (const auto& a : report.already_done) {
    out << a.ToString() << "  " << already_word << " (nothing to do)\n";
  }
  for (const auto& a : report.left_unbound) {
    out << a.ToString() << "  " << (dry_run ? "would be " : "")
        << "taken off vfio-pci and left unbound (original driver unknown)\n";
  }
  for (const auto& n : report.notes) out << "note: " << n << "\n";
}

}  // namespace pcipass
