// Claims-ledger lookups for the hand-off commands (sriov, apply, reattach).
//
// Those commands change which driver owns a device or whether a VF exists
// at all. A device that an instance holds in the claims ledger must not be
// given back to the host or destroyed by a VF-count change behind the
// ledger's back, so they ask the ledger first.
#ifndef PCIPASS_SERVICE_LEDGER_GUARD_H_
#define PCIPASS_SERVICE_LEDGER_GUARD_H_

#include <functional>
#include <optional>
#include <string>

#include "core/address.h"
#include "core/status.h"

namespace pcipass::service {

// Returns the instance holding a device, or nullopt when none does.
using ClaimedByFn =
    std::function<std::optional<std::string>(const PciAddress&)>;

// Reads every claim of <state_dir>/ledger.sqlite once. When there is no
// ledger file, nothing has ever been claimed here and the function always
// says nullopt (no ledger is created). Errors: the ledger's own open or
// read error, with the path; callers must refuse then, because they cannot
// prove that a device is free.
Result<ClaimedByFn> LoadClaimedBy(const std::string& state_dir);

}  // namespace pcipass::service

#endif  // PCIPASS_SERVICE_LEDGER_GUARD_H_
