// Hand-off: taking PCI devices from the host for VFIO and giving them back.
//
// Detach moves devices to vfio-pci the way the kernel intends: write
// `driver_override` = "vfio-pci" (read back), unbind from the current driver
// (with a watchdog, because unbind can block), ask the bus to reprobe
// (`drivers_probe`), read the `driver` link back and wait for
// /dev/vfio/<group>. It never uses `new_id` (which grabs every device with
// the same ids, host ones included). Reattach undoes it: restore the
// previous override, unbind from vfio-pci, reprobe, and check that the
// recorded original driver took the device (binding it explicitly if
// another driver did).
//
// Safety rules, checked on a fresh discovery before any write:
//  - the device exists, is not a bridge, has a real IOMMU group (noiommu is
//    refused) and its group has no "direct" (RMRR) region;
//  - neither the device nor any group-mate is used by the host (active
//    netdev, mounted disk, console) unless --force REASON, which is logged;
//  - the whole group ends up viable: otherwise refuse naming the blocking
//    members, or with whole_group take every endpoint member (bridges stay
//    on pcieport);
//  - a PF with VFs enabled is refused (the VFs are named).
//
// Atomicity: the original driver and previous override of every device are
// recorded in the state directory and a journal (<state>/journal.json,
// fsync + rename) is written before each step. If any step fails, every
// device already changed is restored and the report says what happened. If
// the process dies between steps, the next Detach/Reattach (or
// RecoverJournal) rolls the unfinished operation back. Concurrent pcipass
// processes serialise on flock(<state>/lock), which Detach, Reattach and
// SetNumVfs take themselves (not with dry_run): a caller must not hold a
// flock on that same file when calling them, because two open()s of one
// file conflict even within one process (use another lock file, e.g. the
// ledger's own).
#ifndef PCIPASS_BINDING_HANDOFF_H_
#define PCIPASS_BINDING_HANDOFF_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/host_root.h"
#include "core/status.h"

namespace pcipass {

class KernelIo;  // binding/kernel_io.h

struct HandOffOptions {
  std::string state_dir;                    // journal, lock, records
  bool dry_run = false;                     // print planned writes only
  bool whole_group = false;                 // --group
  std::optional<std::string> force_reason;  // --force REASON (logged)
  std::chrono::milliseconds write_timeout{15000};
};

// One sysfs write: the file, the value and why it is written.
struct PlannedWrite {
  std::string path;
  std::string value;
  std::string why;
};

struct HandOffReport {
  std::vector<PlannedWrite> writes;      // in order (executed, or planned)
  std::vector<PciAddress> changed;       // devices whose binding changed
  std::vector<PciAddress> already_done;  // no-ops
  // Reattach only: taken off vfio-pci but left unbound, because no record
  // says which driver had it (a note says how to bind it).
  std::vector<PciAddress> left_unbound;
  std::vector<std::string> notes;  // "original driver unknown: left unbound"
};

// Hands |devices| to vfio-pci (see the file comment for the rules).
// Outcomes: the report (devices already on vfio-pci are listed in
// already_done and untouched; with dry_run nothing is written and `writes`
// is the plan); InvalidArgument for an empty list; NotFound for an unknown
// device; FailedPrecondition for a refusal (bridge, no IOMMU group,
// noiommu, direct region, host use, group not viable, PF with VFs) naming
// the device and the reason; Unavailable/IOError/PermissionDenied when a
// kernel write fails, after every change has been rolled back (the message
// says what failed and what was restored; DataLoss if the rollback itself
// failed, naming the devices left in an unknown state).
Result<HandOffReport> Detach(const HostRoot& host,
                             const std::vector<PciAddress>& devices,
                             const HandOffOptions& opts);

// Gives |devices| back to their original drivers (recorded at detach time).
// Devices not on vfio-pci are already_done. A device with no record and no
// previous driver is left unbound with a note. Same error outcomes as
// Detach; host-use and group rules do not apply (returning is always safe)
// but whole_group returns every member detached with it.
Result<HandOffReport> Reattach(const HostRoot& host,
                               const std::vector<PciAddress>& devices,
                               const HandOffOptions& opts);

// Same as above with an explicit kernel interface (tests use a fake that
// reacts like the kernel; production uses the sysfs one).
Result<HandOffReport> Detach(const HostRoot& host, KernelIo& io,
                             const std::vector<PciAddress>& devices,
                             const HandOffOptions& opts);
Result<HandOffReport> Reattach(const HostRoot& host, KernelIo& io,
                               const std::vector<PciAddress>& devices,
                               const HandOffOptions& opts);

// The pre-flight of Detach on a discovered inventory, without I/O: the
// devices that would change (sorted; with whole_group the group's endpoint
// members are added) and those already on vfio-pci. Same refusals as
// Detach. |notes| receives the host-use overrides taken with --force.
struct DetachSet {
  std::vector<PciAddress> to_change;
  std::vector<PciAddress> already_done;
  std::vector<std::string> notes;
};
class Inventory;
Result<DetachSet> PlanDetachSet(const Inventory& inv,
                                const std::vector<PciAddress>& devices,
                                const HandOffOptions& opts);

// Finishes an operation a previous pcipass process left in
// <state_dir>/journal.json (it died between steps): every device listed is
// put back into its recorded original state (an interrupted detach is
// rolled back, an interrupted reattach is rolled forward) and an
// interrupted VF-count change is completed. The caller must hold the state
// lock. Outcomes: OK (no journal, or recovered: |notes| says what was
// done); DataLoss if the journal is corrupt or a device could not be
// restored (the journal is kept for the next attempt).
Status RecoverJournal(const HostRoot& host, KernelIo& io,
                      const std::string& state_dir,
                      std::chrono::milliseconds write_timeout,
                      std::vector<std::string>* notes);

// RecoverJournal for commands that change bindings only indirectly (claim,
// release): takes the state lock itself (blocking while another pcipass
// changes bindings) and uses the production kernel interface. Must be
// called before the caller discovers the host, so it decides on a host that
// no earlier, killed pcipass left half-way (e.g. a claim SIGKILLed in the
// middle of its hand-off). Outcomes: OK (no journal: nothing is locked or
// created; or recovered, |notes| says what was done); the lock error; the
// RecoverJournal error (DataLoss, journal kept).
Status RecoverUnfinishedHandOff(const HostRoot& host,
                                const std::string& state_dir,
                                std::vector<std::string>* notes);

}  // namespace pcipass

#endif  // PCIPASS_BINDING_HANDOFF_H_
