#include "claims/service.h"

#include <algorithm>

#include "core/lock_wait.h"
#include "core/values.h"
#include "select/devspec.h"

namespace pcipass::claims {
namespace {

bool SameRecord(const LedgerDevice& a, const LedgerDevice& b) {
  return a.vendor_id == b.vendor_id && a.product_id == b.product_id &&
         a.dev_type == b.dev_type && a.parent_addr == b.parent_addr &&
         a.numa_node == b.numa_node && a.iommu_group == b.iommu_group &&
         a.driver == b.driver && a.state == b.state && a.owner == b.owner &&
         a.reason == b.reason;
}

// Writes every device of |table| that differs from |before| and one "state"
// event per recorded transition.
Status Persist(LedgerTxn& txn, DeviceTable& table,
               const std::vector<LedgerDevice>& before) {
  std::map<PciAddress, const LedgerDevice*> old;
  for (const LedgerDevice& d : before) old[d.address] = &d;
  for (const auto& [a, d] : table.devices()) {
    auto it = old.find(a);
    if (it == old.end() || !SameRecord(*it->second, d)) {
      PCIPASS_RETURN_IF_ERROR(txn.PutDevice(d));
    }
  }
  for (const Transition& t : table.TakeTransitions()) {
    Event e;
    e.kind = "state";
    e.address = t.address;
    e.instance = t.owner;
    e.from_state = std::string(DeviceStateName(t.from));
    e.to_state = std::string(DeviceStateName(t.to));
    e.why = t.why;
    PCIPASS_RETURN_IF_ERROR(txn.AppendEvent(e));
  }
  return Status::Ok();
}

std::string Hex(const std::optional<uint16_t>& v) {
  if (!v) return "?";
  static const char* d = "0123456789abcdef";
  std::string s(4, '0');
  for (int i = 0; i < 4; ++i) s[3 - i] = d[(*v >> (4 * i)) & 0xf];
  return s;
}

std::string Opt(const std::optional<int>& v) {
  return v ? std::to_string(*v) : "none";
}

std::optional<bool> ParseBool(const std::string& v) {
  return ParseStrictBool(v);
}

}  // namespace

Result<ClaimsSettings> ReadClaimsSettings(const IniFile& ini) {
  ClaimsSettings s;
  // Every occurrence is checked (the last one wins, oslo's rule), and the
  // error names its file:line.
  for (const IniEntry& e : ini.entries()) {
    if (e.section != "claims") continue;
    const std::string where = ini.Where(e.line) + ": [claims] ";
    if (e.key == "placement") {
      Result<Placement> p = ParsePlacement(e.value);
      if (!p.ok()) {
        // ParsePlacement's message already says "[claims] placement = ...".
        return Status(p.status().code(),
                      ini.Where(e.line) + ": " + p.status().message());
      }
      s.placement = *p;
    } else if (e.key == "reattach_on_release") {
      std::optional<bool> b = ParseBool(e.value);
      if (!b) {
        return Status::InvalidArgument(where + "reattach_on_release = '" +
                                       e.value +
                                       "' is not a boolean; use true or false");
      }
      s.reattach_on_release = *b;
    } else if (e.key == "lock_timeout") {
      std::string why;
      std::optional<int> t =
          ParseLockTimeoutSeconds(e.value, "[claims] lock_timeout", &why);
      if (!t) return Status::InvalidArgument(ini.Where(e.line) + ": " + why);
      s.lock_timeout_seconds = *t;
    } else {
      return Status::InvalidArgument(
          where + "unknown key '" + e.key +
          "'; accepted: placement, reattach_on_release, lock_timeout");
    }
  }
  return s;
}

HostSnapshot SnapshotHost(const Inventory& inv,
                          const std::vector<DeviceSpec>& specs,
                          const VpdSerialFn& vpd, NumaTopology topology) {
  HostSnapshot snap;
  snap.topology = std::move(topology);
  std::set<PciAddress> allowed;
  for (const PciDevice& dev : inv.devices()) {
    snap.present.insert(dev.address);
    if (dev.IsBridge()) continue;
    AllowDecision dec = DecideAllowed(specs, dev, vpd);
    if (!dec.allowed) continue;
    allowed.insert(dev.address);
    LedgerDevice r;
    r.address = dev.address;
    r.vendor_id = dev.vendor_id;
    r.product_id = dev.product_id;
    r.dev_type = dev.type;
    r.parent_addr = dev.parent_addr();
    r.numa_node = dev.numa_node;
    r.iommu_group = dev.iommu_group;
    r.driver = dev.driver;
    snap.devices.push_back(r);
    snap.tags[dev.address] = dec.tags;
    if (!dev.host_use.empty()) {
      std::string why;
      for (const HostUse& u : dev.host_use) {
        if (!why.empty()) why += "; ";
        why += u.kind + ": " + u.reason;
      }
      snap.host_use[dev.address] = why;
    }
  }
  for (const auto& [id, group] : inv.groups()) {
    for (const PciAddress& m : group.members) {
      if (allowed.count(m)) continue;
      const PciDevice* d = inv.Find(m);
      if (!d || d->IsBridge()) continue;
      snap.group_outsiders[id].push_back(m.ToString() + " (" +
                                         d->driver.value_or("no driver") + ")");
    }
  }
  return snap;
}

Status ReconcileIn(LedgerTxn& txn, const HostSnapshot& snap,
                   ReconcileReport* report) {
  Result<std::vector<LedgerDevice>> before = txn.Devices();
  if (!before.ok()) return before.status();
  DeviceTable table(*before);
  auto drift = [&](const PciAddress& a, std::string kind, std::string detail) {
    report->drift.push_back({a, std::move(kind), std::move(detail)});
  };
  std::set<PciAddress> seen;
  for (const LedgerDevice& now : snap.devices) {
    seen.insert(now.address);
    const LedgerDevice* old = table.Find(now.address);
    if (!old) {
      PCIPASS_RETURN_IF_ERROR(table.Add(now, "new device allowed by rules"));
      drift(now.address, "added",
            Hex(now.vendor_id) + ":" + Hex(now.product_id) + " " +
                std::string(DeviceTypeName(now.dev_type)));
    } else if (old->state == DeviceState::kRemoved) {
      if (old->owner) {
        drift(now.address, "reappeared_while_held",
              "still held by " + *old->owner +
                  "; stays removed until that instance is released");
        continue;
      }
      PCIPASS_RETURN_IF_ERROR(table.Add(now, "device reappeared"));
      drift(now.address, "reappeared", "available again");
    } else {
      std::string held =
          DeviceTable::Held(*old) ? " (held by " + *old->owner + ")" : "";
      if (old->vendor_id != now.vendor_id ||
          old->product_id != now.product_id) {
        drift(now.address, "ids_changed",
              Hex(old->vendor_id) + ":" + Hex(old->product_id) + " -> " +
                  Hex(now.vendor_id) + ":" + Hex(now.product_id) + held);
      }
      if (old->dev_type != now.dev_type ||
          old->parent_addr != now.parent_addr) {
        drift(now.address, "type_changed",
              std::string(DeviceTypeName(old->dev_type)) + " -> " +
                  std::string(DeviceTypeName(now.dev_type)) + held);
      }
      if (old->numa_node != now.numa_node) {
        drift(now.address, "numa_changed",
              Opt(old->numa_node) + " -> " + Opt(now.numa_node) + held);
      }
      if (old->iommu_group != now.iommu_group) {
        drift(now.address, "group_changed",
              Opt(old->iommu_group) + " -> " + Opt(now.iommu_group) + held);
      }
      if (old->driver != now.driver) {
        drift(now.address, "driver_changed",
              old->driver.value_or("none") + " -> " +
                  now.driver.value_or("none") + held);
      }
      PCIPASS_RETURN_IF_ERROR(table.UpdateIdentity(now));
    }
    // Host use.
    const LedgerDevice* cur = table.Find(now.address);
    auto use = snap.host_use.find(now.address);
    if (use != snap.host_use.end()) {
      if (DeviceTable::Held(*cur)) {
        drift(now.address, "host_uses_held_device",
              use->second + " while held by " + *cur->owner);
      } else if (cur->state != DeviceState::kReserved) {
        PCIPASS_RETURN_IF_ERROR(table.Reserve(now.address, use->second));
        drift(now.address, "reserved", use->second);
      }
    } else if (cur->state == DeviceState::kReserved) {
      PCIPASS_RETURN_IF_ERROR(
          table.Unreserve(now.address, "the host no longer uses it"));
      drift(now.address, "unreserved", "the host no longer uses it");
    }
  }
  for (const auto& [a, d] :
       std::map<PciAddress, LedgerDevice>(table.devices())) {
    if (seen.count(a) || d.state == DeviceState::kRemoved) continue;
    if (snap.present.count(a)) {
      // Still on the bus but no longer allowed by the rules.
      if (DeviceTable::Held(d)) {
        drift(a, "no_longer_allowed",
              "held by " + *d.owner +
                  "; kept until released (reverting the config must not "
                  "double-allocate it)");
        continue;
      }
      PCIPASS_RETURN_IF_ERROR(
          table.Remove(a, "no longer allowed by the device_spec rules"));
      drift(a, "no_longer_allowed", "removed from the pool");
      continue;
    }
    bool held = DeviceTable::Held(d);
    std::string owner = d.owner.value_or("");
    PCIPASS_RETURN_IF_ERROR(table.Vanish(a, "vanished from sysfs"));
    if (held) {
      drift(a, "vanished_while_held",
            "held by " + owner + "; marked removed, never re-pooled");
      Event e;
      e.kind = "vanish";
      e.address = a;
      e.instance = owner;
      e.why = "device vanished from sysfs while held";
      PCIPASS_RETURN_IF_ERROR(txn.AppendEvent(e));
      // The claim row mirrors the device.
      (void)txn.SetClaimState(owner, a, "removed");
    } else {
      drift(a, "removed", "vanished from sysfs");
    }
  }
  for (const DriftItem& item : report->drift) {
    Event e;
    e.kind = "drift";
    e.address = item.address;
    e.why = item.kind + ": " + item.detail;
    PCIPASS_RETURN_IF_ERROR(txn.AppendEvent(e));
  }
  return Persist(txn, table, *before);
}

Result<ReconcileReport> Reconcile(Ledger& ledger, const HostSnapshot& snap) {
  ReconcileReport report;
  Status s = ledger.Transact([&](LedgerTxn& txn) {
    report = {};
    return ReconcileIn(txn, snap, &report);
  });
  if (!s.ok()) return s;
  return report;
}

std::vector<LedgerDevice> UnrecordedDevices(const HostSnapshot& snap) {
  DeviceTable t;
  for (const LedgerDevice& d : snap.devices) (void)t.Add(d, "seen");
  for (const auto& [a, why] : snap.host_use) (void)t.Reserve(a, why);
  std::vector<LedgerDevice> devices;
  devices.reserve(t.devices().size());
  for (const auto& [a, d] : t.devices()) devices.push_back(d);
  return devices;
}

FitHost MakeFitHost(std::vector<LedgerDevice> ledger_devices,
                    const HostSnapshot& snap) {
  FitHost h;
  h.table = DeviceTable(std::move(ledger_devices));
  h.tags = snap.tags;
  h.group_outsiders = snap.group_outsiders;
  h.topology = snap.topology;
  return h;
}

Result<ClaimOutcome> Claim(Ledger& ledger, const HostSnapshot& snap,
                           const std::vector<PciRequest>& requests,
                           const ClaimOptions& options) {
  ClaimOutcome out;
  PCIPASS_RETURN_IF_ERROR(CheckInstanceId(options.instance));
  if (options.detach && !options.detach_fn) {
    return Status::Internal("claim: detach requested without a hand-off");
  }
  FitOptions fit_opts = options.fit;
  fit_opts.instance = options.instance;

  // (1) Reconcile, fit and record the claims in one write transaction.
  Status s = ledger.Transact([&](LedgerTxn& txn) -> Status {
    out.drift = {};
    PCIPASS_RETURN_IF_ERROR(ReconcileIn(txn, snap, &out.drift));
    Result<std::vector<ClaimRecord>> held = txn.Claims(options.instance);
    if (!held.ok()) return held.status();
    if (!held->empty()) {
      return Status::AlreadyExists(
          "instance " + options.instance + " already holds " +
          std::to_string(held->size()) +
          " device(s); release it first (pcipass release --instance " +
          options.instance + ")");
    }
    Result<std::vector<LedgerDevice>> devs = txn.Devices();
    if (!devs.ok()) return devs.status();
    out.fit = Fit(MakeFitHost(*devs, snap), requests, fit_opts);
    if (!out.fit.ok) {
      std::string why;
      for (const RequestOutcome& r : out.fit.requests) {
        if (r.ok) continue;
        why = "request " + std::to_string(r.index + 1) + " (" + r.alias_name +
              ":" + std::to_string(r.count) + ") failed at " + r.failed_step +
              ": " + r.message;
        break;
      }
      if (requests.empty()) why = "no requests";
      Event e;
      e.kind = "refuse";
      e.instance = options.instance;
      e.why = why;
      // The refusal is history too, but must not be rolled back: write it
      // and commit with no other change.
      PCIPASS_RETURN_IF_ERROR(txn.AppendEvent(e));
      out.status = Status::FailedPrecondition("cannot claim for " +
                                              options.instance + ": " + why);
      return Status::Ok();
    }
    DeviceTable table = DeviceTable(*devs);
    table.TakeTransitions();
    int64_t now = 0;
    for (const Pick& p : out.fit.picks) {
      PCIPASS_RETURN_IF_ERROR(table.Claim(
          p.address, options.instance,
          "claim for " + options.instance + " alias " + p.alias_name));
      ClaimRecord c;
      c.instance = options.instance;
      c.address = p.address;
      c.alias_name = p.alias_name;
      c.request_id = options.instance + "/" + std::to_string(p.request_index);
      c.dev_type = p.dev_type;
      c.parent_addr = p.parent_addr;
      c.tags = p.tags;
      c.claimed_at_unix = now;
      c.state = "claimed";
      PCIPASS_RETURN_IF_ERROR(txn.AddClaim(c));
      Event e;
      e.kind = "claim";
      e.instance = options.instance;
      e.address = p.address;
      e.alias_name = p.alias_name;
      e.why = options.why;
      PCIPASS_RETURN_IF_ERROR(txn.AppendEvent(e));
    }
    return Persist(txn, table, *devs);
  });
  if (!s.ok()) {
    if (s.code() == StatusCode::kAlreadyExists) {
      out.status = s;
      return out;
    }
    return s;
  }
  if (!out.status.ok()) return out;

  // (2) Hand the devices to vfio-pci, outside the ledger lock.
  std::vector<PciAddress> to_detach;
  for (const Pick& p : out.fit.picks) {
    auto m = p.tags.find("managed");
    if (m != p.tags.end() && m->second == "true") {
      out.skipped_detach.push_back(p.address);
    } else {
      to_detach.push_back(p.address);
    }
  }
  Status handoff;
  if (options.detach && !to_detach.empty()) {
    handoff = options.detach_fn(to_detach, &out.notes);
    if (handoff.ok()) out.detached = to_detach;
  }

  // (3) allocated, or (3') roll the claim back.
  Status fin = ledger.Transact([&](LedgerTxn& txn) -> Status {
    Result<std::vector<LedgerDevice>> devs = txn.Devices();
    if (!devs.ok()) return devs.status();
    DeviceTable table(*devs);
    table.TakeTransitions();
    for (const Pick& p : out.fit.picks) {
      if (handoff.ok()) {
        PCIPASS_RETURN_IF_ERROR(
            table.Allocate(p.address, options.instance, "hand-off done"));
        // The hand-off read the driver link back: record the driver pcipass
        // itself put there, so the next reconcile does not call it drift.
        const LedgerDevice* cur = table.Find(p.address);
        if (cur != nullptr &&
            std::find(out.detached.begin(), out.detached.end(), p.address) !=
                out.detached.end()) {
          LedgerDevice seen = *cur;
          seen.driver = "vfio-pci";
          PCIPASS_RETURN_IF_ERROR(table.UpdateIdentity(seen));
        }
        PCIPASS_RETURN_IF_ERROR(
            txn.SetClaimState(options.instance, p.address, "allocated"));
      } else {
        PCIPASS_RETURN_IF_ERROR(
            table.Free(p.address, options.instance,
                       "claim rolled back: " + handoff.message()));
        PCIPASS_RETURN_IF_ERROR(txn.DeleteClaim(options.instance, p.address));
        Event e;
        e.kind = "rollback";
        e.instance = options.instance;
        e.address = p.address;
        e.alias_name = p.alias_name;
        e.why = "hand-off failed: " + handoff.message();
        PCIPASS_RETURN_IF_ERROR(txn.AppendEvent(e));
      }
    }
    if (handoff.ok()) {
      Event e;
      e.kind = "allocate";
      e.instance = options.instance;
      e.why = std::to_string(out.fit.picks.size()) + " device(s), " +
              std::to_string(out.detached.size()) + " detached to vfio-pci";
      PCIPASS_RETURN_IF_ERROR(txn.AppendEvent(e));
    }
    return Persist(txn, table, *devs);
  });
  if (!fin.ok()) {
    return fin.WithContext("claim for " + options.instance +
                           ": finishing the ledger after the hand-off");
  }
  if (!handoff.ok()) {
    out.status = handoff.WithContext(
        "claim for " + options.instance +
        " rolled back (ledger and host) because the hand-off failed");
    return out;
  }
  Result<std::vector<ClaimRecord>> claims = ledger.ListClaims(options.instance);
  if (!claims.ok()) return claims.status();
  out.claims = std::move(*claims);
  out.ok = true;
  return out;
}

Result<ReleaseOutcome> Release(Ledger& ledger, const HostSnapshot& snap,
                               const ReleaseOptions& options) {
  ReleaseOutcome out;
  PCIPASS_RETURN_IF_ERROR(CheckInstanceId(options.instance));
  Result<std::vector<ClaimRecord>> held = ledger.ListClaims(options.instance);
  if (!held.ok()) return held.status();
  if (held->empty()) {
    return Status::NotFound("instance " + options.instance +
                            " holds no devices in the ledger");
  }
  // Reattach while the ledger still says the devices are owned.
  if (options.reattach && options.reattach_fn) {
    std::vector<PciAddress> back;
    for (const ClaimRecord& c : *held) {
      if (c.state != "removed") back.push_back(c.address);
    }
    if (!back.empty()) {
      Status r = options.reattach_fn(back, &out.notes);
      if (r.ok()) {
        out.reattached = back;
      } else {
        out.notes.push_back("reattach failed, devices stay on vfio-pci: " +
                            r.message());
      }
    }
  }
  // The reattach changed drivers: look at the host again, and record the
  // drivers pcipass itself restored, so they are not reported as drift.
  std::optional<HostSnapshot> rescanned;
  if (!out.reattached.empty() && options.rescan) {
    Result<HostSnapshot> r = options.rescan();
    if (r.ok()) {
      rescanned = std::move(*r);
    } else {
      out.notes.push_back(
          "could not look at the host again after the "
          "reattach (" +
          r.status().message() + "); the next command records the new drivers");
    }
  }
  const HostSnapshot& now = rescanned ? *rescanned : snap;
  Status s = ledger.Transact([&](LedgerTxn& txn) -> Status {
    out.drift = {};
    out.released.clear();
    if (rescanned) {
      Result<std::vector<LedgerDevice>> before = txn.Devices();
      if (!before.ok()) return before.status();
      for (LedgerDevice d : *before) {
        if (std::find(out.reattached.begin(), out.reattached.end(),
                      d.address) == out.reattached.end()) {
          continue;
        }
        for (const LedgerDevice& seen : now.devices) {
          if (seen.address == d.address && seen.driver != d.driver) {
            d.driver = seen.driver;
            PCIPASS_RETURN_IF_ERROR(txn.PutDevice(d));
          }
        }
      }
    }
    PCIPASS_RETURN_IF_ERROR(ReconcileIn(txn, now, &out.drift));
    Result<std::vector<ClaimRecord>> claims = txn.Claims(options.instance);
    if (!claims.ok()) return claims.status();
    if (claims->empty()) {
      return Status::NotFound("instance " + options.instance +
                              " holds no devices in the ledger");
    }
    Result<std::vector<LedgerDevice>> devs = txn.Devices();
    if (!devs.ok()) return devs.status();
    DeviceTable table(*devs);
    table.TakeTransitions();
    for (const ClaimRecord& c : *claims) {
      if (table.Find(c.address)) {
        PCIPASS_RETURN_IF_ERROR(table.Free(c.address, options.instance,
                                           "release " + options.instance));
      }
      PCIPASS_RETURN_IF_ERROR(txn.DeleteClaim(options.instance, c.address));
      Event e;
      e.kind = "release";
      e.instance = options.instance;
      e.address = c.address;
      e.alias_name = c.alias_name;
      e.why = "released";
      PCIPASS_RETURN_IF_ERROR(txn.AppendEvent(e));
      out.released.push_back(c);
    }
    return Persist(txn, table, *devs);
  });
  if (!s.ok()) return s;
  return out;
}

UsageReport ComputeUsage(const std::vector<Event>& events, int64_t since,
                         int64_t until) {
  UsageReport rep;
  rep.since_unix = since;
  rep.until_unix = until;
  struct Open {
    std::string instance;
    std::string alias;
    int64_t start;
  };
  std::map<PciAddress, Open> open;
  std::map<std::string, double> inst_h, alias_h;
  std::map<std::string, std::set<PciAddress>> inst_d, alias_d;
  auto close = [&](const PciAddress& a, int64_t end) {
    auto it = open.find(a);
    if (it == open.end()) return;
    int64_t lo = std::max(it->second.start, since);
    int64_t hi = std::min(end, until);
    if (hi > lo) {
      double h = static_cast<double>(hi - lo) / 3600.0;
      inst_h[it->second.instance] += h;
      alias_h[it->second.alias] += h;
      inst_d[it->second.instance].insert(a);
      alias_d[it->second.alias].insert(a);
    }
    open.erase(it);
  };
  for (const Event& e : events) {
    if (!e.address || e.at_unix >= until) continue;
    if (e.kind == "claim") {
      close(*e.address, e.at_unix);
      open[*e.address] = {e.instance.value_or(""), e.alias_name.value_or(""),
                          e.at_unix};
    } else if (e.kind == "release" || e.kind == "rollback" ||
               e.kind == "vanish") {
      close(*e.address, e.at_unix);
    }
  }
  std::vector<PciAddress> still;
  still.reserve(open.size());
  for (const auto& [a, o] : open) still.push_back(a);
  for (const PciAddress& a : still) close(a, until);
  for (const auto& [k, h] : inst_h) {
    rep.by_instance.push_back({k, h, static_cast<int>(inst_d[k].size())});
  }
  for (const auto& [k, h] : alias_h) {
    rep.by_alias.push_back({k, h, static_cast<int>(alias_d[k].size())});
  }
  return rep;
}

}  // namespace pcipass::claims
