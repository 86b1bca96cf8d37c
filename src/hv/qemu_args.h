// QEMU command-line arguments for passthrough devices.
//
// Each assignment becomes two argv entries:
//   -device vfio-pci,host=0000:81:00.1,id=hostdev0[,bus=pcie.0,addr=0x5.0]
// QEMU splits -device values on ',' and reads ",," as a literal comma, so
// every value is escaped by doubling its commas (QemuOptValue). The vector
// form is for execve()/subprocess use; ShellJoin gives the same arguments as
// one POSIX-shell-quoted line for scripts and humans.
//
// A pinned guest address becomes bus=<bus id>,addr=<slot>.<function>. Bus 0
// is the machine's root bus ("pcie.0" on q35, "pci.0" on pc/i440fx); any
// other guest bus N is named "pci.N", libvirt's naming, and the operator
// must create that bus (a pcie-root-port or pci-bridge with id=pci.N).
//
// QEMU cannot set a VF's MAC or VLAN (libvirt does it through the PF before
// starting QEMU), so for interfaces with a MAC/VLAN the result carries a
// note saying what the operator must do; the arguments are the same as for
// a plain device.
#ifndef PCIPASS_HV_QEMU_ARGS_H_
#define PCIPASS_HV_QEMU_ARGS_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "hv/assignment.h"

namespace pcipass::hv {

struct QemuOptions {
  std::string machine = "q35";  // "q35" (root bus pcie.0) or "pc" (pci.0)
};

struct QemuArgs {
  std::vector<std::string> argv;   // "-device", "vfio-pci,...", ...
  std::vector<std::string> notes;  // things QEMU's arguments cannot say
};

// Escapes one -device property value: ',' becomes ",,".
std::string QemuOptValue(std::string_view value);

// The -device arguments for |devices|, in order. InvalidArgument if
// ValidateAssignments refuses them or the machine is not q35/pc.
Result<QemuArgs> QemuDeviceArgs(std::span<const HostdevAssignment> devices,
                                const QemuOptions& options = {});

// Quotes one word for a POSIX shell: words made only of
// [A-Za-z0-9_@%+=:,./-] stay as they are, anything else is wrapped in single
// quotes with embedded single quotes written as '\''. The empty word is ''.
std::string ShellQuote(std::string_view word);

// ShellQuote of each word, joined by single spaces.
std::string ShellJoin(std::span<const std::string> words);

}  // namespace pcipass::hv

#endif  // PCIPASS_HV_QEMU_ARGS_H_
