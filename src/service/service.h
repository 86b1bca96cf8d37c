// pcipass's service layer: every operation of the CLI (and of the pcipassd
// daemon) as one function, so the command files and the route handlers
// hold no logic of their own.
//
// How to call an operation:
//
//   service::ServiceEnv env;
//   env.host = HostRoot("/");                  // or a fixture root
//   env.config_path = "/etc/pcipass/pcipass.conf";
//   env.state_dir = "/var/lib/pcipass";
//   env.who = "uid=1000 via pcipassd";         // history's "who"
//   env.progress = [](const service::ProgressEvent& e) { ... };  // optional
//
//   // From flags (the CLI) or from a JSON body (the daemon):
//   Result<service::FitParams> p = service::FitParams::FromJson(body);
//   if (!p.ok()) -> 400 with service::ErrorJson(p.status())
//   service::FitReply r = service::Fit(env, *p);
//   r.json          // exactly what `pcipass fit --json` prints
//   r.HttpStatus()  // 200 / 400 / 404 / 409 / 422 / 503 / 500
//   r.ExitCode()    // 0 / 1 / 2, as the CLI
//   r.failed        // true: r.json is {"error": {"code", "message"}}
//   r.warnings      // for logs / the CLI's stderr
//   r.fit ...       // typed data (what the CLI's text output uses)
//
// Every FromJson rejects unknown fields and wrong types with an
// InvalidArgument naming the field; every operation validates its params
// again (empty instance, bad address, bad time ...) so a params struct
// built by hand gets the same errors.
//
// Threads: there is no global or static mutable state and no output to
// stdout/stderr. Each call opens what it needs (config, discovery, ledger
// connection) and closes it before returning; no cache is shared between
// calls, so any number of calls may run at once on different threads.
// Writers serialise where it matters: claim/release/reconcile in the
// ledger's BEGIN IMMEDIATE transaction (never two owners for a device),
// detach/reattach/sriov/apply on flock(<state>/lock). Nothing throws out of
// an operation: exceptions from libraries are caught and become
// StatusCode::kInternal replies.
//
// Operation groups (one header each):
//   service/inventory_ops.h  check, devices, show, groups, explain,
//                            config check
//   service/claims_ops.h     fit, claim, release, claims, history, usage,
//                            reconcile
//   service/vm_ops.h         vm-config, hotplug/unplug
//   service/binding_ops.h    detach, reattach, sriov, apply
#ifndef PCIPASS_SERVICE_SERVICE_H_
#define PCIPASS_SERVICE_SERVICE_H_

#include "service/binding_ops.h"
#include "service/claims_ops.h"
#include "service/inventory_ops.h"
#include "service/reply.h"
#include "service/vm_ops.h"

#endif  // PCIPASS_SERVICE_SERVICE_H_
