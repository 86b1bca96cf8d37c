#!/usr/bin/python3
"""Times Nova's real PciPassthroughFilter over a synthetic cluster.

Input: the JSON written by `pcipass_cluster_bench --export-nova FILE`
(device_spec and alias config lines, per host the devices with Nova's
fields and status, and the benchmark requests as flavor alias strings).

For every host it does what Nova does: the compute node's PciDeviceStats
(compute side, whitelist from [pci]device_spec) pools the host's
*available* devices; its PciDevicePoolList is what the compute node
reports; the scheduler's HostState builds PciDeviceStats(numa_topology,
stats=pools) from it (nova/scheduler/host_manager.py). Each request is
made from the flavor's alias string with nova.pci.request's own
translation, and timed as PciPassthroughFilter().host_passes(host_state,
spec_obj) over every host, i.e. one scheduling decision's PCI filtering.

Needs Debian 12's python3-nova (Nova 26, Zed): apt-get install
python3-nova. Run with /usr/bin/python3 (the Debian interpreter).
Usage: nova_filter_bench.py CLUSTER.json [--rounds N] [--hosts N]
"""
import argparse
import json
import statistics
import sys
import time

import nova.conf
from nova import objects

objects.register_all()
from nova.pci import request as pci_request  # noqa: E402
from nova.pci import stats as pci_stats  # noqa: E402
from nova.pci import whitelist  # noqa: E402
from nova.scheduler.filters import pci_passthrough_filter  # noqa: E402

CONF = nova.conf.CONF


def numa_topology():
    """A two-cell host topology as a compute node reports it."""
    cells = []
    for cell in (0, 1):
        cells.append(objects.NUMACell(
            id=cell, cpuset=set(range(cell * 16, cell * 16 + 16)),
            pcpuset=set(), memory=65536, cpu_usage=0, memory_usage=0,
            pinned_cpus=set(), siblings=[], mempages=[],
            network_metadata=objects.NetworkMetadata(physnets=set(),
                                                     tunneled=False),
            socket=cell))
    return objects.NUMATopology(cells=cells)


class HostState:
    """The part of nova.scheduler.host_manager.HostState the filter reads."""

    def __init__(self, name, stats):
        self.host = name
        self.nodename = name
        self.pci_stats = stats

    def __repr__(self):
        return "(%s, %s)" % (self.host, self.nodename)


def build_hosts(data, limit):
    wl = whitelist.Whitelist(CONF.pci.device_spec)
    topo = numa_topology()
    hosts = []
    for h in data["hosts"][:limit]:
        compute = pci_stats.PciDeviceStats(topo, dev_filter=wl)
        for d in h["devices"]:
            if d["status"] != "available":
                continue
            dev = objects.PciDevice(
                compute_node_id=1, address=d["address"],
                vendor_id=d["vendor_id"], product_id=d["product_id"],
                dev_type=d["dev_type"], status="available",
                parent_addr=d["parent_addr"], numa_node=d["numa_node"],
                extra_info={}, request_id=None, instance_uuid=None,
                dev_id="pci_" + d["address"].replace(":", "_").replace(
                    ".", "_"), label="label_%s_%s" % (
                        d["vendor_id"], d["product_id"]))
            compute.add_device(dev)
        pools = compute.to_device_pools_obj()
        # The scheduler side, exactly as HostState.update does it.
        hosts.append(HostState(h["name"], pci_stats.PciDeviceStats(
            topo, stats=pools)))
    return hosts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cluster")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hosts", type=int, default=0,
                    help="use only the first N hosts (0 = all)")
    args = ap.parse_args()
    with open(args.cluster) as f:
        data = json.load(f)
    CONF([], project="nova", default_config_files=[])
    CONF.set_override("device_spec", data["device_spec"], group="pci")
    CONF.set_override("alias", data["alias"], group="pci")
    limit = args.hosts or len(data["hosts"])
    t0 = time.perf_counter()
    hosts = build_hosts(data, limit)
    print("built %d HostStates in %.1f s" % (len(hosts),
                                             time.perf_counter() - t0))
    filt = pci_passthrough_filter.PciPassthroughFilter()
    results = []
    for req in data["requests"]:
        pci_reqs = pci_request._translate_alias_to_requests(req["alias"])
        spec = objects.RequestSpec(
            pci_requests=objects.InstancePCIRequests(requests=pci_reqs))
        times = []
        cpu = []
        passed = 0
        for _ in range(args.rounds):
            t = time.perf_counter()
            c = time.process_time()
            passed = sum(1 for hs in hosts if filt.host_passes(hs, spec))
            cpu.append(time.process_time() - c)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        cpu_med = statistics.median(cpu)
        results.append({"request": req["alias"], "hosts": len(hosts),
                        "passed": passed, "decision_s_median": med,
                        "decision_s_all": times,
                        "decision_cpu_s_median": cpu_med,
                        "per_host_us": med / len(hosts) * 1e6})
        print("%-16s hosts passing %5d  decision median %8.3f s wall, "
              "%8.3f s CPU (%.0f us/host CPU) runs %s" % (
                  req["alias"], passed, med, cpu_med,
                  cpu_med / len(hosts) * 1e6,
                  ", ".join("%.3f" % x for x in times)))
        sys.stdout.flush()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
