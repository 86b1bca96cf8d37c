// pcipass vm-config: the VM configuration for an instance's claimed
// devices: libvirt <hostdev>/<interface> elements (or a whole minimal
// <domain> with --domain-xml), QEMU -device arguments, or JSON.
//
// It reads the claims from the ledger (<state>/ledger.sqlite) and changes
// nothing: not the ledger, not the host. The rules that turn claims and the
// per-device flags into assignments are in hv/vm_plan.h; the generators in
// hv/libvirt_xml.h, hv/qemu_args.h and hv/vm_config_json.h.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <system_error>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/values.h"
#include "hv/libvirt_xml.h"
#include "hv/qemu_args.h"
#include "hv/vm_config_json.h"
#include "hv/vm_plan.h"
#include "store/ledger.h"

namespace pcipass::cli {

namespace {

struct VmConfigOptions {
  std::string instance;
  std::string format = "libvirt";
  bool domain_xml = false;
  std::string domain_name;  // default: the instance id
  std::string virt_type = "kvm";
  int memory_mib = 1024;
  int vcpus = 1;
  std::string machine = "q35";
  std::string managed = "spec";
  hv::VmConfigFlags flags;
};

Result<std::vector<hv::ClaimedDevice>> LoadClaims(CommandContext& ctx,
                                                  const std::string& instance) {
  std::filesystem::path path =
      std::filesystem::path(ctx.StateDir()) / "ledger.sqlite";
  PCIPASS_RETURN_IF_ERROR(CheckInstanceId(instance));
  std::error_code ec;
  // A read-only command must not create a state directory or an empty
  // ledger as a side effect.
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("no claims ledger at " + path.string() +
                            "; nothing has been claimed on this host yet "
                            "(pcipass claim --instance " +
                            instance + " ...), or pass --state DIR");
  }
  Result<std::unique_ptr<Ledger>> ledger = Ledger::OpenSqlite(path);
  if (!ledger.ok()) return ledger.status();
  Result<std::vector<ClaimRecord>> claims = (*ledger)->ListClaims(instance);
  if (!claims.ok()) return claims.status();
  std::vector<hv::ClaimedDevice> out;
  for (const ClaimRecord& c : *claims) {
    hv::ClaimedDevice d;
    d.address = c.address;
    d.dev_type = c.dev_type;
    d.pci_alias = c.alias_name;
    d.tags = c.tags;
    d.state = c.state;
    out.push_back(std::move(d));
  }
  return out;
}

int Run(CommandContext& ctx, const VmConfigOptions& o) {
  auto fail = [&](const Status& s) {
    return ReportError(s, ctx.json(), ctx.out(), ctx.err());
  };
  if (o.domain_xml && o.format != "libvirt") {
    return fail(Status::InvalidArgument(
        "--domain-xml wraps libvirt elements in a <domain>; use it with "
        "--format libvirt (the default)"));
  }
  Result<std::vector<hv::ClaimedDevice>> claims = LoadClaims(ctx, o.instance);
  if (!claims.ok()) return fail(claims.status());
  hv::VmConfigFlags flags = o.flags;
  if (o.managed != "spec") flags.managed = o.managed == "yes";
  Result<std::vector<hv::HostdevAssignment>> plan =
      hv::PlanAssignments(o.instance, *claims, flags);
  if (!plan.ok()) return fail(plan.status());
  const hv::QemuOptions qemu{.machine = o.machine};
  hv::DomainOptions dom;
  dom.name = o.domain_name.empty() ? o.instance : o.domain_name;
  dom.type = o.virt_type;
  dom.memory_mib = o.memory_mib;
  dom.vcpus = o.vcpus;
  dom.machine = o.machine;

  if (o.format == "json" || ctx.json()) {
    Result<nlohmann::json> j = hv::VmConfigJson(o.instance, *plan, qemu);
    if (!j.ok()) return fail(j.status());
    if (o.domain_xml) {
      Result<std::string> xml = hv::LibvirtDomainXml(dom, *plan);
      if (!xml.ok()) return fail(xml.status());
      (*j)["domain_xml"] = *xml;
    } else {
      (*j)["domain_xml"] = nullptr;
    }
    ctx.out() << j->dump(2) << "\n";
    return kExitOk;
  }
  if (o.format == "qemu") {
    Result<hv::QemuArgs> args = hv::QemuDeviceArgs(*plan, qemu);
    if (!args.ok()) return fail(args.status());
    for (const std::string& note : args->notes) {
      ctx.err() << "pcipass: note: " << note << "\n";
    }
    ctx.out() << hv::ShellJoin(args->argv) << "\n";
    return kExitOk;
  }
  Result<std::string> xml = o.domain_xml ? hv::LibvirtDomainXml(dom, *plan)
                                         : hv::LibvirtDevicesXml(*plan);
  if (!xml.ok()) return fail(xml.status());
  ctx.out() << *xml;
  return kExitOk;
}

}  // namespace

RunFn SetupVmConfigCommand(CLI::App& sub) {
  auto o = std::make_shared<VmConfigOptions>();
  sub.add_option("--instance", o->instance, "instance (VM) id")->required();
  sub.add_option("--format", o->format,
                 "libvirt (<hostdev>/<interface> XML), qemu (-device "
                 "arguments, shell-quoted) or json")
      ->check(CLI::IsMember({"libvirt", "qemu", "json"}));
  sub.add_flag("--domain-xml", o->domain_xml,
               "libvirt: a whole minimal <domain> around the devices");
  sub.add_option("--name", o->domain_name,
                 "--domain-xml: domain name (default: the instance id)");
  sub.add_option("--virt-type", o->virt_type, "--domain-xml: kvm or qemu")
      ->check(CLI::IsMember({"kvm", "qemu"}));
  sub.add_option("--memory", o->memory_mib, "--domain-xml: memory in MiB")
      ->check(CLI::PositiveNumber);
  sub.add_option("--vcpus", o->vcpus, "--domain-xml: vCPU count")
      ->check(CLI::PositiveNumber);
  sub.add_option("--machine", o->machine, "q35 (root bus pcie.0) or pc (pci.0)")
      ->check(CLI::IsMember({"q35", "pc"}));
  sub.add_option("--managed", o->managed,
                 "spec (default: yes only when the device_spec's managed tag "
                 "says yes; pcipass claim detached the others), yes (libvirt "
                 "binds and unbinds the devices) or "
                 "no (libvirt leaves the vfio-pci binding to pcipass)")
      ->check(CLI::IsMember({"spec", "yes", "no"}));
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
