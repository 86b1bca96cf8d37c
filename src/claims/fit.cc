#include "claims/fit.h"

#include <algorithm>
#include <functional>
#include <tuple>

#include "claims/pools.h"

namespace pcipass::claims {
namespace {

constexpr size_t kMaxDropped = 8;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

// Runs one filter over |cands|: |why| returns "" to keep a device, else
// the reason it is dropped.
FitStep Filter(std::string name, std::vector<const LedgerDevice*>& cands,
               const std::function<std::string(const LedgerDevice&)>& why) {
  FitStep step;
  step.name = std::move(name);
  step.before = cands.size();
  std::vector<const LedgerDevice*> kept;
  for (const LedgerDevice* d : cands) {
    std::string reason = why(*d);
    if (reason.empty()) {
      kept.push_back(d);
      continue;
    }
    ++step.dropped_total;
    if (step.dropped.size() < kMaxDropped) {
      step.dropped.push_back(d->address.ToString() + ": " + reason);
    }
  }
  cands = std::move(kept);
  step.after = cands.size();
  return step;
}

std::string StepFailure(const FitStep& step, int count) {
  std::string msg = "needs " + std::to_string(count) + ", " +
                    std::to_string(step.after) + " left after step " +
                    step.name;
  if (!step.dropped.empty()) msg += " (e.g. " + step.dropped.front() + ")";
  return msg;
}

// Pool-key value |name| of |addr| (nullopt when absent).
std::optional<std::string> KeyValue(const std::map<PciAddress, PoolKey>& keys,
                                    const PciAddress& addr,
                                    const std::string& name) {
  const PoolKey& k = keys.at(addr);
  auto it = k.find(name);
  return it == k.end() ? std::nullopt : it->second;
}

// The device steps (spec .. group) of |req| over |table|, starting from
// every device. Each step is appended to out->steps; at the first step
// that leaves fewer than |count| devices, out->failed_step and message say
// why and it returns false. |cands| ends as the survivors.
bool RunDeviceSteps(const FitHost& host, const DeviceTable& table,
                    const std::map<PciAddress, PoolKey>& keys,
                    const PciRequest& req, const std::string& instance,
                    size_t count, std::vector<const LedgerDevice*>& cands,
                    RequestOutcome* out) {
  cands.clear();
  cands.reserve(table.devices().size());
  for (const auto& [a, d] : table.devices()) cands.push_back(&d);

  bool want_pf = false, want_rm = false;
  int lm_true = 0, lm_false = 0;
  for (const RequestSpec& s : req.specs) {
    auto dt = s.find("dev_type");
    if (dt != s.end() && dt->second &&
        Lower(*dt->second) ==
            Lower(std::string(DeviceTypeName(DeviceType::kPf)))) {
      want_pf = true;
    }
    auto rm = s.find("remote_managed");
    if (rm != s.end() && Truthy(rm->second)) want_rm = true;
    auto lm = s.find("live_migratable");
    if (lm != s.end() && lm->second) {
      (Truthy(lm->second) ? lm_true : lm_false)++;
    }
  }
  const size_t nspecs = req.specs.size();

  std::vector<
      std::pair<std::string, std::function<std::string(const LedgerDevice&)>>>
      filters = {
          {"spec",
           [&](const LedgerDevice& d) -> std::string {
             if (AnySpecMatches(req.specs, keys.at(d.address))) return "";
             return "matches no spec of alias '" + req.alias_name + "'";
           }},
          {"unrequested_pf",
           [&](const LedgerDevice& d) -> std::string {
             if (want_pf || d.dev_type != DeviceType::kPf) return "";
             return "is a PF and no spec asks for dev_type type-PF";
           }},
          {"remote_managed",
           [&](const LedgerDevice& d) -> std::string {
             if (want_rm ||
                 !Truthy(KeyValue(keys, d.address, "remote_managed"))) {
               return "";
             }
             return "is remote_managed and the request does not ask for it";
           }},
          {"live_migratable",
           [&](const LedgerDevice& d) -> std::string {
             const PoolKey& k = keys.at(d.address);
             auto it = k.find("live_migratable");
             bool tagged_true = it != k.end() && Truthy(it->second);
             if (nspecs > 0 && lm_true == static_cast<int>(nspecs) &&
                 !tagged_true) {
               return "is not tagged live_migratable=true";
             }
             if (nspecs > 0 && lm_false == static_cast<int>(nspecs) &&
                 tagged_true) {
               return "is tagged live_migratable=true";
             }
             return "";
           }},
          {"in_use",
           [&](const LedgerDevice& d) -> std::string {
             std::string step;
             Status s = table.CheckTakeable(d.address, instance, &step);
             return step == "in_use" ? s.message() : "";
           }},
          {"dependency",
           [&](const LedgerDevice& d) -> std::string {
             std::string step;
             Status s = table.CheckTakeable(d.address, instance, &step);
             return step == "dependency" ? s.message() : "";
           }},
          {"group",
           [&](const LedgerDevice& d) -> std::string {
             std::string step;
             Status s = table.CheckTakeable(d.address, instance, &step);
             if (step == "group") return s.message();
             if (d.iommu_group) {
               auto it = host.group_outsiders.find(*d.iommu_group);
               if (it != host.group_outsiders.end() && !it->second.empty()) {
                 return "IOMMU group " + std::to_string(*d.iommu_group) +
                        " also holds " + it->second.front() +
                        ", which the device_spec rules do not allow";
               }
             }
             return "";
           }},
      };

  for (auto& [name, why] : filters) {
    out->steps.push_back(Filter(name, cands, why));
    if (out->steps.back().after < count) {
      out->failed_step = name;
      out->message = StepFailure(out->steps.back(), static_cast<int>(count));
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view PlacementName(Placement p) {
  return p == Placement::kPack ? "pack" : "spread";
}

Result<Placement> ParsePlacement(std::string_view text) {
  if (text == "pack") return Placement::kPack;
  if (text == "spread") return Placement::kSpread;
  return Status::InvalidArgument("[claims] placement = '" + std::string(text) +
                                 "' is not accepted; use pack or spread");
}

FitResult Fit(const FitHost& host, const std::vector<PciRequest>& requests,
              const FitOptions& options) {
  static const TagMap kNoTags;
  FitResult result;
  DeviceTable table = host.table;  // working copy; requests consume it
  std::vector<Pick> picks;
  bool all_ok = true;

  auto tags_of = [&](const PciAddress& a) -> const TagMap& {
    auto it = host.tags.find(a);
    return it == host.tags.end() ? kNoTags : it->second;
  };
  std::map<PciAddress, PoolKey> keys;
  for (const auto& [a, d] : table.devices())
    keys[a] = MakePoolKey(d, tags_of(a));

  for (size_t ri = 0; ri < requests.size(); ++ri) {
    const PciRequest& req = requests[ri];
    RequestOutcome out;
    out.index = ri;
    out.alias_name = req.alias_name;
    out.count = req.count;
    out.numa_policy = req.numa_policy;

    std::vector<const LedgerDevice*> cands;
    bool failed = !RunDeviceSteps(host, table, keys, req, options.instance,
                                  static_cast<size_t>(req.count), cands, &out);

    std::vector<NumaRank> rank;
    if (!failed) {
      std::vector<std::optional<int>> nodes;
      nodes.reserve(cands.size());
      for (const LedgerDevice* d : cands) nodes.push_back(d->numa_node);
      NumaSelection sel = SelectByNuma(nodes, req.count, req.numa_policy,
                                       options.numa_cells, host.topology);
      out.numa_note = sel.note;
      FitStep step;
      step.name = "numa";
      step.before = cands.size();
      std::vector<const LedgerDevice*> kept;
      for (size_t i = 0; i < cands.size(); ++i) {
        if (sel.keep[i]) {
          kept.push_back(cands[i]);
          rank.push_back(sel.rank[i]);
          continue;
        }
        ++step.dropped_total;
        if (step.dropped.size() < kMaxDropped) {
          step.dropped.push_back(cands[i]->address.ToString() + ": NUMA node " +
                                 (cands[i]->numa_node
                                      ? std::to_string(*cands[i]->numa_node)
                                      : std::string("none")) +
                                 " not allowed by policy " +
                                 std::string(NumaPolicyName(req.numa_policy)) +
                                 " (" + sel.note + ")");
        }
      }
      cands = std::move(kept);
      step.after = cands.size();
      out.steps.push_back(step);
      if (step.after < static_cast<size_t>(req.count)) {
        out.failed_step = "numa";
        out.message = StepFailure(step, req.count);
        failed = true;
      }
    }

    if (!failed) {
      // Take devices one at a time; each take updates the table, so the
      // next ranking sees which PFs/NUMA nodes are now in use.
      std::vector<bool> taken(cands.size(), false);
      DeviceTable trial = table;
      std::vector<PciAddress> chosen;
      for (int k = 0; k < req.count; ++k) {
        std::map<PciAddress, int> pf_held;
        std::map<int, int> node_held;
        for (const auto& [a, d] : trial.devices()) {
          if (!DeviceTable::Held(d)) continue;
          if (d.parent_addr) ++pf_held[*d.parent_addr];
          if (d.dev_type == DeviceType::kPf) ++pf_held[a];
          node_held[d.numa_node.value_or(-1)]++;
        }
        std::vector<size_t> order;
        for (size_t i = 0; i < cands.size(); ++i) {
          if (!taken[i]) order.push_back(i);
        }
        const bool pack = options.placement == Placement::kPack;
        auto sort_key = [&](size_t i) {
          const LedgerDevice& d = *cands[i];
          int load = d.parent_addr ? pf_held[*d.parent_addr]
                                   : node_held[d.numa_node.value_or(-1)];
          int group_rank = pack ? -load : load;
          PciAddress group = d.parent_addr.value_or(d.address);
          return std::make_tuple(static_cast<int>(rank[i]), group_rank, group,
                                 d.address);
        };
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          return sort_key(a) < sort_key(b);
        });
        bool got = false;
        std::string last_error;
        for (size_t i : order) {
          Status s = trial.Claim(cands[i]->address, options.instance,
                                 "fit request " + std::to_string(ri));
          if (s.ok()) {
            taken[i] = true;
            chosen.push_back(cands[i]->address);
            got = true;
            break;
          }
          if (last_error.empty()) last_error = s.message();
        }
        if (!got) {
          out.failed_step = "count";
          out.message = "needs " + std::to_string(req.count) + ", only " +
                        std::to_string(chosen.size()) +
                        " can be held together (" + last_error + ")";
          failed = true;
          break;
        }
      }
      if (!failed) {
        table = std::move(trial);
        out.chosen = chosen;
        for (const PciAddress& a : chosen) {
          const LedgerDevice* d = table.Find(a);
          picks.push_back({a, ri, req.alias_name, d->dev_type, d->parent_addr,
                           d->numa_node, tags_of(a)});
        }
      }
    }
    out.ok = !failed;
    all_ok = all_ok && out.ok;
    result.requests.push_back(std::move(out));
  }

  result.ok = all_ok && !requests.empty();
  if (result.ok) {
    result.picks = std::move(picks);
    result.after = std::move(table);
  } else {
    result.after = host.table;
  }
  return result;
}

std::vector<std::vector<const LedgerDevice*>> EligibleDevices(
    const FitHost& host, const std::vector<PciRequest>& requests,
    const std::string& instance) {
  static const TagMap kNoTags;
  std::map<PciAddress, PoolKey> keys;
  for (const auto& [a, d] : host.table.devices()) {
    auto t = host.tags.find(a);
    keys.emplace(a, MakePoolKey(d, t == host.tags.end() ? kNoTags : t->second));
  }
  std::vector<std::vector<const LedgerDevice*>> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    RequestOutcome ignored;
    RunDeviceSteps(host, host.table, keys, requests[i], instance, 0, out[i],
                   &ignored);
  }
  return out;
}

}  // namespace pcipass::claims
