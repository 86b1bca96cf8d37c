#include "service/ledger_guard.h"

#include <filesystem>
#include <map>
#include <memory>
#include <system_error>
#include <vector>

#include "claims/session.h"
#include "store/ledger.h"

namespace pcipass::service {

Result<ClaimedByFn> LoadClaimedBy(const std::string& state_dir) {
  std::filesystem::path path = claims::LedgerPath(state_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return ClaimedByFn([](const PciAddress&) -> std::optional<std::string> {
      return std::nullopt;
    });
  }
  Result<std::unique_ptr<Ledger>> ledger = Ledger::OpenSqlite(path);
  // The store's errors already name the ledger file.
  if (!ledger.ok()) return ledger.status();
  Result<std::vector<ClaimRecord>> claims = (*ledger)->ListClaims(std::nullopt);
  if (!claims.ok()) {
    return claims.status().WithContext("claims ledger " + path.string());
  }
  auto holders = std::make_shared<std::map<PciAddress, std::string>>();
  for (const ClaimRecord& c : *claims) (*holders)[c.address] = c.instance;
  return ClaimedByFn(
      [holders](const PciAddress& addr) -> std::optional<std::string> {
        auto it = holders->find(addr);
        if (it == holders->end()) return std::nullopt;
        return it->second;
      });
}

}  // namespace pcipass::service
