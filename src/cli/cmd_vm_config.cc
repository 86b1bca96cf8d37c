// pcipass vm-config: the VM configuration for an instance's claimed
// devices: libvirt <hostdev>/<interface> elements (or a whole minimal
// <domain> with --domain-xml), QEMU -device arguments, or JSON.
//
// It reads the claims from the ledger (<state>/ledger.sqlite) and changes
// nothing: not the ledger, not the host. The rules that turn claims and the
// per-device flags into assignments are in hv/vm_plan.h; the generators in
// hv/libvirt_xml.h, hv/qemu_args.h and hv/vm_config_json.h.
#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "service/vm_ops.h"

namespace pcipass::cli {

namespace {

int Run(CommandContext& ctx, const service::VmConfigParams& o) {
  service::VmConfigReply r = service::VmConfig(ctx.Env(), o);
  if (r.failed) return ReportFailure(r, ctx);
  if (o.format == "json" || ctx.json()) {
    ctx.out() << r.json.dump(2) << "\n";
    return kExitOk;
  }
  if (o.format == "qemu") {
    for (const std::string& note : r.qemu_notes) {
      ctx.err() << "pcipass: note: " << note << "\n";
    }
    ctx.out() << r.text << "\n";
    return kExitOk;
  }
  ctx.out() << r.text;
  return kExitOk;
}

}  // namespace

RunFn SetupVmConfigCommand(CLI::App& sub) {
  auto o = std::make_shared<service::VmConfigParams>();
  sub.add_option("--instance", o->instance, "instance (VM) id")->required();
  sub.add_option("--format", o->format,
                 "libvirt (<hostdev>/<interface> XML), qemu (-device "
                 "arguments, shell-quoted) or json");
  sub.add_flag("--domain-xml", o->domain_xml,
               "libvirt: a whole minimal <domain> around the devices");
  sub.add_option("--name", o->domain_name,
                 "--domain-xml: domain name (default: the instance id)");
  sub.add_option("--virt-type", o->virt_type, "--domain-xml: kvm or qemu");
  sub.add_option("--memory", o->memory_mib, "--domain-xml: memory in MiB");
  sub.add_option("--vcpus", o->vcpus, "--domain-xml: vCPU count");
  sub.add_option("--machine", o->machine,
                 "q35 (root bus pcie.0) or pc (pci.0)");
  sub.add_option("--managed", o->managed,
                 "spec (default: yes only when the device_spec's managed tag "
                 "says yes; pcipass claim detached the others), yes (libvirt "
                 "binds and unbinds the devices) or "
                 "no (libvirt leaves the vfio-pci binding to pcipass)");
  sub.add_option("--pin", o->flags.pins,
                 "HOST=GUEST: put host function HOST at guest address GUEST "
                 "(e.g. 0000:81:00.1=00:05.0); repeatable");
  sub.add_option("--mac", o->flags.macs,
                 "HOST=MAC: MAC of a VF used as a NIC; repeatable");
  sub.add_option("--vlan", o->flags.vlans,
                 "HOST=ID: VLAN (1-4094) of a VF used as a NIC; repeatable");
  sub.add_option("--interface", o->flags.interfaces,
                 "HOST: give this VF as <interface type='hostdev'>; "
                 "repeatable");
  return [o](CommandContext& ctx) { return Run(ctx, *o); };
}

}  // namespace pcipass::cli
