// VM-facing operations on an instance's claimed devices: vm-config (the
// libvirt XML / QEMU arguments / JSON for them) and hotplug/unplug through
// the VM's QMP socket. Both read the ledger and never write it (nor create
// it); claiming and releasing stay with claims_ops.h.
#ifndef PCIPASS_SERVICE_VM_OPS_H_
#define PCIPASS_SERVICE_VM_OPS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hv/vm_plan.h"
#include "service/reply.h"

namespace pcipass::service {

// ---- vm-config ----
struct VmConfigParams {
  std::string instance;            // "instance", required
  std::string format = "libvirt";  // "format": libvirt | qemu | json
  bool domain_xml = false;         // "domain_xml": a whole <domain>
  std::string domain_name;         // "name": default the instance id
  std::string virt_type = "kvm";   // "virt_type": kvm | qemu
  int memory_mib = 1024;           // "memory_mib" > 0
  int vcpus = 1;                   // "vcpus" > 0
  std::string machine = "q35";     // "machine": q35 | pc
  std::string managed = "spec";    // "managed": spec | yes | no
  hv::VmConfigFlags flags;         // "pins", "macs", "vlans", "interfaces"
  static Result<VmConfigParams> FromJson(const nlohmann::json& body);
};
struct VmConfigReply : Reply {
  std::vector<hv::HostdevAssignment> plan;
  // format libvirt: the XML (devices or whole domain); qemu: the -device
  // arguments, shell-quoted on one line (no newline); json: empty.
  std::string text;
  std::vector<std::string> qemu_notes;  // what QEMU's arguments cannot say
};
// json: hv::VmConfigJson plus "domain_xml" (the <domain> with domain_xml,
// else null), for every format. Fails: InvalidArgument for a bad value
// (naming the field and what is accepted), NotFound when there is no
// ledger, the planner's errors (bad --pin/--mac/--vlan ...).
VmConfigReply VmConfig(const ServiceEnv& env, const VmConfigParams& params);

// ---- hotplug / unplug ----
struct HotplugParams {
  std::string instance;           // "instance", required
  std::string qmp_socket;         // "qmp": the VM's QMP Unix socket, required
  std::string bus;                // "bus": a hot-plug capable bus id
  std::string machine = "q35";    // "machine": q35 | pc
  bool unplug = false;            // "unplug": device_del and wait
  int timeout_ms = 10000;         // "timeout_ms" > 0
  std::vector<std::string> pins;  // "pins": HOST=GUEST as in vm-config
  static Result<HotplugParams> FromJson(const nlohmann::json& body);
};
struct HotplugDone {
  std::string id;            // hostdev0, ...
  std::string host_address;  // 0000:81:00.1
};
struct HotplugReply : Reply {
  std::vector<HotplugDone> done;  // in order; on failure those before it
};
// json: {"action": "hotplug"|"unplug", "devices": [{"host_address","id"}],
// "instance"}. Progress: one "device" event per device plugged/unplugged.
// Fails: as vm-config, QMP connect errors, and the first device QEMU
// refuses (the message says which devices were already done).
HotplugReply Hotplug(const ServiceEnv& env, const HotplugParams& params);

}  // namespace pcipass::service

#endif  // PCIPASS_SERVICE_VM_OPS_H_
