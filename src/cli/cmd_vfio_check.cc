// pcipass vfio-check ADDR : can a VMM really open this device through VFIO?
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "service/binding_ops.h"

namespace pcipass::cli {

RunFn SetupVfioCheckCommand(CLI::App& sub) {
  auto address = std::make_shared<std::string>();
  sub.add_option("address", *address, "PCI address (dddd:bb:ss.f)")->required();
  return [address](CommandContext& ctx) -> int {
    service::VfioCheckReply reply = service::VfioCheck(ctx.Env(), {*address});
    if (reply.failed) return ReportFailure(reply, ctx);
    const VfioProbeResult* r = &reply.report;
    if (ctx.json()) {
      ctx.out() << reply.json.dump(2) << "\n";
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
    return reply.ExitCode();
  };
}

}  // namespace pcipass::cli
