// The cluster schema in PostgreSQL and its versioned migrations.
//
// Tables (docs/cluster.md "Database"):
//   schema_version  one row per applied migration (version, description)
//   hosts           one row per agent host: generation (bumped on every
//                   change of its devices or claims), heartbeat_at,
//                   topology, IOMMU group outsiders, aggregates, traits
//   devices         (host, address): identity, tags, the agent's view of
//                   the device (available, reserved for the host, removed)
//   placements      one per scheduled request: reserved (with expires_at)
//                   until the agent confirms, then confirmed
//   claims          (host, address) PRIMARY KEY: one owner per device,
//                   ever; a trigger re-checks PF/VF and IOMMU-group
//                   exclusivity and the device's state in the inserting
//                   transaction, under the host row's lock
//   host_pools      per host and pool (Nova pool key): total and free
//   events          append-only history
// Migrations run in order, each in its own transaction under an advisory
// lock (several schedulers may start at once); an applied migration is
// never re-run, and a database newer than this binary is refused.
#ifndef PCIPASS_CLUSTERDB_SCHEMA_H_
#define PCIPASS_CLUSTERDB_SCHEMA_H_

#include <string>
#include <vector>

#include "clusterdb/pg.h"

namespace pcipass::clusterdb {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Every migration, oldest first (versions 1..N without gaps).
const std::vector<Migration>& Migrations();
int LatestSchemaVersion();

// The version recorded in schema_version, 0 for an empty database.
Result<int> CurrentSchemaVersion(PgConnection& conn);

// Applies the missing migrations up to |target| (default: latest). Returns
// the versions applied now (empty when up to date). Errors: DataLoss when
// the database is newer than this binary ("schema version 7 is newer than
// this pcipass (knows 2): upgrade pcipass"); the failing migration's error
// (that migration is rolled back whole).
Result<std::vector<int>> Migrate(PgConnection& conn, int target = -1);

}  // namespace pcipass::clusterdb

#endif  // PCIPASS_CLUSTERDB_SCHEMA_H_
