#include "service/selection_view.h"

#include "core/discovery.h"
#include "service/device_json.h"

namespace pcipass::service {

namespace {

nlohmann::json Opt(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
nlohmann::json NonEmpty(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

}  // namespace

Assessment SelectionView::AssessDevice(const PciDevice& dev) const {
  AssessOptions options;
  options.have_config = have_config;
  options.vpd = vpd;
  return Assess(inventory, dev, config.config.device_specs, options);
}

Result<SelectionView> LoadSelectionView(const ServiceEnv& env) {
  SelectionView view{env.host, {}, {}, false, {}};
  view.vpd = SysfsVpdSerial(view.host);
  const std::string& path = env.config_path;
  if (!path.empty()) {
    view.have_config = true;
    view.config = LoadConfig(path, view.host);
    // An invalid config is returned as is; callers report every error with
    // Reply::FailConfig (exit 1).
    if (!view.config.ok()) return view;
  }
  DiscoveryOptions opts;
  opts.pci_ids_path = env.pci_ids;
  Result<Inventory> inv = Discover(view.host, opts);
  if (!inv.ok()) return inv.status();
  view.inventory = std::move(*inv);
  return view;
}

Result<const PciDevice*> FindDevice(const SelectionView& view,
                                    const std::string& text) {
  Result<PciAddress> addr = PciAddress::Parse(text);
  if (!addr.ok()) return addr.status();
  const PciDevice* dev = view.inventory.Find(*addr);
  if (dev == nullptr) {
    return Status::NotFound("no PCI device " + addr->ToString() +
                            " on this host (see 'pcipass list')");
  }
  return dev;
}

nlohmann::json TagsJson(const TagMap& tags) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : tags) j[k] = Opt(v);
  return j;
}

nlohmann::json ReasonsJson(const std::vector<Reason>& reasons) {
  nlohmann::json j = nlohmann::json::array();
  for (const Reason& r : reasons) {
    j.push_back({{"code", r.code},
                 {"severity", r.severity},
                 {"message", r.message},
                 {"fix", r.fix}});
  }
  return j;
}

nlohmann::json DeviceRowJson(const PciDevice& dev, const Assessment& a) {
  nlohmann::json j = DeviceJson(dev);
  j["allowed"] = a.allowed;
  j["spec"] = NonEmpty(a.spec_where);
  j["tags"] = TagsJson(a.tags);
  j["assignable"] = a.assignable;
  j["reasons"] = ReasonsJson(a.reasons);
  return j;
}

}  // namespace pcipass::service
