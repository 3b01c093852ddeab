# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reconcile benchmark's measurements: each a function the main loop times."""

import resource
import statistics
import time

from .scenario import CLI, DEV, MODULE_UTILS, NS, NSEXEC, PROTO, SYS_PYTHON, run

from reconcile import core, kernel, read  # noqa: E402  (the same files the roles copy to nodes; path set by scenario)
from reconcile.plan import make_plan  # noqa: E402


def cpu_now():
    """CPU seconds (user + sys) of this process and of every child it has waited for."""
    own = time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + kids.ru_utime + kids.ru_stime


def timed(func):
    """(wall seconds, cpu seconds, value): CPU time is less sensitive to the machine's other load."""
    cpu, start = cpu_now(), time.perf_counter()
    value = func()
    return time.perf_counter() - start, cpu_now() - cpu, value


def module_inprocess(desired):
    return core.reconcile(desired, core.Runner(NSEXEC))


def module_cli(state_file):
    proc = run(NSEXEC + [SYS_PYTHON, CLI, state_file])
    last = proc.stdout.strip().splitlines()[-1]
    return int(last.rsplit(",", 1)[1].split()[0])  # "nodenet-fabric: FILE, N change(s)"


def raw_batch(ip_file, br_file):
    run(["ip", "-n", NS, "-batch", ip_file])
    run(["bridge", "-n", NS, "-batch", br_file])


def raw_dumps():
    run(["ip", "-n", NS, "-j", "neigh", "show", "dev", DEV])
    run(["bridge", "-n", NS, "-j", "fdb", "show", "dev", DEV])
    run(["ip", "-n", NS, "-j", "route", "show"])
    run(["ip", "-n", NS, "-j", "nexthop", "show"])


def per_entry(desired, sample, last=False):
    """The seed's way: one process per entry (1 ARP + 1 FDB + 1 route per peer), for the first
    `sample` peers, or with last=True for the last ones (the others already in the kernel)."""
    ip, br = ["ip", "-n", NS], ["bridge", "-n", NS]
    part = slice(-sample, None) if last else slice(None, sample)
    for n, f, r in zip(desired["neighbors"][part], desired["fdb"][part], desired["routes"][part]):
        run(ip + ["neigh", "replace", n["ip"], "lladdr", n["mac"], "dev", DEV, "nud", "permanent"])
        run(br + ["fdb", "replace", f["mac"], "dev", DEV, "dst", f["dst"], "self", "permanent"])
        run(ip + ["route", "replace", r["dst"], "via", r["via"], "dev", DEV, "proto", str(PROTO), "onlink"])


def noop_breakdown(desired, reps):
    """Where a no-op in-process run spends its time, phase by phase (medians, seconds), using
    the steps of core.reconcile run one after another (in reconcile they overlap: the dumps run
    while the desired state is normalised)."""
    phases = {"normalise (desired state)": [], "dumps (parallel processes) + JSON decoding + parse": [],
              "make_plan": []}
    for _ in range(reps):
        wall, _, state = timed(lambda: core.normalise(desired))
        phases["normalise (desired state)"].append(wall)
        wall, _, dataplane = timed(lambda: read.start_read(core.Runner(NSEXEC), state["device"]["name"],
                                                              state["route_table"], state["route_protocol"])())
        phases["dumps (parallel processes) + JSON decoding + parse"].append(wall)
        wall, _, plan = timed(lambda: make_plan(state, dataplane))
        phases["make_plan"].append(wall)
        if plan.changed:
            raise RuntimeError("breakdown: the plan is not a no-op")
    return [(name, statistics.median(values)) for name, values in phases.items()]


def kernel_route_cost(peers):
    """Why the kernel limit is what it is: `peers` routes on one device, each with its own
    gateway, as plain routes and as routes over nexthop objects (separate namespace)."""
    ns = NS + "-nh"
    run(["ip", "netns", "delete", ns], check=False)
    run(["ip", "netns", "add", ns])
    try:
        ip = ["ip", "-n", ns]
        run(ip + ["link", "add", "nh0", "type", "veth", "peer", "name", "nh1"])
        run(ip + ["address", "add", "100.64.255.254/16", "dev", "nh0"])
        run(ip + ["link", "set", "nh0", "up"])
        run(ip + ["link", "set", "nh1", "up"])
        gw = lambda i: "100.64.%d.%d" % (i // 250, i % 250 + 1)  # noqa: E731
        dst = lambda i: "10.%d.%d.0/24" % (64 + i // 256, i % 256)  # noqa: E731
        batch = lambda lines: timed(lambda: run(ip + ["-batch", "-"], "\n".join(lines) + "\n"))[0]  # noqa: E731
        plain = batch(["route add %s via %s dev nh0" % (dst(i), gw(i)) for i in range(peers)])
        run(ip + ["route", "flush", "dev", "nh0", "proto", "boot"])
        nexthops = batch(["nexthop add id %d via %s dev nh0" % (i + 1, gw(i)) for i in range(peers)])
        nexthops += batch(["route add %s nhid %d" % (dst(i), i + 1) for i in range(peers)])
        return {"plain routes, one gateway each": plain, "nexthop objects + routes by nhid": nexthops}
    finally:
        run(["ip", "netns", "delete", ns], check=False)


def process_floor(reps):
    """Start-up costs that every variant pays, for reading the table."""
    floors = {}
    for label, argv in (("ip netns exec NS true", NSEXEC + ["true"]),
                        ("ip -n NS link show lo", ["ip", "-n", NS, "link", "show", "lo"]),
                        ("python3 -c pass (system, in NS)", NSEXEC + [SYS_PYTHON, "-c", "pass"]),
                        ("python3 importing reconcile.core (in NS)",
                         NSEXEC + [SYS_PYTHON, "-c", "import sys; sys.path.insert(0, %r); "
                                   "import reconcile.core" % MODULE_UTILS])):
        samples = []
        for _ in range(reps):
            samples.append(timed(lambda: run(argv))[0])
        floors[label] = statistics.median(samples)
    return floors
