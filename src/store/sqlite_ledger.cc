// The SQLite ledger: the embedded default store behind store/ledger.h.
//
// One database file, WAL journal, synchronous=FULL (a committed claim
// survives power loss), foreign keys on. Writers use BEGIN IMMEDIATE so the
// write lock is taken before the first read: two processes can never both
// read "available" and both claim. SQLITE_BUSY after the busy timeout is
// reported as Unavailable. The schema is versioned with PRAGMA user_version;
// kMigrations[i] moves version i to i+1, inside a transaction.
#include <pwd.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>
#include <vector>

#include "core/bounded_input.h"
#include "core/host_root.h"
#include "core/lock_wait.h"
#include "core/values.h"
#include "store/ledger.h"

namespace pcipass {
namespace {

// Each entry upgrades the schema by one version. Never edit a released
// entry: add a new one.
constexpr const char* kMigrations[] = {
    // 0 -> 1: devices, claims, append-only events.
    R"sql(
CREATE TABLE devices (
  address     TEXT PRIMARY KEY,
  vendor_id   INTEGER,
  product_id  INTEGER,
  dev_type    TEXT NOT NULL,
  parent_addr TEXT,
  numa_node   INTEGER,
  iommu_group INTEGER,
  driver      TEXT,
  state       TEXT NOT NULL CHECK (state IN ('available', 'claimed',
              'allocated', 'unavailable', 'reserved', 'removed')),
  owner       TEXT,
  reason      TEXT NOT NULL DEFAULT '',
  updated_at  INTEGER NOT NULL
);
CREATE TABLE claims (
  address     TEXT PRIMARY KEY,
  instance    TEXT NOT NULL,
  alias_name  TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  dev_type    TEXT NOT NULL,
  parent_addr TEXT,
  tags        TEXT NOT NULL,
  claimed_at  INTEGER NOT NULL,
  state       TEXT NOT NULL
);
CREATE INDEX claims_by_instance ON claims (instance, address);
CREATE TABLE events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  who         TEXT NOT NULL,
  kind        TEXT NOT NULL,
  instance    TEXT,
  address     TEXT,
  alias_name  TEXT,
  from_state  TEXT,
  to_state    TEXT,
  why         TEXT NOT NULL
);
CREATE INDEX events_by_address ON events (address, id);
CREATE INDEX events_by_time ON events (at);
CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_d BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
)sql",
};
constexpr int kSchemaVersion =
    static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status SqlError(sqlite3* db, int rc, std::string_view what) {
  std::string msg =
      std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Status::Unavailable(msg + " (ledger locked by another process)");
  }
  if (primary == SQLITE_CONSTRAINT) return Status::AlreadyExists(msg);
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return Status::DataLoss(msg);
  }
  if (primary == SQLITE_PERM || primary == SQLITE_READONLY ||
      primary == SQLITE_AUTH) {
    return Status::PermissionDenied(msg);
  }
  return Status::IOError(msg);
}

// A prepared statement; finalised on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status prepared(std::string_view what) const {
    return rc_ == SQLITE_OK ? Status::Ok() : SqlError(db_, rc_, what);
  }
  void Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  template <typename T>
  void BindOpt(int i, const std::optional<T>& v) {
    if (v) {
      if constexpr (std::is_same_v<T, std::string>) {
        Bind(i, *v);
      } else {
        Bind(i, static_cast<int64_t>(*v));
      }
    } else {
      BindNull(i);
    }
  }
  void BindAddr(int i, const std::optional<PciAddress>& a) {
    if (a) {
      Bind(i, a->ToString());
    } else {
      BindNull(i);
    }
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }

  bool IsNull(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           sqlite3_column_bytes(stmt_, col))
             : std::string();
  }
  std::optional<std::string> OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<int64_t> OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// Runs a statement to completion, expecting no rows.
Status Exec(sqlite3* db, const char* sql, std::string_view what) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = std::string(what) + ": " + (err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  Status s = SqlError(nullptr, rc, what);
  return Status(s.code(), msg);
}

Result<PciAddress> AddrCol(const Stmt& st, int col, std::string_view table) {
  std::string text = st.Text(col);
  Result<PciAddress> a = PciAddress::Parse(text);
  if (!a.ok()) {
    return Status::DataLoss("ledger table " + std::string(table) +
                            " holds a bad address '" + text + "'");
  }
  return a;
}

