// The [cluster] section of the config: where the cluster database is and
// how agents and schedulers behave.
//
//   [cluster]
//   db = host=10.0.0.5 port=5432 dbname=pcipass user=pcipass
//                          libpq conninfo (key=value or postgresql:// URL);
//                          a password belongs in ~/.pgpass or PGPASSFILE
//   host = compute-17      the agent's host name (default: the hostname)
//   aggregate = rack-a     the host's aggregate (agent)
//   traits = CUSTOM_A100,CUSTOM_NVLINK   host traits (agent)
//   heartbeat_interval = 2 seconds between agent heartbeats
//   dead_after = 30        seconds without a heartbeat before a host is
//                          dead (excluded, reported)
//   reservation_ttl = 60   seconds a placement stays reserved before it is
//                          rolled back unless the agent confirms it
//   listen = 127.0.0.1:8470  pcipass-scheduler's REST address
// Flags (--db, --host, ...) override the file.
#ifndef PCIPASS_CLUSTERDB_SETTINGS_H_
#define PCIPASS_CLUSTERDB_SETTINGS_H_

#include <string>
#include <vector>

#include "core/status.h"
#include "select/ini.h"

namespace pcipass::clusterdb {

struct ClusterSettings {
  std::string db;
  std::string host;
  std::string aggregate;
  std::vector<std::string> traits;
  int heartbeat_interval_s = 2;
  int dead_after_s = 30;
  int reservation_ttl_s = 60;
  std::string listen_host = "127.0.0.1";
  int listen_port = 8470;
};

// Reads [cluster] (every occurrence checked, last wins). Errors
// (InvalidArgument) name file:line, the key, the bad value and what is
// accepted; unknown keys are errors. Also checks dead_after >
// heartbeat_interval.
Result<ClusterSettings> ReadClusterSettings(const IniFile& ini);

// "HOST:PORT" (PORT 0..65535; 0 = any free port). InvalidArgument naming
// the value.
Status ParseListen(const std::string& text, std::string* host, int* port);

}  // namespace pcipass::clusterdb

#endif  // PCIPASS_CLUSTERDB_SETTINGS_H_
