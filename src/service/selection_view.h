// What list, show and explain share: load the inventory and the selection
// config for one command, assess devices, and render them as JSON rows with
// the stable field names documented in docs/cli.md.
#ifndef PCIPASS_SERVICE_SELECTION_VIEW_H_
#define PCIPASS_SERVICE_SELECTION_VIEW_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/inventory.h"
#include "core/status.h"
#include "select/assess.h"
#include "select/config.h"
#include "service/device_json.h"
#include "service/reply.h"

namespace pcipass::service {

struct SelectionView {
  HostRoot host;
  Inventory inventory;
  ConfigLoad config;
  bool have_config = false;
  VpdSerialFn vpd;

  Assessment AssessDevice(const PciDevice& dev) const;
};

// Loads the config env.config_path (if any) and discovers the inventory
// under env.host. A config that does not load or is invalid is returned
// with config.errors set and NO inventory: callers must check config.ok()
// (and then Reply::FailConfig). Errors: discovery fails.
Result<SelectionView> LoadSelectionView(const ServiceEnv& env);

// The device at address |text|. Errors: InvalidArgument for a malformed
// address, NotFound if the host has no such device.
Result<const PciDevice*> FindDevice(const SelectionView& view,
                                    const std::string& text);

// The list row of one device: DeviceJson (service/device_json.h) plus
// allowed, spec, tags, assignable and reasons.
nlohmann::json DeviceRowJson(const PciDevice& dev, const Assessment& a);
nlohmann::json ReasonsJson(const std::vector<Reason>& reasons);
nlohmann::json TagsJson(const TagMap& tags);

}  // namespace pcipass::service

#endif  // PCIPASS_SERVICE_SELECTION_VIEW_H_
