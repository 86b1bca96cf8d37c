// Claims operations over the ledger (<state dir>/ledger.sqlite): fit,
// claim, release, claims (list), history, usage and reconcile.
//
// Every call opens its own config, discovery and ledger connection, so
// calls may run concurrently on any threads (and in several processes):
// the ledger's write transaction (BEGIN IMMEDIATE, claims/service.h) is
// the arbiter, so two claims never get the same device. Read-only
// operations (fit, claims, history, usage) never create a ledger.
#ifndef PCIPASS_SERVICE_CLAIMS_OPS_H_
#define PCIPASS_SERVICE_CLAIMS_OPS_H_

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "claims/fit.h"
#include "claims/service.h"
#include "claims/session.h"
#include "service/reply.h"
#include "store/ledger.h"

namespace pcipass::service {

// The claims session (config, discovery, ledger) that |env| describes; the
// ledger file is created only with |create_ledger|. Used by every claims
// operation here and by the cluster agent, which scans the host the same
// way.
claims::SessionOptions SessionOptionsFor(const ServiceEnv& env,
                                         bool create_ledger);

// Hands devices to vfio-pci with their whole IOMMU groups (binding::Detach
// under env.state_dir), as a claim does after its fit checked the groups'
// other members; also the cluster agent's hand-off.
claims::HandOffFn GroupHandOffToVfio(const ServiceEnv& env);

// Reads the host as a claims session sees it (discovery + the config's
// rules) each time it is called; the ledger is not opened for writing.
std::function<Result<claims::HostSnapshot>()> HostSnapshotReader(
    const ServiceEnv& env);

// ---- fit: could this host satisfy a request now? ----
struct FitParams {
  std::string request;      // "request", required: "gpu:2,nic-vf:1"
  std::string numa_policy;  // "numa_policy": required|legacy|preferred|socket
  std::string numa_cells;   // "numa_cells": "0,1" (or a JSON array [0,1])
  std::string placement;    // "placement": pack|spread
  static Result<FitParams> FromJson(const nlohmann::json& body);
};
struct FitReply : Reply {
  claims::FitResult fit;
  claims::FitOptions options;
};
// status: OK when it fits; FailedPrecondition (json still the full fit
// explanation) when not. Fails: bad request/policy/cells/placement
// (InvalidArgument), unknown alias, invalid config, ledger errors. Writes
// nothing: drift is computed in a transaction that is rolled back.
FitReply Fit(const ServiceEnv& env, const FitParams& params);

// ---- claim: give devices to an instance ----
struct ClaimParams {
  std::string instance;     // "instance", required
  std::string request;      // "request", required
  std::string numa_policy;  // "numa_policy"
  std::string numa_cells;   // "numa_cells"
  bool detach = true;       // "detach": false = only record (--no-detach)
  static Result<ClaimParams> FromJson(const nlohmann::json& body);
};
struct ClaimReply : Reply {
  claims::ClaimOutcome result;  // valid unless failed
  claims::FitOptions fit_options;
};
// status: OK claimed; FailedPrecondition when the fit says no;
// AlreadyExists when the instance already holds devices; the hand-off
// error after rollback. In those cases json is still the claim document
// (claimed=false, error set). Fails (failed=true): bad input, invalid
// config, ledger errors. Progress: "ledger", "handoff" (via the claim),
// "done".
ClaimReply Claim(const ServiceEnv& env, const ClaimParams& params);

// ---- release: free an instance's devices ----
struct ReleaseParams {
  std::string instance;  // "instance", required
  static Result<ReleaseParams> FromJson(const nlohmann::json& body);
};
struct ReleaseReply : Reply {
  claims::ReleaseOutcome result;
};
// Fails: NotFound when the instance holds nothing; ledger errors.
ReleaseReply Release(const ServiceEnv& env, const ReleaseParams& params);

// ---- claims: what each instance holds ----
struct ClaimsParams {
  std::string instance;  // "instance": only this instance
  bool devices = false;  // "devices": also every ledger device
  static Result<ClaimsParams> FromJson(const nlohmann::json& body);
};
struct ClaimsReply : Reply {
  std::vector<ClaimRecord> claims;
  std::vector<LedgerDevice> devices;  // every ledger device
  claims::ReconcileReport drift;      // found by the reconcile first
};
ClaimsReply ListClaims(const ServiceEnv& env, const ClaimsParams& params);

// ---- history: the ledger's events ----
struct HistoryParams {
  std::string device;    // "device": PCI address
  std::string instance;  // "instance"
  std::string since;     // "since": 2026-11-22, @unix, 24h, ...
  std::string until;     // "until"
  static Result<HistoryParams> FromJson(const nlohmann::json& body);
};
struct HistoryReply : Reply {
  std::vector<Event> events;  // oldest first
};
HistoryReply History(const ServiceEnv& env, const HistoryParams& params);

// ---- usage: device-hours per instance and alias ----
struct UsageParams {
  std::string since;  // "since", required
  std::string until;  // "until": default now
  static Result<UsageParams> FromJson(const nlohmann::json& body);
};
struct UsageReply : Reply {
  claims::UsageReport usage;
};
UsageReply Usage(const ServiceEnv& env, const UsageParams& params);

// ---- reconcile: compare the ledger with the host, record drift ----
struct ReconcileParams {
  static Result<ReconcileParams> FromJson(const nlohmann::json& body);
};
struct ReconcileReply : Reply {
  claims::ReconcileReport drift;
};
// Creates the ledger if it does not exist.
ReconcileReply Reconcile(const ServiceEnv& env, const ReconcileParams& params);

}  // namespace pcipass::service

#endif  // PCIPASS_SERVICE_CLAIMS_OPS_H_