Result<std::optional<PciAddress>> OptAddrCol(const Stmt& st, int col,
                                             std::string_view table) {
  if (st.IsNull(col)) return std::optional<PciAddress>();
  Result<PciAddress> a = AddrCol(st, col, table);
  if (!a.ok()) return a.status();
  return std::optional<PciAddress>(*a);
}

Result<DeviceType> TypeCol(const Stmt& st, int col) {
  std::string text = st.Text(col);
  std::optional<DeviceType> t = ParseDeviceType(text);
  if (!t) return Status::DataLoss("ledger holds a bad dev_type '" + text + "'");
  return *t;
}

std::string TagsToJson(
    const std::map<std::string, std::optional<std::string>>& tags) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : tags) {
    j[k] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  }
  return j.dump();
}

Result<std::map<std::string, std::optional<std::string>>> TagsFromJson(
    const std::string& text) {
  std::map<std::string, std::optional<std::string>> out;
  try {
    if (Status d = CheckJsonDepth(text, kMaxStoredJsonDepth); !d.ok()) {
      throw std::runtime_error(d.message());
    }
    nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object()) throw std::runtime_error("not an object");
    for (const auto& [k, v] : j.items()) {
      if (v.is_null()) {
        out[k] = std::nullopt;
      } else if (v.is_string()) {
        out[k] = v.get<std::string>();
      } else {
        throw std::runtime_error("tag " + k + " is not a string or null");
      }
    }
  } catch (const std::exception& e) {
    return Status::DataLoss("ledger claim tags '" + text +
                            "' are not a JSON object of strings: " + e.what());
  }
  return out;
}

constexpr const char* kDeviceColumns =
    "address, vendor_id, product_id, dev_type, parent_addr, numa_node, "
    "iommu_group, driver, state, owner, reason, updated_at";
constexpr const char* kClaimColumns =
    "instance, address, alias_name, request_id, dev_type, parent_addr, tags, "
    "claimed_at, state";
constexpr const char* kEventColumns =
    "id, at, who, kind, instance, address, alias_name, from_state, to_state, "
    "why";

Result<LedgerDevice> ReadDevice(const Stmt& st) {
  LedgerDevice d;
  Result<PciAddress> a = AddrCol(st, 0, "devices");
  if (!a.ok()) return a.status();
  d.address = *a;
  if (auto v = st.OptInt(1)) d.vendor_id = static_cast<uint16_t>(*v);
  if (auto v = st.OptInt(2)) d.product_id = static_cast<uint16_t>(*v);
  Result<DeviceType> t = TypeCol(st, 3);
  if (!t.ok()) return t.status();
  d.dev_type = *t;
  auto parent = OptAddrCol(st, 4, "devices");
  if (!parent.ok()) return parent.status();
  d.parent_addr = *parent;
  if (auto v = st.OptInt(5)) d.numa_node = static_cast<int>(*v);
  if (auto v = st.OptInt(6)) d.iommu_group = static_cast<int>(*v);
  d.driver = st.OptText(7);
  std::string state = st.Text(8);
  std::optional<DeviceState> s = ParseDeviceState(state);
  if (!s) return Status::DataLoss("ledger holds a bad state '" + state + "'");
  d.state = *s;
  d.owner = st.OptText(9);
  d.reason = st.Text(10);
  d.updated_at_unix = st.Int(11);
  return d;
}

Result<ClaimRecord> ReadClaim(const Stmt& st) {
  ClaimRecord c;
  c.instance = st.Text(0);
  Result<PciAddress> a = AddrCol(st, 1, "claims");
  if (!a.ok()) return a.status();
  c.address = *a;
  c.alias_name = st.Text(2);
  c.request_id = st.Text(3);
  Result<DeviceType> t = TypeCol(st, 4);
  if (!t.ok()) return t.status();
  c.dev_type = *t;
  auto parent = OptAddrCol(st, 5, "claims");
  if (!parent.ok()) return parent.status();
  c.parent_addr = *parent;
  auto tags = TagsFromJson(st.Text(6));
  if (!tags.ok()) return tags.status();
  c.tags = std::move(*tags);
  c.claimed_at_unix = st.Int(7);
  c.state = st.Text(8);
  return c;
}

Result<Event> ReadEvent(const Stmt& st) {
  Event e;
  e.id = st.Int(0);
  e.at_unix = st.Int(1);
  e.who = st.Text(2);
  e.kind = st.Text(3);
  e.instance = st.OptText(4);
  auto addr = OptAddrCol(st, 5, "events");
  if (!addr.ok()) return addr.status();
  e.address = *addr;
  e.alias_name = st.OptText(6);
  e.from_state = st.OptText(7);
  e.to_state = st.OptText(8);
  e.why = st.Text(9);
  return e;
}

