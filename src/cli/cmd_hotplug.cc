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
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <system_error>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/values.h"
#include "hv/qmp_socket.h"
#include "hv/vm_plan.h"
#include "store/ledger.h"

namespace pcipass::cli {

namespace {

struct HotplugOptions {
  std::string instance;
  std::string qmp_socket;
  std::string bus;
  std::string machine = "q35";
  bool unplug = false;
  int timeout_ms = 10000;
  hv::VmConfigFlags flags;
};

Result<std::vector<hv::HostdevAssignment>> Plan(CommandContext& ctx,
                                                const HotplugOptions& o) {
  std::filesystem::path path =
      std::filesystem::path(ctx.StateDir()) / "ledger.sqlite";
  PCIPASS_RETURN_IF_ERROR(CheckInstanceId(o.instance));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("no claims ledger at " + path.string() +
                            "; claim devices first (pcipass claim "
                            "--instance " +
                            o.instance + " ...), or pass --state DIR");
  }
  Result<std::unique_ptr<Ledger>> ledger = Ledger::OpenSqlite(path);
  if (!ledger.ok()) return ledger.status();
  Result<std::vector<ClaimRecord>> claims = (*ledger)->ListClaims(o.instance);
  if (!claims.ok()) return claims.status();
  std::vector<hv::ClaimedDevice> devices;
  for (const ClaimRecord& c : *claims) {
    devices.push_back({.address = c.address,
                       .dev_type = c.dev_type,
                       .pci_alias = c.alias_name,
                       .tags = c.tags,
                       .state = c.state});
  }
  return hv::PlanAssignments(o.instance, devices, o.flags);
}

int Run(CommandContext& ctx, const HotplugOptions& o) {
  auto fail = [&](const Status& s) {
    return ReportError(s, ctx.json(), ctx.out(), ctx.err());
  };
  Result<std::vector<hv::HostdevAssignment>> plan = Plan(ctx, o);
  if (!plan.ok()) return fail(plan.status());
  Result<std::unique_ptr<hv::QmpClient>> qmp =
      hv::QmpClient::Connect(o.qmp_socket, o.timeout_ms);
  if (!qmp.ok()) return fail(qmp.status());

  nlohmann::json done = nlohmann::json::array();
  for (const hv::HostdevAssignment& d : *plan) {
    Status s = o.unplug
                   ? hv::UnplugDevice(**qmp, d.id, o.timeout_ms)
                   : hv::HotplugDevice(**qmp, d, o.bus, {.machine = o.machine});
    if (!s.ok()) {
      // Earlier devices stay as they are now: say which, so the operator
      // knows the VM's state exactly.
      std::string so_far;
      for (const auto& j : done) {
        so_far +=
            (so_far.empty() ? "" : ", ") + j["host_address"].get<std::string>();
      }
      return fail(s.WithContext(
          std::string(o.unplug ? "unplug" : "hotplug") + " of instance " +
          o.instance + " stopped at " + d.host.ToString() +
          (so_far.empty()
               ? std::string(o.unplug ? "; no earlier device was unplugged"
                                      : "; nothing was plugged")
               : "; already " +
                     std::string(o.unplug ? "unplugged" : "plugged") + ": " +
                     so_far)));
    }
    done.push_back({{"id", d.id}, {"host_address", d.host.ToString()}});
    if (!ctx.json()) {
      ctx.out() << (o.unplug ? "unplugged " : "plugged ") << d.host.ToString()
                << " as " << d.id << "\n";
    }
  }
  if (ctx.json()) {
    ctx.out() << nlohmann::json{{"instance", o.instance},
                                {"action", o.unplug ? "unplug" : "hotplug"},
                                {"devices", done}}
                     .dump(2)
              << "\n";
  }
  return kExitOk;
}

}  // namespace

RunFn SetupHotplugCommand(CLI::App& sub) {
  auto o = std::make_shared<HotplugOptions>();
  sub.add_option("--instance", o->instance, "instance (VM) id")->required();
  sub.add_option("--qmp", o->qmp_socket,
                 "the VM's QMP Unix socket (qemu -qmp "
                 "unix:PATH,server=on,wait=off)")
      ->required();
  sub.add_option("--bus", o->bus,
                 "bus to plug onto; it must support hot-plug (on q35 a "
                 "pcie-root-port id, not pcie.0)");
  sub.add_option("--machine", o->machine, "q35 or pc")
      ->check(CLI::IsMember({"q35", "pc"}));
  sub.add_flag("--unplug", o->unplug,
               "device_del every device and wait for the guest to let go");
  sub.add_option("--timeout", o->timeout_ms,
                 "milliseconds to wait for QEMU and, with --unplug, for the "
                 "guest, 1..3600000 (default 10000)")
      ->check(CLI::Range(1, kMaxWriteTimeoutMs));
  sub.add_option("--pin", o->flags.pins, "HOST=GUEST as in vm-config");
  return [o](CommandContext& ctx) { return Run(ctx, *o); };
}

}  // namespace pcipass::cli
