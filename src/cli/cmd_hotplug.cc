// pcipass hotplug: put an instance's claimed devices into its running VM
// (QMP device_add vfio-pci), or take them out again (--unplug: device_del,
// then wait until the guest has let each device go).
//
// The devices, their ids (hostdev0, ...) and properties are exactly those
// of vm-config (hv/vm_plan.h), so a device hot-plugged here and one given
// on the command line look the same to the guest. Reads the ledger, never
// writes it: claiming and releasing stay with claim/release. Unplug is the
// step before release: only when QEMU reports DEVICE_DELETED is the host
// device free of the VM.
#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "service/vm_ops.h"

namespace pcipass::cli {

namespace {

int Run(CommandContext& ctx, const service::HotplugParams& o) {
  service::HotplugReply r = service::Hotplug(ctx.Env(), o);
  if (!ctx.json()) {
    for (const service::HotplugDone& d : r.done) {
      ctx.out() << (o.unplug ? "unplugged " : "plugged ") << d.host_address
                << " as " << d.id << "\n";
    }
  }
  if (r.failed) return ReportFailure(r, ctx);
  if (ctx.json()) ctx.out() << r.json.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

RunFn SetupHotplugCommand(CLI::App& sub) {
  auto o = std::make_shared<service::HotplugParams>();
  sub.add_option("--instance", o->instance, "instance (VM) id")->required();
  sub.add_option("--qmp", o->qmp_socket,
                 "the VM's QMP Unix socket (qemu -qmp "
                 "unix:PATH,server=on,wait=off)")
      ->required();
  sub.add_option("--bus", o->bus,
                 "bus to plug onto; it must support hot-plug (on q35 a "
                 "pcie-root-port id, not pcie.0)");
  sub.add_option("--machine", o->machine, "q35 or pc");
  sub.add_flag("--unplug", o->unplug,
               "device_del every device and wait for the guest to let go");
  sub.add_option("--timeout", o->timeout_ms,
                 "milliseconds to wait for QEMU and, with --unplug, for the "
                 "guest, 1..3600000 (default 10000)")
      ->check(CLI::Range(1, kMaxWriteTimeoutMs));
  sub.add_option("--pin", o->pins, "HOST=GUEST as in vm-config");
  return [o](CommandContext& ctx) { return Run(ctx, *o); };
}

}  // namespace pcipass::cli
