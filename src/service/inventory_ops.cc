#include "service/inventory_ops.h"

#include <exception>
#include <filesystem>
#include <system_error>

#include "binding/desired_state.h"
#include "claims/service.h"
#include "core/discovery.h"
#include "select/alias.h"
#include "select/config.h"
#include "service/device_json.h"
#include "service/json_params.h"
#include "service/selection_view.h"

namespace pcipass::service {

namespace {

using ojson = nlohmann::ordered_json;

ojson NullIfEmpty(const std::string& s) {
  return s.empty() ? ojson(nullptr) : ojson(s);
}

ojson CheckJson(const HostReport& r) {
  ojson j;
  j["ready"] = r.ready;
  j["verdict"] = r.verdict;
  j["kernel_release"] = NullIfEmpty(r.kernel_release);
  j["iommu_vendor"] = NullIfEmpty(r.iommu_vendor);
  j["checks"] = ojson::array();
  for (const HostCheck& c : r.checks) {
    j["checks"].push_back({{"id", c.id},
                           {"status", std::string(CheckStateName(c.status))},
                           {"detail", c.detail},
                           {"fix", NullIfEmpty(c.fix)}});
  }
  if (r.summary) {
    const HostSummary& s = *r.summary;
    j["summary"] = {{"devices", s.devices},
                    {"iommu_groups", s.groups},
                    {"viable_groups", s.viable_groups},
                    {"noiommu_groups", s.noiommu_groups},
                    {"vfio_devices", s.vfio_devices},
                    {"sriov_pfs", s.pfs},
                    {"sriov_vfs", s.vfs},
                    {"bridges", s.bridges},
                    {"host_used", s.host_used}};
  } else {
    j["summary"] = nullptr;
  }
  return j;
}

AliasVerdict JudgeAlias(const Alias& alias, const PciDevice& dev,
                        const Assessment& a) {
  AliasVerdict v;
  v.name = alias.name;
  if (!a.allowed) {
    v.mismatches.push_back("the device is not selected by any device_spec");
    return v;
  }
  for (const RequestSpec& spec : alias.specs) {
    std::optional<std::string> why = AliasSpecMismatch(dev, a.tags, spec);
    if (!why) {
      v.satisfied = true;
      v.mismatches.clear();
      return v;
    }
    v.mismatches.push_back(*why);
  }
  return v;
}

// Loads the selection view into |view|, or fails |reply| (invalid config,
// discovery error). Returns whether the view is usable.
bool LoadView(const ServiceEnv& env, Reply& reply,
              Result<SelectionView>& view) {
  view = LoadSelectionView(env);
  if (!view.ok()) {
    reply.Fail(view.status());
    return false;
  }
  if (!view->config.ok()) {
    reply.FailConfig(view->config.config.path, view->config.errors);
    return false;
  }
  return true;
}

}  // namespace

// ---- FromJson ----

Result<CheckParams> CheckParams::FromJson(const nlohmann::json& body) {
  JsonFields f(body, "check parameters");
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return CheckParams{};
}

Result<DevicesParams> DevicesParams::FromJson(const nlohmann::json& body) {
  DevicesParams p;
  JsonFields f(body, "devices parameters");
  f.Bool("allowed", &p.allowed_only);
  f.Bool("assignable", &p.assignable_only);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<ShowParams> ShowParams::FromJson(const nlohmann::json& body) {
  ShowParams p;
  JsonFields f(body, "show parameters");
  f.String("address", &p.address, true);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<GroupsParams> GroupsParams::FromJson(const nlohmann::json& body) {
  GroupsParams p;
  JsonFields f(body, "groups parameters");
  f.Bool("non_viable", &p.non_viable_only);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<ExplainParams> ExplainParams::FromJson(const nlohmann::json& body) {
  ExplainParams p;
  JsonFields f(body, "explain parameters");
  f.String("address", &p.address, true);
  f.String("alias", &p.alias);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

Result<ConfigCheckParams> ConfigCheckParams::FromJson(
    const nlohmann::json& body) {
  ConfigCheckParams p;
  JsonFields f(body, "config check parameters");
  f.String("file", &p.file);
  PCIPASS_RETURN_IF_ERROR(f.Finish());
  return p;
}

// ---- operations ----

CheckReply Check(const ServiceEnv& env, const CheckParams& /*params*/) {
  CheckReply reply;
  try {
    std::error_code ec;
    if (!std::filesystem::is_directory(env.host.root(), ec)) {
      reply.Fail(Status::InvalidArgument("--root " + env.host.root().string() +
                                         ": not a directory"));
      return reply;
    }
    reply.report = CheckHost(env.host);
    DiscoveryOptions opts;
    opts.pci_ids_path = env.pci_ids;
    opts.lookup_names = false;  // counts only
    Result<Inventory> inv = Discover(env.host, opts);
    if (inv.ok()) {
      reply.report.summary = SummarizeInventory(*inv);
    } else {
      reply.summary_error = inv.status().message();
    }
    reply.json = CheckJson(reply.report);
    reply.json["summary_error"] = NullIfEmpty(reply.summary_error);
    if (!reply.report.ready) {
      reply.status = Status::FailedPrecondition(reply.report.verdict);
    }
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("check: ") + e.what()));
  }
  return reply;
}

DevicesReply ListDevices(const ServiceEnv& env, const DevicesParams& params) {
  DevicesReply reply;
  try {
    Result<SelectionView> view = Status::Internal("not loaded");
    if (!LoadView(env, reply, view)) return reply;
    reply.have_config = view->have_config;
    reply.config_warnings = view->config.warnings;
    ojson devices = ojson::array();
    for (const PciDevice& dev : view->inventory.devices()) {
      Assessment a = view->AssessDevice(dev);
      if (params.allowed_only && !a.allowed) continue;
      if (params.assignable_only && !a.assignable) continue;
      devices.push_back(ojson(DeviceRowJson(dev, a)));
      reply.rows.push_back({dev, std::move(a)});
    }
    ojson warnings = ojson::array();
    for (const std::string& w : view->config.warnings) warnings.push_back(w);
    for (const std::string& w : view->inventory.warnings()) {
      warnings.push_back(w);
    }
    reply.json["config"] =
        view->have_config ? ojson(view->config.config.path) : ojson(nullptr);
    reply.json["devices"] = std::move(devices);
    reply.json["warnings"] = std::move(warnings);
    reply.warnings = view->config.warnings;
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("devices: ") + e.what()));
  }
  return reply;
}

ShowReply ShowDevice(const ServiceEnv& env, const ShowParams& params) {
  ShowReply reply;
  try {
    Result<SelectionView> view = Status::Internal("not loaded");
    if (!LoadView(env, reply, view)) return reply;
    Result<const PciDevice*> found = FindDevice(*view, params.address);
    if (!found.ok()) {
      reply.Fail(found.status());
      return reply;
    }
    const PciDevice& dev = **found;
    reply.device = dev;
    reply.assessment = view->AssessDevice(dev);
    const IommuGroup* group = view->inventory.GroupOf(dev);
    nlohmann::json j = DeviceRowJson(dev, reply.assessment);
    nlohmann::json members = nlohmann::json::array();
    if (group) {
      reply.have_group = true;
      reply.group_viable = group->viable;
      for (const PciAddress& m : group->members) {
        members.push_back(m.ToString());
        reply.group_members.push_back(m.ToString());
      }
    }
    j["iommu_group_members"] = members;
    j["iommu_group_viable"] =
        group ? nlohmann::json(group->viable) : nlohmann::json(nullptr);
    reply.json = ojson(j);
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("show: ") + e.what()));
  }
  return reply;
}

