// Confined opening of host files (implemented in host_root.cc, next to the
// path mapping it protects).
//
// A tree under a root other than "/" is data, possibly hostile: a fixture
// tarball whose `sriov_numvfs` links to /etc/passwd. Every host file is
// opened through these functions, which resolve each path component,
// symlink targets included, inside the root: an absolute target means
// <root>/<target>, ".." stops at the root, magic links (/proc/PID/fd) are
// refused. The kernel does this (openat2 RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS, Linux >= 5.6); on older kernels (ENOSYS) a
// component-wise O_NOFOLLOW walk applies the same rules, at most 40 links.
// Real sysfs's relative links (driver -> ../../../bus/pci/drivers/e1000e)
// resolve as before. Root "/" is the real host: plain open(2).
//
// Every HostRoot made in the process registers its root (for the life of
// the process, so a path built from a temporary HostRoot stays confined);
// OpenHostPath finds the root a path lies under from that registry.
#ifndef PCIPASS_CORE_HOST_ROOT_OPEN_H_
#define PCIPASS_CORE_HOST_ROOT_OPEN_H_

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "core/host_root.h"

namespace pcipass::hostfs {

// An O_PATH fd of |host|'s root for repeated OpenUnder calls; the caller
// closes it. -1 with errno set when the root cannot be opened.
int OpenRootFd(const HostRoot& host);

// Opens |rel| (relative to the root; a leading "/" is ignored) below
// |rootfd| with open(2) |flags|, every component resolved inside the root.
// With O_NOFOLLOW a final symlink is not followed (O_PATH | O_NOFOLLOW
// opens the link itself). Returns an fd or -1 with errno set.
int OpenUnder(int rootfd, std::string_view rel, int flags);

// Opens |path| (as built by HostRoot) confined to the root of the HostRoot
// it lies under: the longest registered root other than "/". Paths under
// no such root (the real host, a config file elsewhere) are opened with
// plain open(2). Returns an fd or -1 with errno set.
int OpenHostPath(const std::filesystem::path& path, int flags);

// The registered root |path| lies under ("" for none) and |path| relative
// to it.
std::pair<std::string, std::string> SplitHostPath(
    const std::filesystem::path& path);

// |path| (under |host|'s root) with every existing component resolved
// inside the root, so no symlink is left for a later plain open to follow
// out of it; components that do not exist yet are appended as given. The
// path is returned unchanged for root "/" and when no link was on the way.
std::filesystem::path ResolveInRoot(const HostRoot& host,
                                    const std::filesystem::path& path);

namespace internal {
// Test seams: the openat2-less fallback walk, and a switch that makes
// OpenUnder use it even where openat2 exists.
int WalkInRoot(int rootfd, std::string_view rel, int flags);
extern std::atomic<bool> g_force_walk;
}  // namespace internal

}  // namespace pcipass::hostfs

#endif  // PCIPASS_CORE_HOST_ROOT_OPEN_H_
