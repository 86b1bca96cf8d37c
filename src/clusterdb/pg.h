// PgConnection: a libpq connection with errors as values.
//
// A thin adapter over libpq (the C library, from Debian libpq-dev): every
// statement is sent with parameters (PQexecParams, text format, so no SQL
// is ever built from user data), and every failure becomes a Status that
// names the statement and carries PostgreSQL's message and SQLSTATE:
//   23505 unique_violation, 23P01 exclusion_violation  -> Conflict
//   40001 serialization_failure, 40P01 deadlock        -> Unavailable
//   connection lost (08xxx, or a bad connection)        -> Unavailable
//   anything else                                       -> IOError
// A lost connection is re-opened by Reset() (the callers retry their whole
// transaction: a transaction is never resumed on a new connection).
#ifndef PCIPASS_CLUSTERDB_PG_H_
#define PCIPASS_CLUSTERDB_PG_H_

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pcipass::clusterdb {

// One query's rows, owned (PQclear on destruction).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* res) : res_(res, &PQclear) {}

  int rows() const { return res_ ? PQntuples(res_.get()) : 0; }
  bool IsNull(int row, int col) const {
    return PQgetisnull(res_.get(), row, col) != 0;
  }
  // The text value ("" for NULL).
  std::string Text(int row, int col) const {
    return PQgetvalue(res_.get(), row, col);
  }
  std::optional<std::string> OptText(int row, int col) const;
  int64_t Int(int row, int col) const;  // 0 for NULL or non-numbers
  std::optional<int64_t> OptInt(int row, int col) const;
  bool Bool(int row, int col) const { return Text(row, col) == "t"; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t Affected() const;

 private:
  std::shared_ptr<PGresult> res_;
};

// A statement parameter: text or SQL NULL.
using PgParam = std::optional<std::string>;

// One notification received from LISTEN.
struct PgNotice {
  std::string channel;
  std::string payload;
};

class PgConnection {
 public:
  // Opens a connection with a libpq conninfo string ("host=127.0.0.1
  // port=5432 dbname=pcipass user=pcipass" or "postgresql://..."), with a
  // connect_timeout of 10 s unless the string sets one.
  // Errors: Unavailable "cannot connect to PostgreSQL (<conninfo without
  // password>): <libpq message>".
  static Result<std::unique_ptr<PgConnection>> Open(
      const std::string& conninfo);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs |sql| with $1.. parameters. |what| names the statement in errors.
  Result<PgResult> Exec(std::string_view what, const std::string& sql,
                        const std::vector<PgParam>& params = {});
  // Runs a script of several statements without parameters (migrations).
  Status ExecScript(std::string_view what, const std::string& sql);

  // BEGIN; |fn|; COMMIT — or ROLLBACK when |fn| fails (its status is
  // returned). The commit's own failure is returned as the Exec error.
  Status Transaction(const std::function<Status()>& fn);

  // Whether the connection is usable; Reset() reconnects (LISTENs are
  // re-issued). Errors as Open.
  bool Healthy() const;
  Status Reset();

  // LISTEN |channel| (kept across Reset()).
  Status Listen(const std::string& channel);
  // Waits up to |timeout_ms| for notifications; returns what arrived
  // (possibly nothing). Unavailable when the connection broke.
  Result<std::vector<PgNotice>> WaitNotices(int timeout_ms);

  const std::string& conninfo() const { return conninfo_; }

 private:
  PgConnection(std::string conninfo, PGconn* conn)
      : conninfo_(std::move(conninfo)), conn_(conn) {}
  std::string conninfo_;
  PGconn* conn_ = nullptr;
  std::vector<std::string> channels_;
};

// |conninfo| with any password=... / :password@ part replaced by "***",
// for messages and logs.
std::string RedactConninfo(const std::string& conninfo);

// Quotes an identifier for LISTEN/NOTIFY channel names built from
// constants (never user data).
std::string QuoteIdent(std::string_view ident);

}  // namespace pcipass::clusterdb

#endif  // PCIPASS_CLUSTERDB_PG_H_