// Runs |st| and reads every row with |read|.
template <typename T, typename ReadFn>
Result<std::vector<T>> Collect(sqlite3* db, Stmt& st, ReadFn read,
                               std::string_view what) {
  std::vector<T> out;
  for (;;) {
    int rc = st.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return SqlError(db, rc, what);
    Result<T> row = read(st);
    if (!row.ok()) return row.status();
    out.push_back(std::move(*row));
  }
  return out;
}

Status StepDone(sqlite3* db, Stmt& st, std::string_view what) {
  int rc = st.Step();
  if (rc != SQLITE_DONE) return SqlError(db, rc, what);
  return Status::Ok();
}

class SqliteTxn : public LedgerTxn {
 public:
  explicit SqliteTxn(sqlite3* db) : db_(db) {}

  Result<std::vector<LedgerDevice>> Devices() override {
    std::string sql = std::string("SELECT ") + kDeviceColumns +
                      " FROM devices ORDER BY address";
    Stmt st(db_, sql.c_str());
    PCIPASS_RETURN_IF_ERROR(st.prepared("list devices"));
    auto rows = Collect<LedgerDevice>(db_, st, ReadDevice, "list devices");
    if (!rows.ok()) return rows.status();
    // Text order is not address order for domains of different widths.
    std::sort(rows->begin(), rows->end(),
              [](const LedgerDevice& a, const LedgerDevice& b) {
                return a.address < b.address;
              });
    return rows;
  }

  Status PutDevice(const LedgerDevice& d) override {
    std::string sql = std::string("INSERT OR REPLACE INTO devices (") +
                      kDeviceColumns +
                      ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)";
    Stmt st(db_, sql.c_str());
    PCIPASS_RETURN_IF_ERROR(st.prepared("put device"));
    st.Bind(1, d.address.ToString());
    st.BindOpt(2, d.vendor_id);
    st.BindOpt(3, d.product_id);
    st.Bind(4, std::string(DeviceTypeName(d.dev_type)));
    st.BindAddr(5, d.parent_addr);
    st.BindOpt(6, d.numa_node);
    st.BindOpt(7, d.iommu_group);
    st.BindOpt(8, d.driver);
    st.Bind(9, std::string(DeviceStateName(d.state)));
    st.BindOpt(10, d.owner);
    st.Bind(11, d.reason);
    st.Bind(12, d.updated_at_unix ? d.updated_at_unix : NowUnix());
    return StepDone(db_, st, "put device " + d.address.ToString());
  }

  Result<std::vector<ClaimRecord>> Claims(
      const std::optional<std::string>& instance) override {
    if (instance) PCIPASS_RETURN_IF_ERROR(CheckInstanceId(*instance));
    std::string sql = std::string("SELECT ") + kClaimColumns + " FROM claims" +
                      (instance ? " WHERE instance = ?1" : "") +
                      " ORDER BY instance, address";
    Stmt st(db_, sql.c_str());
    PCIPASS_RETURN_IF_ERROR(st.prepared("list claims"));
    if (instance) st.Bind(1, *instance);
    auto rows = Collect<ClaimRecord>(db_, st, ReadClaim, "list claims");
    if (!rows.ok()) return rows.status();
    std::stable_sort(rows->begin(), rows->end(),
                     [](const ClaimRecord& a, const ClaimRecord& b) {
                       if (a.instance != b.instance) {
                         return a.instance < b.instance;
                       }
                       return a.address < b.address;
                     });
    return rows;
  }

  Status AddClaim(const ClaimRecord& c) override {
    PCIPASS_RETURN_IF_ERROR(CheckInstanceId(c.instance));
    std::string sql = std::string("INSERT INTO claims (") + kClaimColumns +
                      ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)";
    Stmt st(db_, sql.c_str());
    PCIPASS_RETURN_IF_ERROR(st.prepared("add claim"));
    st.Bind(1, c.instance);
    st.Bind(2, c.address.ToString());
    st.Bind(3, c.alias_name);
    st.Bind(4, c.request_id);
    st.Bind(5, std::string(DeviceTypeName(c.dev_type)));
    st.BindAddr(6, c.parent_addr);
    st.Bind(7, TagsToJson(c.tags));
    st.Bind(8, c.claimed_at_unix ? c.claimed_at_unix : NowUnix());
    st.Bind(9, c.state);
    Status s = StepDone(db_, st,
                        "claim " + c.address.ToString() + " for " + c.instance);
    if (s.code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("device " + c.address.ToString() +
                                   " already has a claim in the ledger");
    }
    return s;
  }

  Status SetClaimState(const std::string& instance, const PciAddress& address,
                       std::string_view state) override {
    PCIPASS_RETURN_IF_ERROR(CheckInstanceId(instance));
    Stmt st(db_,
            "UPDATE claims SET state = ?1 WHERE instance = ?2 AND "
            "address = ?3");
    PCIPASS_RETURN_IF_ERROR(st.prepared("update claim"));
    st.Bind(1, std::string(state));
    st.Bind(2, instance);
    st.Bind(3, address.ToString());
    PCIPASS_RETURN_IF_ERROR(StepDone(db_, st, "update claim"));
    if (sqlite3_changes(db_) != 1) {
      return Status::NotFound("instance " + instance + " holds no claim on " +
                              address.ToString());
    }
    return Status::Ok();
  }

  Status DeleteClaim(const std::string& instance,
                     const PciAddress& address) override {
    PCIPASS_RETURN_IF_ERROR(CheckInstanceId(instance));
    Stmt st(db_, "DELETE FROM claims WHERE instance = ?1 AND address = ?2");
    PCIPASS_RETURN_IF_ERROR(st.prepared("delete claim"));
    st.Bind(1, instance);
    st.Bind(2, address.ToString());
    PCIPASS_RETURN_IF_ERROR(StepDone(db_, st, "delete claim"));
    if (sqlite3_changes(db_) != 1) {
      return Status::NotFound("instance " + instance + " holds no claim on " +
                              address.ToString());
    }
    return Status::Ok();
  }

  Status AppendEvent(const Event& e) override {
    if (e.instance) PCIPASS_RETURN_IF_ERROR(CheckInstanceId(*e.instance));
    Stmt st(db_,
            "INSERT INTO events (at, who, kind, instance, address, "
            "alias_name, from_state, to_state, why) VALUES "
            "(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    PCIPASS_RETURN_IF_ERROR(st.prepared("append event"));
    st.Bind(1, e.at_unix ? e.at_unix : NowUnix());
    st.Bind(2, e.who.empty() ? CurrentActor() : e.who);
    st.Bind(3, e.kind);
    st.BindOpt(4, e.instance);
    st.BindAddr(5, e.address);
    st.BindOpt(6, e.alias_name);
    st.BindOpt(7, e.from_state);
    st.BindOpt(8, e.to_state);
    st.Bind(9, e.why);
    return StepDone(db_, st, "append event");
  }

 private:
  sqlite3* db_;
};

