// Who may use pcipassd.
//
// Unix socket: the kernel tells who connected (SO_PEERCRED). Root may, and
// so may members of the configured group (the connecting process's
// primary group or any of the user's supplementary groups); anyone else
// gets 403. The socket's own mode (0660, group = that group) already keeps
// others out; this check holds even if the file mode is loosened.
//
// TCP: there are no credentials, so every request must carry
// "Authorization: Bearer <token>" with the token read from --token-file;
// missing or wrong gives 401. Tokens are compared in constant time.
#ifndef PCIPASS_DAEMON_AUTH_H_
#define PCIPASS_DAEMON_AUTH_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "core/status.h"
#include "daemon/api_error.h"
#include "daemon/unix_http_server.h"

namespace pcipass::daemon {

// Looks a group up by name (or a decimal gid). NotFound naming the group.
Result<gid_t> ResolveGroup(const std::string& name_or_gid);

// True if |uid| (with primary group |gid|) belongs to |group|.
bool UserInGroup(uid_t uid, gid_t gid, gid_t group);

struct PeerPolicy {
  std::optional<gid_t> group;  // nullopt: root only
  std::string group_name;      // for messages
};

// nullopt when |peer| may use the API; else the 403 error.
std::optional<ApiError> CheckPeer(const PeerCred& peer,
                                  const PeerPolicy& policy);

// Reads the token: the file's first line, trimmed. It must be at least 16
// characters and the file not readable by others (mode & 0004 == 0).
Result<std::string> ReadTokenFile(const std::string& path);

// nullopt when |authorization| is "Bearer <token>"; else the 401 error.
std::optional<ApiError> CheckBearer(const std::string& authorization,
                                    const std::string& token);

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_AUTH_H_
