// pcipass vfio-check ADDR : can a VMM really open this device through VFIO?
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "binding/vfio_probe.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace pcipass::cli {

RunFn SetupVfioCheckCommand(CLI::App& sub) {
  auto address = std::make_shared<std::string>();
  sub.add_option("address", *address, "PCI address (dddd:bb:ss.f)")->required();
  return [address](CommandContext& ctx) -> int {
    auto addr = PciAddress::Parse(*address);
    if (!addr.ok()) {
      return ReportError(addr.status(), ctx.json(), ctx.out(), ctx.err());
    }
    auto r = ProbeVfio(ctx.host(), *addr);
    if (!r.ok()) {
      return ReportError(r.status(), ctx.json(), ctx.out(), ctx.err());
    }
    if (ctx.json()) {
      nlohmann::json j;
      j["address"] = r->address.ToString();
      j["iommu_group"] = r->group;
      j["ok"] = r->ok;
      j["steps"] = nlohmann::json::array();
      for (const auto& s : r->steps) {
        j["steps"].push_back(
            {{"name", s.name}, {"ok", s.ok}, {"detail", s.detail}});
      }
      ctx.out() << j.dump(2) << "\n";
    } else {
      for (const auto& s : r->steps) {
        ctx.out() << (s.ok ? "ok    " : "FAIL  ") << s.name << "  " << s.detail
                  << "\n";
      }
      ctx.out() << r->address.ToString() << ": "
                << (r->ok ? "a VMM can open it through VFIO"
                          : "NOT usable through VFIO")
                << "\n";
    }
    return r->ok ? kExitOk : kExitRefused;
  };
}

}  // namespace pcipass::cli
