#include "clusterdb/pg.h"

#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <regex>
#include <utility>

namespace pcipass::clusterdb {

namespace {

std::string TrimMessage(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

// Maps a failed result (or a broken connection) to a Status.
Status ErrorStatus(std::string_view what, PGconn* conn, const PGresult* res) {
  std::string state;
  std::string msg;
  if (res) {
    const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (s) state = s;
    msg = TrimMessage(PQresultErrorMessage(res));
  }
  if (msg.empty()) msg = TrimMessage(PQerrorMessage(conn));
  std::string text = std::string(what) + ": " + msg;
  if (!state.empty()) text += " (SQLSTATE " + state + ")";
  if (PQstatus(conn) != CONNECTION_OK || state.rfind("08", 0) == 0 ||
      state == "57P01" || state == "57P02" || state == "57P03") {
    return Status::Unavailable(text + " [connection lost]");
  }
  if (state == "23505" || state == "23P01") return Status::Conflict(text);
  if (state == "40001" || state == "40P01" || state == "55P03") {
    return Status::Unavailable(text);
  }
  if (state == "22P02" || state == "22023") {
    return Status::InvalidArgument(text);
  }
  return Status::IOError(text);
}

}  // namespace

std::optional<std::string> PgResult::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

int64_t PgResult::Int(int row, int col) const {
  return OptInt(row, col).value_or(0);
}

std::optional<int64_t> PgResult::OptInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  const char* v = PQgetvalue(res_.get(), row, col);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v, v + std::strlen(v), out);
  if (ec != std::errc()) return std::nullopt;
  return out;
}

int64_t PgResult::Affected() const {
  if (!res_) return 0;
  const char* t = PQcmdTuples(res_.get());
  int64_t out = 0;
  std::from_chars(t, t + std::strlen(t), out);
  return out;
}

std::string RedactConninfo(const std::string& conninfo) {
  static const std::regex kv(R"((password\s*=\s*)('[^']*'|\S+))");
  static const std::regex url(R"((://[^:/@]*:)[^@]*@)");
  std::string s = std::regex_replace(conninfo, kv, "$1***");
  return std::regex_replace(s, url, "$1***@");
}

std::string QuoteIdent(std::string_view ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(
    const std::string& conninfo) {
  std::string full = conninfo;
  if (full.find("connect_timeout") == std::string::npos &&
      full.find("://") == std::string::npos) {
    full += " connect_timeout=10";
  }
  PGconn* conn = PQconnectdb(full.c_str());
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    std::string msg =
        conn ? TrimMessage(PQerrorMessage(conn)) : "out of memory";
    if (conn) PQfinish(conn);
    return Status::Unavailable("cannot connect to PostgreSQL (" +
                               RedactConninfo(conninfo) + "): " + msg);
  }
  // Quiet NOTICEs (e.g. "relation already exists, skipping").
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(full, conn));
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

Result<PgResult> PgConnection::Exec(std::string_view what,
                                    const std::string& sql,
                                    const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* res =
      PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                   values.data(), nullptr, nullptr, 0);
  PgResult owned(res);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return ErrorStatus(what, conn_, res);
  }
  return owned;
}

Status PgConnection::ExecScript(std::string_view what, const std::string& sql) {
  PGresult* res = PQexec(conn_, sql.c_str());
  PgResult owned(res);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return ErrorStatus(what, conn_, res);
  }
  return Status::Ok();
}

Status PgConnection::Transaction(const std::function<Status()>& fn) {
  Result<PgResult> begin = Exec("BEGIN", "BEGIN");
  if (!begin.ok()) return begin.status();
  Status s = fn();
  if (!s.ok()) {
    // A broken connection cannot roll back; the server does it.
    if (Healthy()) (void)Exec("ROLLBACK", "ROLLBACK");
    return s;
  }
  Result<PgResult> commit = Exec("COMMIT", "COMMIT");
  if (!commit.ok()) return commit.status();
  return Status::Ok();
}

bool PgConnection::Healthy() const {
  return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

Status PgConnection::Reset() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Status::Unavailable("cannot reconnect to PostgreSQL (" +
                               RedactConninfo(conninfo_) +
                               "): " + TrimMessage(PQerrorMessage(conn_)));
  }
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  for (const std::string& ch : channels_) {
    Result<PgResult> r = Exec("LISTEN " + ch, "LISTEN " + QuoteIdent(ch));
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

Status PgConnection::Listen(const std::string& channel) {
  Result<PgResult> r =
      Exec("LISTEN " + channel, "LISTEN " + QuoteIdent(channel));
  if (!r.ok()) return r.status();
  channels_.push_back(channel);
  return Status::Ok();
}

Result<std::vector<PgNotice>> PgConnection::WaitNotices(int timeout_ms) {
  std::vector<PgNotice> out;
  auto drain = [&]() -> Status {
    if (PQconsumeInput(conn_) == 0) {
      return Status::Unavailable(
          "LISTEN connection: " + TrimMessage(PQerrorMessage(conn_)) +
          " [connection lost]");
    }
    while (PGnotify* n = PQnotifies(conn_)) {
      out.push_back({n->relname, n->extra ? n->extra : ""});
      PQfreemem(n);
    }
    return Status::Ok();
  };
  PCIPASS_RETURN_IF_ERROR(drain());
  if (!out.empty()) return out;
  pollfd pfd{PQsocket(conn_), POLLIN, 0};
  if (pfd.fd < 0) {
    return Status::Unavailable(
        "LISTEN connection: no socket [connection lost]");
  }
  int rc = poll(&pfd, 1, timeout_ms);
  if (rc < 0 && errno != EINTR) return Status::FromErrno(errno, "poll");
  if (rc > 0) PCIPASS_RETURN_IF_ERROR(drain());
  return out;
}

}  // namespace pcipass::clusterdb
