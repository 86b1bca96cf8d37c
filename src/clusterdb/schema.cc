#include "clusterdb/schema.h"

#include <string>

namespace pcipass::clusterdb {

namespace {

// Version 1: hosts, devices, claims, events (claims belonged to instances
// directly; no reservations).
const char kV1[] = R"SQL(
CREATE TABLE schema_version (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE hosts (
  name text PRIMARY KEY,
  generation bigint NOT NULL DEFAULT 0,
  registered_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  agent text NOT NULL DEFAULT '',
  topology jsonb NOT NULL DEFAULT '{}',
  group_outsiders jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE devices (
  host text NOT NULL REFERENCES hosts(name) ON DELETE CASCADE,
  address text NOT NULL,
  vendor_id integer,
  product_id integer,
  dev_type text NOT NULL,
  parent_addr text,
  numa_node integer,
  iommu_group integer,
  driver text,
  state text NOT NULL CHECK (state IN ('available', 'reserved', 'removed')),
  reason text NOT NULL DEFAULT '',
  tags jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (host, address)
);
CREATE TABLE claims (
  host text NOT NULL,
  address text NOT NULL,
  instance text NOT NULL,
  alias_name text NOT NULL DEFAULT '',
  request_index integer NOT NULL DEFAULT 0,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (host, address),
  FOREIGN KEY (host, address) REFERENCES devices(host, address)
    ON DELETE RESTRICT
);
CREATE TABLE events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  host text,
  kind text NOT NULL,
  placement_id text,
  instance text,
  address text,
  detail text NOT NULL DEFAULT ''
);
)SQL";

// Version 2: placements (reservations with expiry), claims linked to their
// placement with the PF and group copied in, pool summaries, host
// aggregates/traits, the exclusivity trigger and change notification.
const char kV2[] = R"SQL(
ALTER TABLE hosts
  ADD COLUMN aggregates text[] NOT NULL DEFAULT '{}',
  ADD COLUMN traits text[] NOT NULL DEFAULT '{}',
  ADD COLUMN inventory_hash text NOT NULL DEFAULT '';
CREATE TABLE placements (
  id text PRIMARY KEY,
  host text NOT NULL REFERENCES hosts(name) ON DELETE CASCADE,
  instance text NOT NULL,
  status text NOT NULL CHECK (status IN ('reserved', 'confirmed')),
  request jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  confirmed_at timestamptz,
  scheduler text NOT NULL DEFAULT ''
);
CREATE INDEX placements_expiry ON placements (expires_at)
  WHERE status = 'reserved';
CREATE INDEX placements_instance ON placements (instance);
-- Claims made before placements existed become confirmed placements.
INSERT INTO placements (id, host, instance, status, created_at, confirmed_at)
  SELECT 'v1-' || host || '-' || instance, host, instance, 'confirmed',
         min(claimed_at), min(claimed_at)
  FROM claims GROUP BY host, instance;
ALTER TABLE claims
  ADD COLUMN placement_id text REFERENCES placements(id) ON DELETE CASCADE,
  ADD COLUMN parent_addr text,
  ADD COLUMN iommu_group integer;
UPDATE claims c SET placement_id = 'v1-' || c.host || '-' || c.instance,
                    parent_addr = d.parent_addr, iommu_group = d.iommu_group
  FROM devices d WHERE d.host = c.host AND d.address = c.address;
ALTER TABLE claims ALTER COLUMN placement_id SET NOT NULL;
CREATE INDEX claims_placement ON claims (placement_id);
CREATE INDEX claims_parent ON claims (host, parent_addr);
CREATE INDEX claims_group ON claims (host, iommu_group);
CREATE TABLE host_pools (
  host text NOT NULL REFERENCES hosts(name) ON DELETE CASCADE,
  pool integer NOT NULL,
  pool_key jsonb NOT NULL,
  total integer NOT NULL,
  free integer NOT NULL,
  PRIMARY KEY (host, pool)
);

-- The last line of defence: whatever the client computed, a claim row is
-- refused (SQLSTATE 23P01) when the device is not available, a PF/VF
-- relative is claimed, or its IOMMU group is held by another instance or
-- used by the host. Claims of one host are serialised by the host row's
-- lock, so these checks cannot race.
CREATE FUNCTION pcipass_claim_exclusive() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  dev record;
  other text;
BEGIN
  PERFORM 1 FROM hosts WHERE name = NEW.host FOR UPDATE;
  SELECT * INTO dev FROM devices WHERE host = NEW.host AND address = NEW.address;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'claim % on %: no such device', NEW.address, NEW.host
      USING ERRCODE = '23P01';
  END IF;
  IF dev.state <> 'available' THEN
    RAISE EXCEPTION 'claim % on %: device is %', NEW.address, NEW.host, dev.state
      USING ERRCODE = '23P01';
  END IF;
  NEW.parent_addr := dev.parent_addr;
  NEW.iommu_group := dev.iommu_group;
  SELECT address INTO other FROM claims
    WHERE host = NEW.host AND address <> NEW.address
      AND (address = dev.parent_addr OR parent_addr = NEW.address) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'claim % on %: PF/VF relative % is claimed',
      NEW.address, NEW.host, other USING ERRCODE = '23P01';
  END IF;
  IF dev.iommu_group IS NOT NULL THEN
    SELECT address INTO other FROM claims
      WHERE host = NEW.host AND iommu_group = dev.iommu_group
        AND instance <> NEW.instance LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'claim % on %: IOMMU group % member % is held by another instance',
        NEW.address, NEW.host, dev.iommu_group, other USING ERRCODE = '23P01';
    END IF;
    SELECT address INTO other FROM devices
      WHERE host = NEW.host AND iommu_group = dev.iommu_group
        AND state = 'reserved' LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'claim % on %: IOMMU group % member % is used by the host',
        NEW.address, NEW.host, dev.iommu_group, other USING ERRCODE = '23P01';
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER claims_exclusive BEFORE INSERT OR UPDATE ON claims
  FOR EACH ROW EXECUTE FUNCTION pcipass_claim_exclusive();

-- Schedulers LISTEN on pcipass_hosts: "<host> <generation>" on every
-- change of a host's devices or claims, "<host> deleted" on removal.
CREATE FUNCTION pcipass_notify_host() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('pcipass_hosts', OLD.name || ' deleted');
    RETURN OLD;
  END IF;
  IF TG_OP = 'INSERT' OR NEW.generation <> OLD.generation THEN
    PERFORM pg_notify('pcipass_hosts', NEW.name || ' ' || NEW.generation);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER hosts_notify AFTER INSERT OR UPDATE OR DELETE ON hosts
  FOR EACH ROW EXECUTE FUNCTION pcipass_notify_host();
)SQL";

// Serialises migrators across processes (an arbitrary constant key).
const char kLockSql[] = "SELECT pg_advisory_xact_lock(727170101)";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kAll = {
      {1, "hosts, devices, claims, events", kV1},
      {2,
       "placements with expiry, claim exclusivity trigger, pool summaries, "
       "host notifications",
       kV2},
  };
  return kAll;
}