GroupsReply ListGroups(const ServiceEnv& env, const GroupsParams& params) {
  GroupsReply reply;
  try {
    DiscoveryOptions opts;
    opts.pci_ids_path = env.pci_ids;
    opts.host_use = false;  // groups do not need it; keep it fast
    Result<Inventory> inv = Discover(env.host, opts);
    if (!inv.ok()) {
      reply.Fail(inv.status());
      return reply;
    }
    reply.inventory = std::move(*inv);
    reply.warnings = reply.inventory.warnings();
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& [id, g] : reply.inventory.groups()) {
      if (params.non_viable_only && g.viable) continue;
      groups.push_back(GroupJson(g, reply.inventory));
    }
    nlohmann::json out = {{"groups", std::move(groups)},
                          {"warnings", reply.inventory.warnings()}};
    reply.json = ojson(out);
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("groups: ") + e.what()));
  }
  return reply;
}

ExplainReply Explain(const ServiceEnv& env, const ExplainParams& params) {
  ExplainReply reply;
  try {
    Result<SelectionView> view = Status::Internal("not loaded");
    if (!LoadView(env, reply, view)) return reply;
    Result<const PciDevice*> found = FindDevice(*view, params.address);
    if (!found.ok()) {
      reply.Fail(found.status());
      return reply;
    }
    const PciDevice& dev = **found;
    const Config& cfg = view->config.config;
    reply.device = dev;
    reply.have_config = view->have_config;
    reply.config_path = cfg.path;
    reply.specs = cfg.device_specs;
    const Assessment& a = reply.assessment = view->AssessDevice(dev);
    reply.decision = DecideAllowed(reply.specs, dev, view->vpd, true);
    const AllowDecision& d = reply.decision;

    if (!params.alias.empty()) {
      const Alias* alias = cfg.aliases.Find(params.alias);
      if (alias == nullptr) {
        reply.Fail(Status::NotFound(
            "PCI alias " + params.alias + " is not defined in " +
            (view->have_config ? cfg.path : std::string("(no config)"))));
        return reply;
      }
      reply.verdicts.push_back(JudgeAlias(*alias, dev, a));
    } else {
      for (const auto& [name, alias] : cfg.aliases.aliases()) {
        reply.verdicts.push_back(JudgeAlias(alias, dev, a));
      }
    }
    const std::vector<DeviceSpec>& specs = reply.specs;
    nlohmann::json j;
    j["address"] = dev.address.ToString();
    j["config"] =
        view->have_config ? nlohmann::json(cfg.path) : nlohmann::json(nullptr);
    j["allowed"] = a.allowed;
    j["spec_index"] =
        a.spec_index ? nlohmann::json(*a.spec_index) : nlohmann::json(nullptr);
    j["spec"] = a.spec_where.empty() ? nlohmann::json(nullptr)
                                     : nlohmann::json(a.spec_where);
    j["tags"] = TagsJson(a.tags);
    nlohmann::json per = nlohmann::json::array();
    for (size_t i = 0; i < d.per_spec.size(); ++i) {
      const SpecMatch& m = d.per_spec[i];
      per.push_back({{"index", i},
                     {"where", specs[i].where()},
                     {"spec", specs[i].raw()},
                     {"matched", m.matched},
                     {"selected", d.spec_index && *d.spec_index == i},
                     {"failed_key", m.matched ? nlohmann::json(nullptr)
                                              : nlohmann::json(m.key)},
                     {"detail", m.matched ? nlohmann::json(nullptr)
                                          : nlohmann::json(m.detail)}});
    }
    j["specs"] = per;
    nlohmann::json aliases = nlohmann::json::array();
    for (const AliasVerdict& v : reply.verdicts) {
      aliases.push_back({{"name", v.name},
                         {"satisfied", v.satisfied},
                         {"mismatches", v.mismatches}});
    }
    j["aliases"] = aliases;
    j["assignable"] = a.assignable;
    j["reasons"] = ReasonsJson(a.reasons);
    reply.json = ojson(j);
    if (!a.assignable) {
      reply.status = Status::FailedPrecondition(dev.address.ToString() +
                                                " is not assignable");
    } else if (!params.alias.empty() && !reply.verdicts.front().satisfied) {
      reply.status = Status::FailedPrecondition(dev.address.ToString() +
                                                " does not satisfy PCI alias " +
                                                params.alias);
    }
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("explain: ") + e.what()));
  }
  return reply;
}