class SqliteLedger : public Ledger {
 public:
  SqliteLedger(sqlite3* db, std::string path)
      : db_(db), path_(std::move(path)) {}
  ~SqliteLedger() override { sqlite3_close_v2(db_); }

  Status Init(int busy_timeout_ms) {
    busy_.policy = CurrentLockWaitPolicy();
    if (busy_timeout_ms >= 0) busy_.policy.timeout_ms = busy_timeout_ms;
    busy_.path = path_;
    sqlite3_busy_handler(db_, &SqliteLedger::OnBusy, &busy_);
    Status s = InitSchema();
    return s.code() == StatusCode::kUnavailable ? LockedError(s) : s;
  }

  Status InitSchema() {
    PCIPASS_RETURN_IF_ERROR(
        Exec(db_, "PRAGMA journal_mode=WAL", "ledger " + path_ + ": WAL"));
    PCIPASS_RETURN_IF_ERROR(Exec(db_, "PRAGMA synchronous=FULL",
                                 "ledger " + path_ + ": synchronous"));
    PCIPASS_RETURN_IF_ERROR(Exec(db_, "PRAGMA foreign_keys=ON",
                                 "ledger " + path_ + ": foreign keys"));
    return Migrate();
  }

  Status Transact(const std::function<Status(LedgerTxn&)>& fn) override {
    Status begun =
        Exec(db_, "BEGIN IMMEDIATE", "ledger " + path_ + ": begin transaction");
    if (begun.code() == StatusCode::kUnavailable) return LockedError(begun);
    PCIPASS_RETURN_IF_ERROR(begun);
    SqliteTxn txn(db_);
    Status s;
    try {
      s = fn(txn);
    } catch (const std::exception& e) {
      s = Status::Internal(std::string("ledger transaction threw: ") +
                           e.what());
    }
    if (!s.ok()) {
      (void)Exec(db_, "ROLLBACK", "rollback");
      return s;
    }
    Status c = Exec(db_, "COMMIT", "ledger " + path_ + ": commit");
    if (!c.ok()) {
      (void)Exec(db_, "ROLLBACK", "rollback");
      return c;
    }
    return Status::Ok();
  }

