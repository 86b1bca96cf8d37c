// Rows of the SQLite ledger as pcipass reads them back (a ledger file that
// was damaged or edited by hand): the input's lines are rows written
// straight into a real ledger's tables, bypassing pcipass, then read with
// ListDevices / ListClaims / ListEvents. Every bad row must come back as a
// clear DataLoss error, never a crash.
//
// Line format: a table letter (d = devices, c = claims, e = events), then
// the columns separated by '|' in table order; "\N" is SQL NULL; missing
// columns are NULL (a row the schema refuses is simply not stored).
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>

#include "fuzz/fuzz_util.h"
#include "store/ledger.h"

namespace {

struct Db {
  std::unique_ptr<pcipass::Ledger> ledger;
  sqlite3* raw = nullptr;
};

Db& Open() {
  static Db* db = [] {
    auto* d = new Db;
    std::filesystem::path path =
        pcipass::fuzz::EmptyHost().root() / "ledger.sqlite";
    auto ledger = pcipass::Ledger::OpenSqlite(path);
    if (!ledger.ok()) std::abort();
    d->ledger = std::move(*ledger);
    if (sqlite3_open(path.c_str(), &d->raw) != SQLITE_OK) std::abort();
    // The fuzzer empties the tables between inputs; history is append-only
    // for pcipass, not for this harness.
    const char* setup =
        "PRAGMA synchronous = OFF;"
        "DROP TRIGGER IF EXISTS events_append_only_u;"
        "DROP TRIGGER IF EXISTS events_append_only_d;";
    if (sqlite3_exec(d->raw, setup, nullptr, nullptr, nullptr) != SQLITE_OK) {
      std::abort();
    }
    return d;
  }();
  return *db;
}

void Insert(sqlite3* db, const char* table, int columns,
            const std::vector<std::string>& fields) {
  std::string sql = std::string("INSERT INTO ") + table + " VALUES (";
  for (int i = 0; i < columns; ++i) sql += i ? ",?" : "?";
  sql += ")";
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::abort();
  }
  for (int i = 0; i < columns; ++i) {
    size_t f = static_cast<size_t>(i) + 1;  // fields[0] is the table letter
    if (f >= fields.size() || fields[f] == "\\N") {
      sqlite3_bind_null(st, i + 1);
    } else {
      sqlite3_bind_text(st, i + 1, fields[f].data(),
                        static_cast<int>(fields[f].size()), SQLITE_TRANSIENT);
    }
  }
  (void)sqlite3_step(st);  // constraint violations are fine
  sqlite3_finalize(st);
}

void CheckError(const pcipass::Status& s) {
  if (!s.ok() && s.message().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Db& db = Open();
  sqlite3_exec(db.raw,
               "BEGIN; DELETE FROM devices; DELETE FROM claims; "
               "DELETE FROM events;",
               nullptr, nullptr, nullptr);
  int rows = 0;
  for (const std::string& line :
       pcipass::fuzz::Split(pcipass::fuzz::AsText(data, size), '\n')) {
    if (line.empty() || ++rows > 16) continue;
    std::vector<std::string> fields = pcipass::fuzz::Split(line, '|');
    switch (line[0]) {
      case 'd':
        Insert(db.raw, "devices", 12, fields);
        break;
      case 'c':
        Insert(db.raw, "claims", 9, fields);
        break;
      case 'e':
        Insert(db.raw, "events", 10, fields);
        break;
      default:
        break;
    }
  }
  if (sqlite3_exec(db.raw, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::abort();
  }
  auto devices = db.ledger->ListDevices();
  CheckError(devices.status());
  auto claims = db.ledger->ListClaims(std::nullopt);
  CheckError(claims.status());
  auto events = db.ledger->ListEvents({});
  CheckError(events.status());
  pcipass::Status txn = db.ledger->Transact([](pcipass::LedgerTxn& t) {
    auto d = t.Devices();
    if (!d.ok()) return d.status();
    auto c = t.Claims(std::nullopt);
    if (!c.ok()) return c.status();
    return pcipass::Status::Conflict("read only");
  });
  CheckError(txn);
  return 0;
}
