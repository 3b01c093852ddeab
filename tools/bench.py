#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: the reconcile module against raw iproute2 batches, at 10,000 peers.

One node with 10,000 peers: 10,000 neighbors, 10,000 FDB entries and 10,000 onlink
routes (30,000 entries) on a vxlan device, in a private namespace `nnbench`
(a veth pair is the underlay: there is no dummy link type here). Measured:

  a. module first apply (device absent), in-process and as a whole `cli.py` process
  b. raw batch: one pre-rendered `ip -batch` + one `bridge -batch` (the kernel limit)
  c. module no-op rerun (must report changed=False), in-process and as a process
  d. raw dumps: `ip -j neigh show dev X`, `bridge -j fdb show dev X`, `ip -j route show`
  e. one process per entry (the seed's way), on 1,000 peers x 3 entries, per entry

and writes the figures to .bench/reconcile.md (ignored); with --doc also to the reconcile
section of docs/performance.md (`make bench-doc`). It exits 0 even when a target is
missed: it is a benchmark, not a test. Needs root.

    python tools/bench.py [--peers N] [--reps N] [--sample N] [--doc]
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_reconcile.measure import (kernel_route_cost, module_cli, module_inprocess, noop_breakdown,  # noqa: E402
                                     per_entry, process_floor, raw_batch, raw_dumps, timed)
from bench_reconcile.report import build_report, fmt_s, machine, print_report, write_doc  # noqa: E402
from bench_reconcile.scenario import (DOC, NS, RESULT, SYS_PYTHON, check_applied, desired_state,  # noqa: E402
                                      ns_create, ns_delete, raw_commands, reset, run)


def write_lines(path, lines):
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=10000)
    parser.add_argument("--reps", type=int, default=3,
                        help="repetitions of the first applies and of the per-entry run")
    parser.add_argument("--noop-reps", type=int, default=7, help="repetitions of the no-op runs and dumps")
    parser.add_argument("--sample", type=int, default=1000, help="peers for the one-process-per-entry run")
    parser.add_argument("--doc", action="store_true", help="also rewrite the reconcile section of docs/performance.md")
    args = parser.parse_args()
    args.sample = min(args.sample, args.peers)
    if os.geteuid() != 0:
        raise SystemExit("bench needs root (network namespaces)")

    # A SIGTERM (a CI time-out, `kill`) goes through the finally below too: the namespace goes.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = datetime.datetime.now().astimezone()
    t0 = time.perf_counter()
    info = machine()
    desired = desired_state(args.peers)
    sample = desired_state(args.sample)
    workdir = tempfile.mkdtemp(prefix="nnbench.")
    walls, cpus = {}, {}
    breakdown, floors = None, {}
    try:
        state_file = os.path.join(workdir, "state.json")
        sample_file = os.path.join(workdir, "sample.json")
        for path, state in ((state_file, desired), (sample_file, sample)):
            with open(path, "w") as handle:
                json.dump(state, handle)
        ip_cmds, br_cmds = raw_commands(desired)
        ip_file, br_file = os.path.join(workdir, "ip.batch"), os.path.join(workdir, "bridge.batch")
        write_lines(ip_file, ip_cmds)
        write_lines(br_file, br_cmds)

        ns_create()
        print("nnbench: %d peers, %d entries; python for cli.py: %s" % (args.peers, 3 * args.peers, SYS_PYTHON))

        def changed(result):
            assert result["changed"] is True, "first apply reported changed=False"

        def unchanged(result):
            assert result["changed"] is False, "no-op rerun reported changed=True: %s" % result["changes"][:5]

        def cli_changes(want):
            def check(n):
                assert n >= want, "first apply (cli) reported %d changes, want %d" % (n, want)
            return check

        def cli_unchanged(n):
            assert n == 0, "no-op rerun (cli) reported %d changes" % n

        def holds(peers):
            return lambda label: check_applied(peers, label)

        def all_but_sample():
            """Untimed: every peer but the last `sample` ones, through the raw batch."""
            reset()
            head = dict(desired, neighbors=desired["neighbors"][:-args.sample], fdb=desired["fdb"][:-args.sample],
                        routes=desired["routes"][:-args.sample])
            head_ip, head_br = raw_commands(head)
            run(["ip", "-n", NS, "-batch", "-"], "\n".join(head_ip) + "\n")
            run(["bridge", "-n", NS, "-batch", "-"], "\n".join(head_br) + "\n")

        def fresh_device():
            reset()
            run(["ip", "-n", NS, "-batch", "-"], "\n".join(ip_cmds[:3]) + "\n")  # untimed

        def nothing(*_):
            return None

        def interleaved(variants, reps):
            """Runs the variants in turn, rotating their order each round, so that the machine's
            load bursts fall on all of them alike. A variant: key, label, function, check of its
            result, set-up before (untimed), check after (untimed)."""
            for rep in range(reps):
                for key, label, func, check, before, after in variants[rep % len(variants):] + \
                        variants[:rep % len(variants)]:
                    before()
                    wall, cpu, out = timed(func)
                    check(out)
                    after(label)
                    walls.setdefault(key, []).append(wall)
                    cpus.setdefault(key, []).append(cpu)
                    print("  %-40s run %d: %10s wall %10s cpu" % (label, rep + 1, fmt_s(wall), fmt_s(cpu)),
                          flush=True)

        # a + b: first applies on an empty namespace (device absent).
        interleaved([
            ("raw_batch", "raw batch", lambda: raw_batch(ip_file, br_file), nothing, reset, holds(args.peers)),
            ("first_inproc", "module first apply (in-process)", lambda: module_inprocess(desired), changed,
             reset, holds(args.peers)),
            ("first_cli", "module first apply (cli process)", lambda: module_cli(state_file),
             cli_changes(3 * args.peers), reset, holds(args.peers)),
        ], args.reps)
        # c + d: everything is applied now.
        interleaved([
            ("noop_inproc", "module no-op (in-process)", lambda: module_inprocess(desired), unchanged,
             nothing, nothing),
            ("noop_cli", "module no-op (cli process)", lambda: module_cli(state_file), cli_unchanged,
             nothing, nothing),
            ("raw_dumps", "raw dumps", raw_dumps, nothing, nothing, nothing),
        ], args.noop_reps)
        check_applied(args.peers, "after the no-op runs")
        try:
            breakdown = noop_breakdown(desired, args.noop_reps)
        except Exception as exc:  # the module's internals moved: the breakdown is optional
            print("  (no-op breakdown skipped: %s)" % exc)
        floors = process_floor(args.noop_reps)
        kernel_cost = kernel_route_cost(args.peers)
        floors.update(("kernel: %d %s" % (args.peers, k), v) for k, v in kernel_cost.items())
        # e + e': one process per entry, and the module, on the sample.
        interleaved([
            ("per_entry", "per-entry processes (sample)", lambda: per_entry(desired, args.sample), nothing,
             fresh_device, holds(args.sample)),
            ("sample_cli", "module first apply (cli, sample)", lambda: module_cli(sample_file),
             cli_changes(3 * args.sample), reset, holds(args.sample)),
            ("per_entry_full", "per-entry processes (last peers, full table)",
             lambda: per_entry(desired, args.sample, last=True), nothing, all_but_sample, holds(args.peers)),
        ], args.reps)
    finally:
        ns_delete()
        shutil.rmtree(workdir, ignore_errors=True)

    elapsed = time.perf_counter() - t0
    try:
        with open("/proc/loadavg") as handle:
            info["load average at end"] = " ".join(handle.read().split()[:3])
    except OSError:
        pass
    res = dict((key, statistics.median(values)) for key, values in walls.items())
    cpu = dict((key, statistics.median(values)) for key, values in cpus.items())
    rows, ratios, extra = build_report(args, res, cpu)
    print_report(args, walls, rows, ratios, extra, breakdown, floors)
    write_doc(args, info, walls, rows, ratios, extra, breakdown, floors, started, elapsed)
    print("\nwrote %s%s (bench run time %.0f s)" % (RESULT, " and %s" % DOC if args.doc else "", elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