  Result<std::vector<LedgerDevice>> ListDevices() override {
    return Read<std::vector<LedgerDevice>>(
        [](SqliteTxn& t) { return t.Devices(); });
  }

  Result<std::vector<ClaimRecord>> ListClaims(
      std::optional<std::string> instance) override {
    return Read<std::vector<ClaimRecord>>(
        [&](SqliteTxn& t) { return t.Claims(instance); });
  }

  Result<std::vector<Event>> ListEvents(const EventFilter& f) override {
    if (f.instance) PCIPASS_RETURN_IF_ERROR(CheckInstanceId(*f.instance));
    std::string sql =
        std::string("SELECT ") + kEventColumns + " FROM events WHERE 1=1";
    if (f.address) sql += " AND address = ?1";
    if (f.instance) sql += " AND instance = ?2";
    if (f.since_unix) sql += " AND at >= ?3";
    if (f.until_unix) sql += " AND at < ?4";
    sql += " ORDER BY id";
    Stmt st(db_, sql.c_str());
    PCIPASS_RETURN_IF_ERROR(st.prepared("list events"));
    if (f.address) st.Bind(1, f.address->ToString());
    if (f.instance) st.Bind(2, *f.instance);
    if (f.since_unix) st.Bind(3, *f.since_unix);
    if (f.until_unix) st.Bind(4, *f.until_unix);
    return Collect<Event>(db_, st, ReadEvent, "list events");
  }

  int SchemaVersion() const override { return version_; }

 private:
  // What the busy handler needs: where, how long, and whether it has
  // already said that it waits.
  struct BusyWait {
    std::string path;
    LockWaitPolicy policy;
    std::chrono::steady_clock::time_point started;
    bool noticed = false;
    std::string holder;  // last known holder ("pid N (cmd)"), may be ""
  };

  // The SQLite writer of another process holds byte 120 of the -shm file
  // (WAL write lock) or, without WAL, the RESERVED byte of the database.
  static std::string LedgerLockHolder(const std::string& path) {
    std::string proc = HostRoot().Proc().string();
    std::string holder = FcntlLockHolder(path + "-shm", 120, 1, proc);
    if (holder.empty()) holder = FcntlLockHolder(path, 0x40000001, 1, proc);
    return holder;
  }

