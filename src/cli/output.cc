#include "cli/output.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/context.h"
#include "core/values.h"

namespace pcipass::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kInternal:
      return kExitUsage;
    default:
      return kExitRefused;
  }
}

int ReportError(const Status& status, bool json, std::ostream& out,
                std::ostream& err) {
  if (json) {
    nlohmann::json j;
    j["error"] = {{"code", std::string(StatusCodeName(status.code()))},
                  {"message", ClipLongNumbers(status.message())}};
    out << j.dump(2) << "\n";
  } else {
    err << "pcipass: " << ClipLongNumbers(status.message()) << "\n";
  }
  return ExitCodeFor(status);
}

int ReportFailure(const service::Reply& reply, CommandContext& ctx) {
  if (ctx.json()) {
    ctx.out() << reply.json.dump(2) << "\n";
  } else if (reply.json.contains("error") &&
             reply.json["error"].value("code", "") == "invalid_config") {
    ctx.err() << "pcipass: "
              << reply.json["error"]["message"].get<std::string>() << ":\n";
    for (const std::string& e : reply.config_errors) {
      ctx.err() << "  " << ClipLongNumbers(e) << "\n";
    }
    ctx.err() << "Run 'pcipass config check' after fixing it.\n";
  } else {
    ctx.err() << "pcipass: " << ClipLongNumbers(reply.status.message()) << "\n";
  }
  return reply.ExitCode();
}

void PrintWarnings(const service::Reply& reply, CommandContext& ctx,
                   const char* prefix) {
  for (const std::string& w : reply.warnings) {
    ctx.err() << "pcipass: " << prefix << w << "\n";
  }
}

Table::Table(std::vector<std::string> header) {
  rows_.push_back(std::move(header));
}

void Table::AddRow(std::vector<std::string> row) {
  rows_.push_back(std::move(row));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

}  // namespace pcipass::cli