int LatestSchemaVersion() { return Migrations().back().version; }

Result<int> CurrentSchemaVersion(PgConnection& conn) {
  Result<PgResult> exists =
      conn.Exec("find schema_version",
                "SELECT to_regclass('schema_version') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (!exists->Bool(0, 0)) return 0;
  Result<PgResult> v =
      conn.Exec("read schema_version",
                "SELECT coalesce(max(version), 0) FROM schema_version");
  if (!v.ok()) return v.status();
  return static_cast<int>(v->Int(0, 0));
}

Result<std::vector<int>> Migrate(PgConnection& conn, int target) {
  if (target < 0) target = LatestSchemaVersion();
  std::vector<int> applied;
  for (const Migration& m : Migrations()) {
    if (m.version > target) break;
    bool done = false;
    Status s = conn.Transaction([&]() -> Status {
      Result<PgResult> lock = conn.Exec("migration lock", kLockSql);
      if (!lock.ok()) return lock.status();
      Result<int> current = CurrentSchemaVersion(conn);
      if (!current.ok()) return current.status();
      if (*current > LatestSchemaVersion()) {
        return Status::DataLoss(
            "cluster database schema version " + std::to_string(*current) +
            " is newer than this pcipass (knows " +
            std::to_string(LatestSchemaVersion()) + "): upgrade pcipass");
      }
      if (*current >= m.version) {
        done = true;
        return Status::Ok();
      }
      if (*current != m.version - 1) {
        return Status::DataLoss(
            "cluster database at schema version " + std::to_string(*current) +
            " cannot take migration " + std::to_string(m.version));
      }
      PCIPASS_RETURN_IF_ERROR(conn.ExecScript(
          "migration " + std::to_string(m.version) + " (" + m.description + ")",
          m.sql));
      Result<PgResult> rec = conn.Exec(
          "record migration",
          "INSERT INTO schema_version (version, description) VALUES ($1, $2)",
          {std::to_string(m.version), std::string(m.description)});
      return rec.status();
    });
    if (!s.ok()) return s;
    if (!done) applied.push_back(m.version);
  }
  return applied;
}

}  // namespace pcipass::clusterdb