  // sqlite3_busy_handler: polls until the policy's timeout, saying once
  // after notice_after_ms what it waits for. 0 = give up (SQLITE_BUSY).
  static int OnBusy(void* arg, int count) {
    auto* w = static_cast<BusyWait*>(arg);
    auto now = std::chrono::steady_clock::now();
    if (count == 0) {
      w->started = now;
      w->noticed = false;
      w->holder.clear();
    }
    auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - w->started)
            .count();
    if (waited >= w->policy.timeout_ms) {
      w->holder = LedgerLockHolder(w->path);
      return 0;
    }
    if (!w->noticed && waited >= w->policy.notice_after_ms) {
      w->noticed = true;
      w->holder = LedgerLockHolder(w->path);
      NoticeLockWait(
          w->policy,
          "waiting for the ledger " + w->path + ", locked by " +
              (w->holder.empty() ? std::string("another process") : w->holder) +
              "; giving up after " +
              std::to_string(w->policy.timeout_ms / 1000) + " s");
    }
    int nap_ms = count < 10 ? 5 : 50;
    std::this_thread::sleep_for(std::chrono::milliseconds(nap_ms));
    return 1;
  }

  // A busy error rewritten to name the ledger, the holder and the knob.
  Status LockedError(const Status& busy) const {
    (void)busy;
    std::string holder =
        busy_.holder.empty() ? LedgerLockHolder(path_) : busy_.holder;
    return Status::Unavailable(
        "the ledger " + path_ + " is locked by " +
        (holder.empty() ? std::string("another process") : holder) +
        "; gave up after " + std::to_string(busy_.policy.timeout_ms / 1000) +
        " s. Wait for it to finish (or stop it), or wait longer with "
        "--lock-timeout SECONDS or [claims] lock_timeout");
  }

  // A consistent snapshot: a deferred read transaction.
  template <typename T, typename Fn>
  Result<T> Read(Fn fn) {
    PCIPASS_RETURN_IF_ERROR(Exec(db_, "BEGIN", "ledger " + path_ + ": begin"));
    SqliteTxn txn(db_);
    Result<T> r = fn(txn);
    (void)Exec(db_, "COMMIT", "commit");
    return r;
  }

  Status Migrate() {
    // The version is read and changed under the write lock so two processes
    // opening a fresh ledger do not both create the tables.
    return Transact([&](LedgerTxn&) -> Status {
      Stmt st(db_, "PRAGMA user_version");
      PCIPASS_RETURN_IF_ERROR(st.prepared("read schema version"));
      int rc = st.Step();
      if (rc != SQLITE_ROW) return SqlError(db_, rc, "read schema version");
      int version = static_cast<int>(st.Int(0));
      if (version > kSchemaVersion) {
        return Status::DataLoss(
            "ledger " + path_ + " has schema version " +
            std::to_string(version) + " but this pcipass knows up to " +
            std::to_string(kSchemaVersion) + "; upgrade pcipass");
      }
      if (version == 0) {
        // A fresh file must be empty; anything else is not our database.
        Stmt tables(db_, "SELECT count(*) FROM sqlite_master");
        PCIPASS_RETURN_IF_ERROR(tables.prepared("inspect ledger"));
        if (tables.Step() == SQLITE_ROW && tables.Int(0) != 0) {
          return Status::DataLoss("ledger " + path_ +
                                  " is an SQLite file with foreign tables; "
                                  "not a pcipass ledger");
        }
      }
      for (int v = version; v < kSchemaVersion; ++v) {
        PCIPASS_RETURN_IF_ERROR(Exec(db_, kMigrations[v],
                                     "ledger " + path_ +
                                         ": migrate to version " +
                                         std::to_string(v + 1)));
      }
      if (version != kSchemaVersion) {
        std::string set =
            "PRAGMA user_version = " + std::to_string(kSchemaVersion);
        PCIPASS_RETURN_IF_ERROR(Exec(db_, set.c_str(), "set schema version"));
      }
      version_ = kSchemaVersion;
      return Status::Ok();
    });
  }

  sqlite3* db_;
  std::string path_;
  int version_ = 0;
  BusyWait busy_;
};

}  // namespace

std::string_view DeviceStateName(DeviceState state) {
  switch (state) {
    case DeviceState::kAvailable:
      return "available";
    case DeviceState::kClaimed:
      return "claimed";
    case DeviceState::kAllocated:
      return "allocated";
    case DeviceState::kUnavailable:
      return "unavailable";
    case DeviceState::kReserved:
      return "reserved";
    case DeviceState::kRemoved:
      return "removed";
  }
  return "unknown";
}

std::optional<DeviceState> ParseDeviceState(std::string_view name) {
  for (DeviceState s : {DeviceState::kAvailable, DeviceState::kClaimed,
                        DeviceState::kAllocated, DeviceState::kUnavailable,
                        DeviceState::kReserved, DeviceState::kRemoved}) {
    if (DeviceStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string CurrentActor() {
  // getpwuid_r, not getpwuid: a daemon writes events from many threads.
  std::string user = "uid" + std::to_string(geteuid());
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(geteuid(), &pw, buf.data(), buf.size(), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr) {
    user = found->pw_name;
  }
  return "user=" + user + " pid=" + std::to_string(getpid());
}

Result<std::unique_ptr<Ledger>> Ledger::OpenSqlite(
    const std::filesystem::path& path, int busy_timeout_ms) {
  std::string p = path.string();
  if (p != ":memory:" && path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return Status::FromErrno(
          ec.value(), "create ledger directory " + path.parent_path().string());
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(p.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
                           nullptr);
  if (rc == SQLITE_CANTOPEN && p != ":memory:" &&
      std::filesystem::is_symlink(path)) {
    sqlite3_close_v2(db);
    return Status::FailedPrecondition(
        "the ledger " + p +
        " is a symbolic link; pcipass does not follow links to its ledger. "
        "Point [claims] ledger (or --state) at the real file instead");
  }
  if (rc != SQLITE_OK) {
    Status s = SqlError(db, rc, "open ledger " + p);
    sqlite3_close_v2(db);
    return s;
  }
  auto ledger = std::make_unique<SqliteLedger>(db, p);
  Status s = ledger->Init(busy_timeout_ms);
  if (!s.ok()) return s;
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace pcipass
