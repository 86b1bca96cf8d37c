#include "service/vm_ops.h"

#include <exception>
#include <filesystem>
#include <memory>
#include <system_error>

#include "core/values.h"
#include "hv/libvirt_xml.h"
#include "hv/qemu_args.h"
#include "hv/qmp_socket.h"
#include "hv/vm_config_json.h"
#include "service/json_params.h"
#include "store/ledger.h"

namespace pcipass::service {

namespace {

using ojson = nlohmann::ordered_json;

// InvalidArgument unless |value| is one of |accepted|.
Status OneOf(const char* field, const std::string& value,
             std::initializer_list<const char*> accepted) {
  std::string list;
  for (const char* a : accepted) {
    if (value == a) return Status::Ok();
    list += list.empty() ? "" : ", ";
    list += std::string(a);
  }
  return Status::InvalidArgument(std::string(field) + " '" + value +
                                 "' is not accepted; use one of: " + list);
}

// The instance's claims from the ledger, for the planner. |missing_hint|
// ends the NotFound message when there is no ledger file.
Result<std::vector<hv::ClaimedDevice>> LoadClaimed(
    const ServiceEnv& env, const std::string& instance,
    const std::string& missing_hint) {
  PCIPASS_RETURN_IF_ERROR(CheckInstanceId(instance));
  std::filesystem::path path =
      std::filesystem::path(env.state_dir) / "ledger.sqlite";
  std::error_code ec;
  // A read-only operation must not create a state directory or an empty
  // ledger as a side effect.
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("no claims ledger at " + path.string() + "; " +
                            missing_hint);
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

constexpr int kMaxGuestMemoryMib = 1 << 30;
constexpr int kMaxGuestVcpus = 4096;

Status ValidateVmConfig(const VmConfigParams& p) {
  if (p.instance.empty()) {
    return Status::InvalidArgument(
        "instance is required: the instance (VM) id whose claimed devices "
        "to configure (--instance ID, \"instance\")");
  }
  PCIPASS_RETURN_IF_ERROR(
      OneOf("format (--format)", p.format, {"libvirt", "qemu", "json"}));
  PCIPASS_RETURN_IF_ERROR(
      OneOf("virt_type (--virt-type)", p.virt_type, {"kvm", "qemu"}));
  PCIPASS_RETURN_IF_ERROR(
      OneOf("machine (--machine)", p.machine, {"q35", "pc"}));
  PCIPASS_RETURN_IF_ERROR(
      OneOf("managed (--managed)", p.managed, {"spec", "yes", "no"}));
  // The same ranges as the API fields (FromJson below): 1 MiB to 1 PiB,
  // 1 to 4096 vCPUs (KVM's KVM_MAX_VCPUS on x86 is at most 4096).
  if (p.memory_mib <= 0 || p.memory_mib > kMaxGuestMemoryMib) {
    return Status::InvalidArgument(
        "memory_mib (--memory) " + std::to_string(p.memory_mib) +
        " is not accepted; give the guest memory in MiB, 1 to " +
        std::to_string(kMaxGuestMemoryMib));
  }
  if (p.vcpus <= 0 || p.vcpus > kMaxGuestVcpus) {
    return Status::InvalidArgument(
        "vcpus (--vcpus) " + std::to_string(p.vcpus) +
        " is not accepted; give 1 to " + std::to_string(kMaxGuestVcpus));
  }
  if (p.domain_xml && p.format != "libvirt") {
    return Status::InvalidArgument(
        "--domain-xml wraps libvirt elements in a <domain>; use it with "
        "--format libvirt (the default)");
  }
  return Status::Ok();
}

}  // namespace

Result<VmConfigParams> VmConfigParams::FromJson(const nlohmann::json& body) {
  VmConfigParams p;
  JsonFields f(body, "vm-config parameters");
  f.String("instance", &p.instance, true);
  f.String("format", &p.format);
  f.Bool("domain_xml", &p.domain_xml);
  f.String("name", &p.domain_name);
  f.String("virt_type", &p.virt_type);
  f.Int("memory_mib", &p.memory_mib, 1, kMaxGuestMemoryMib);
  f.Int("vcpus", &p.vcpus, 1, kMaxGuestVcpus);
  f.String("machine", &p.machine);
  f.String("managed", &p.managed);
  f.StringList("pins", &p.flags.pins);
  f.StringList("macs", &p.flags.macs);
  f.StringList("vlans", &p.flags.vlans);
  f.StringList("interfaces", &p.flags.interfaces);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<HotplugParams> HotplugParams::FromJson(const nlohmann::json& body) {
  HotplugParams p;
  JsonFields f(body, "hotplug body");
  f.String("instance", &p.instance, true);
  f.String("qmp", &p.qmp_socket, true);
  f.String("bus", &p.bus);
  f.String("machine", &p.machine);
  f.Bool("unplug", &p.unplug);
  f.Int("timeout_ms", &p.timeout_ms, 1, 3600000);
  f.StringList("pins", &p.pins);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

VmConfigReply VmConfig(const ServiceEnv& env, const VmConfigParams& p) {
  VmConfigReply reply;
  try {
    if (Status s = ValidateVmConfig(p); !s.ok()) {
      reply.Fail(s);
      return reply;
    }
    Result<std::vector<hv::ClaimedDevice>> claims =
        LoadClaimed(env, p.instance,
                    "nothing has been claimed on this host yet (pcipass claim "
                    "--instance " +
                        p.instance + " ...), or pass --state DIR");
    if (!claims.ok()) {
      reply.Fail(claims.status());
      return reply;
    }
    hv::VmConfigFlags flags = p.flags;
    if (p.managed != "spec") flags.managed = p.managed == "yes";
    Result<std::vector<hv::HostdevAssignment>> plan =
        hv::PlanAssignments(p.instance, *claims, flags);
    if (!plan.ok()) {
      reply.Fail(plan.status());
      return reply;
    }
    reply.plan = std::move(*plan);
    const hv::QemuOptions qemu{.machine = p.machine};
    hv::DomainOptions dom;
    dom.name = p.domain_name.empty() ? p.instance : p.domain_name;
    dom.type = p.virt_type;
    dom.memory_mib = p.memory_mib;
    dom.vcpus = p.vcpus;
    dom.machine = p.machine;

    // The requested format first, so its error is the one reported.
    if (p.format == "qemu") {
      Result<hv::QemuArgs> args = hv::QemuDeviceArgs(reply.plan, qemu);
      if (!args.ok()) {
        reply.Fail(args.status());
        return reply;
      }
      reply.qemu_notes = args->notes;
      reply.text = hv::ShellJoin(args->argv);
    } else if (p.format == "libvirt") {
      Result<std::string> xml = p.domain_xml
                                    ? hv::LibvirtDomainXml(dom, reply.plan)
                                    : hv::LibvirtDevicesXml(reply.plan);
      if (!xml.ok()) {
        reply.Fail(xml.status());
        return reply;
      }
      reply.text = std::move(*xml);
    }
    Result<nlohmann::json> j = hv::VmConfigJson(p.instance, reply.plan, qemu);
    if (!j.ok()) {
      reply.Fail(j.status());
      return reply;
    }
    if (p.domain_xml) {
      // Already built above for format libvirt (the only one allowed).
      (*j)["domain_xml"] = reply.text;
    } else {
      (*j)["domain_xml"] = nullptr;
    }
    reply.json = ojson(*j);
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("vm-config: ") + e.what()));
  }
  return reply;
}

HotplugReply Hotplug(const ServiceEnv& env, const HotplugParams& p) {
  HotplugReply reply;
  const char* action = p.unplug ? "unplug" : "hotplug";
  try {
    if (p.instance.empty()) {
      reply.Fail(Status::InvalidArgument(
          "instance is required: the instance (VM) id whose claimed devices "
          "to plug (--instance ID, \"instance\")"));
      return reply;
    }
    if (p.qmp_socket.empty()) {
      reply.Fail(Status::InvalidArgument(
          "qmp is required: the VM's QMP Unix socket (qemu -qmp "
          "unix:PATH,server=on,wait=off; --qmp PATH, \"qmp\")"));
      return reply;
    }
    if (Status s = OneOf("machine (--machine)", p.machine, {"q35", "pc"});
        !s.ok()) {
      reply.Fail(s);
      return reply;
    }
    if (p.timeout_ms <= 0 || p.timeout_ms > kMaxWriteTimeoutMs) {
      reply.Fail(Status::InvalidArgument(
          "timeout_ms (--timeout) " + std::to_string(p.timeout_ms) +
          " is not accepted; give milliseconds, 1..3600000"));
      return reply;
    }
    Result<std::vector<hv::ClaimedDevice>> claims =
        LoadClaimed(env, p.instance,
                    "claim devices first (pcipass claim --instance " +
                        p.instance + " ...), or pass --state DIR");
    if (!claims.ok()) {
      reply.Fail(claims.status());
      return reply;
    }
    hv::VmConfigFlags flags;
    flags.pins = p.pins;
    Result<std::vector<hv::HostdevAssignment>> plan =
        hv::PlanAssignments(p.instance, *claims, flags);
    if (!plan.ok()) {
      reply.Fail(plan.status());
      return reply;
    }
    Result<std::unique_ptr<hv::QmpClient>> qmp =
        hv::QmpClient::Connect(p.qmp_socket, p.timeout_ms);
    if (!qmp.ok()) {
      reply.Fail(qmp.status());
      return reply;
    }
    for (const hv::HostdevAssignment& d : *plan) {
      Status s =
          p.unplug ? hv::UnplugDevice(**qmp, d.id, p.timeout_ms)
                   : hv::HotplugDevice(**qmp, d, p.bus, {.machine = p.machine});
      if (!s.ok()) {
        // Earlier devices stay as they are now: say which, so the operator
        // knows the VM's state exactly.
        std::string so_far;
        for (const HotplugDone& done : reply.done) {
          so_far += so_far.empty() ? "" : ", ";
          so_far += done.host_address;
        }
        std::vector<HotplugDone> done = std::move(reply.done);
        reply.Fail(s.WithContext(
            std::string(action) + " of instance " + p.instance +
            " stopped at " + d.host.ToString() +
            (so_far.empty()
                 ? std::string(p.unplug ? "; no earlier device was unplugged"
                                        : "; nothing was plugged")
                 : "; already " +
                       std::string(p.unplug ? "unplugged" : "plugged") + ": " +
                       so_far)));
        reply.done = std::move(done);
        return reply;
      }
      reply.done.push_back({d.id, d.host.ToString()});
      if (env.progress) {
        env.progress({action, "device",
                      std::string(p.unplug ? "unplugged " : "plugged ") +
                          d.host.ToString() + " as " + d.id});
      }
    }
    nlohmann::json devices = nlohmann::json::array();
    for (const HotplugDone& d : reply.done) {
      devices.push_back({{"id", d.id}, {"host_address", d.host_address}});
    }
    reply.json = ojson(nlohmann::json{
        {"instance", p.instance}, {"action", action}, {"devices", devices}});
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string(action) + ": " + e.what()));
  }
  return reply;
}

}  // namespace pcipass::service
