// pcipass-ledger-seed: test helper that writes claim rows into a pcipass
// ledger through the Ledger API, so vm-config can be exercised (in the QEMU
// lab, for instance) independently of how the claim was made.
//
//   pcipass-ledger-seed LEDGER INSTANCE ADDR[/TYPE[/ALIAS[/TAG=VALUE...]]]...
//     TYPE  type-PCI (default), type-PF or type-VF
//
// Exit 0 when every row was written, 1 on any error (message on stderr),
// 2 on usage errors. Not installed; never used by pcipass itself.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "store/ledger.h"

namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pcipass;
  if (argc < 4) {
    std::cerr << "usage: pcipass-ledger-seed LEDGER INSTANCE "
                 "ADDR[/TYPE[/ALIAS[/TAG=VALUE...]]]...\n";
    return 2;
  }
  Result<std::unique_ptr<Ledger>> ledger = Ledger::OpenSqlite(argv[1]);
  if (!ledger.ok()) {
    std::cerr << "pcipass-ledger-seed: " << ledger.status().message() << "\n";
    return 1;
  }
  std::vector<ClaimRecord> claims;
  for (int i = 3; i < argc; ++i) {
    // The address itself contains ':', so split on '/' instead.
    std::vector<std::string> parts = Split(argv[i], '/');
    Result<PciAddress> addr = PciAddress::Parse(parts.empty() ? "" : parts[0]);
    if (!addr.ok()) {
      std::cerr << "pcipass-ledger-seed: " << addr.status().message() << "\n";
      return 2;
    }
    ClaimRecord c;
    c.instance = argv[2];
    c.address = *addr;
    c.request_id = c.instance + "/0";
    c.alias_name = parts.size() > 2 ? parts[2] : "seed";
    c.state = "allocated";
    if (parts.size() > 1 && !parts[1].empty()) {
      std::optional<DeviceType> type = ParseDeviceType(parts[1]);
      if (!type) {
        std::cerr << "pcipass-ledger-seed: bad type " << parts[1] << "\n";
        return 2;
      }
      c.dev_type = *type;
    }
    for (size_t t = 3; t < parts.size(); ++t) {
      size_t eq = parts[t].find('=');
      if (eq == std::string::npos) {
        c.tags[parts[t]] = std::nullopt;
      } else {
        c.tags[parts[t].substr(0, eq)] = parts[t].substr(eq + 1);
      }
    }
    claims.push_back(std::move(c));
  }
  Status s = (*ledger)->Transact([&](LedgerTxn& txn) {
    for (const ClaimRecord& c : claims) {
      PCIPASS_RETURN_IF_ERROR(txn.AddClaim(c));
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    std::cerr << "pcipass-ledger-seed: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