ConfigCheckReply CheckConfig(const ServiceEnv& env,
                             const ConfigCheckParams& params) {
  ConfigCheckReply reply;
  try {
    std::string path = params.file.empty() ? env.config_path : params.file;
    if (path.empty()) {
      reply.Fail(
          Status::InvalidArgument("config check needs a file: pcipass config "
                                  "check FILE, or --config FILE"));
      return reply;
    }
    ConfigLoad load = LoadConfig(path, env.host);
    const Config& cfg = load.config;
    // The other layers' sections: an error there would otherwise only show
    // when `apply` or `claim` runs, possibly at boot.
    HostDesiredState host_state;
    if (!cfg.ini.Sections().empty()) {
      std::vector<Status> host_errors;
      host_state = ParseHostSection(cfg.ini, &host_errors);
      for (Status& e : host_errors) load.errors.push_back(std::move(e));
      Result<claims::ClaimsSettings> c = claims::ReadClaimsSettings(cfg.ini);
      if (!c.ok()) load.errors.push_back(c.status());  // names file:line
    }
    reply.path = path;
    reply.not_found = load.not_found;
    reply.valid = load.ok();
    reply.errors = load.errors;
    reply.load_warnings = load.warnings;
    reply.warnings = load.warnings;
    reply.device_specs = cfg.device_specs.size();
    for (const auto& [name, alias] : cfg.aliases.aliases()) {
      reply.aliases.push_back(name);
    }
    reply.host_state_empty = host_state.empty();
    reply.host_vfio_selectors = host_state.vfio.size();
    reply.host_sriov_targets = host_state.sriov.size();

    nlohmann::json j;
    j["path"] = path;
    j["valid"] = load.ok();
    nlohmann::json errors = nlohmann::json::array();
    for (const Status& e : load.errors) {
      errors.push_back({{"code", std::string(StatusCodeName(e.code()))},
                        {"message", e.message()}});
    }
    j["errors"] = errors;
    j["warnings"] = load.warnings;
    j["device_specs"] = cfg.device_specs.size();
    j["aliases"] = reply.aliases;
    j["sections"] = cfg.ini.Sections();
    j["host_vfio_selectors"] = host_state.vfio.size();
    j["host_sriov_targets"] = host_state.sriov.size();
    reply.json = ojson(j);
    if (!reply.valid) {
      for (const Status& e : load.errors) {
        reply.config_errors.push_back(e.message());
      }
      reply.status = Status::FailedPrecondition(
          "config " + path +
          " is invalid: " + std::to_string(load.errors.size()) + " error" +
          (load.errors.size() == 1 ? "" : "s"));
    }
  } catch (const std::exception& e) {
    reply.Fail(Status::Internal(std::string("config check: ") + e.what()));
  }
  return reply;
}

}  // namespace pcipass::service
