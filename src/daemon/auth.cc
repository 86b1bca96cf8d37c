#include "daemon/auth.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <vector>

namespace pcipass::daemon {

Result<gid_t> ResolveGroup(const std::string& name_or_gid) {
  char* end = nullptr;
  long v = std::strtol(name_or_gid.c_str(), &end, 10);
  if (!name_or_gid.empty() && end && *end == '\0' && v >= 0) {
    return static_cast<gid_t>(v);
  }
  std::vector<char> buf(16384);
  group g{};
  group* found = nullptr;
  if (getgrnam_r(name_or_gid.c_str(), &g, buf.data(), buf.size(), &found) !=
          0 ||
      !found) {
    return Status::NotFound("--socket-group " + name_or_gid +
                            ": no such group (create it with groupadd, or "
                            "pass an existing group or a numeric gid)");
  }
  return found->gr_gid;
}

bool UserInGroup(uid_t uid, gid_t gid, gid_t group) {
  if (gid == group) return true;
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) {
    return false;
  }
  int n = 64;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  if (getgrouplist(found->pw_name, gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<size_t>(n));
    if (getgrouplist(found->pw_name, gid, groups.data(), &n) < 0) return false;
  }
  for (int i = 0; i < n; ++i) {
    if (groups[static_cast<size_t>(i)] == group) return true;
  }
  return false;
}

std::optional<ApiError> CheckPeer(const PeerCred& peer,
                                  const PeerPolicy& policy) {
  if (peer.uid == 0) return std::nullopt;
  if (policy.group && UserInGroup(peer.uid, peer.gid, *policy.group)) {
    return std::nullopt;
  }
  ApiError e;
  e.http_status = 403;
  e.code = "forbidden";
  e.message = "uid " + std::to_string(peer.uid) + " (pid " +
              std::to_string(peer.pid) + ") may not use pcipassd: only root" +
              (policy.group ? " and members of group " + policy.group_name
                            : std::string());
  e.fix = policy.group ? "add the user to group " + policy.group_name +
                             " (usermod -aG " + policy.group_name +
                             " USER), or connect as root"
                       : "connect as root, or start pcipassd with "
                         "--socket-group GROUP";
  return e;
}

Result<std::string> ReadTokenFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound("--token-file " + path +
                            ": cannot be read (create it: head -c 32 "
                            "/dev/urandom | base64 > FILE; chmod 600 FILE)");
  }
  if (st.st_mode & S_IROTH) {
    return Status::InvalidArgument("--token-file " + path +
                                   ": readable by every user (chmod 600 it)");
  }
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\r' ||
                            token.back() == '\t')) {
    token.pop_back();
  }
  if (token.size() < 16) {
    return Status::InvalidArgument(
        "--token-file " + path +
        ": the token (first line) is shorter than 16 characters");
  }
  return token;
}

std::optional<ApiError> CheckBearer(const std::string& authorization,
                                    const std::string& token) {
  const std::string prefix = "Bearer ";
  bool ok = false;
  if (authorization.compare(0, prefix.size(), prefix) == 0) {
    std::string given = authorization.substr(prefix.size());
    // Constant time in the token's length: no early exit on a mismatch.
    unsigned diff = given.size() == token.size() ? 0 : 1;
    for (size_t i = 0; i < token.size(); ++i) {
      char g = i < given.size() ? given[i] : '\0';
      diff |= static_cast<unsigned>(g ^ token[i]);
    }
    ok = diff == 0;
  }
  if (ok) return std::nullopt;
  ApiError e;
  e.http_status = 401;
  e.code = "unauthenticated";
  e.field = "Authorization";
  e.message = authorization.empty()
                  ? "TCP requests need an Authorization: Bearer token"
                  : "the bearer token is not pcipassd's";
  return e;
}

}  // namespace pcipass::daemon
