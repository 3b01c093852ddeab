#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench-fleet`: a whole fleet converged in the lab, against Ansible's own floor.

For each size (60 and 150 nodes by default: Calico clusters of 15 over three routed underlay
subnets, `tools/lab fleet`), the lab is brought up and, in one run, side by side:

  floor      `ansible all -m ansible.builtin.command -a true`: one module run per host, same hosts, forks
  converge   playbooks/vxlan_mesh.yml from an empty mesh
  no-op      the same playbook again (must report changed=0)
  ... and both again with the nodenet.fabric.fabric inventory plugin loaded after the inventory.

The floor is timed between the runs it is compared with, and the ratios use the median of its
samples. Module runs per node (the module_runs callback) are counted for the converge and the
no-op run. The fabric is then checked independently of the roles: every node's pod pings at
least 3 pods of other clusters (`ip netns exec <host>-pod ping`). Results go to .bench/fleet.md
(ignored); with --doc also to the fleet section of docs/performance.md. It exits 0 even when a
target is missed: it is a benchmark, not a test.

    python tools/bench_fleet.py [--sizes 60,150] [--doc]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from nnlab import fleet, ping, report as reports  # noqa: E402

OUT = os.path.join(ROOT, ".bench")
TARGET_CONVERGE = 5.0  # converge / floor at 60 nodes, at most
TARGET_NOOP = 3.0      # no-op rerun / floor at 60 nodes, at most
PINGS_PER_NODE = 3
BIN = os.path.dirname(sys.executable)


def env(counts=None):
    e = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), PYTHONDONTWRITEBYTECODE="1")
    e["PATH"] = "%s:%s" % (BIN, e.get("PATH", ""))
    e["ANSIBLE_CALLBACK_PLUGINS"] = os.path.join(ROOT, "tools", "ansible_plugins", "callback")
    if counts:
        e["ANSIBLE_CALLBACKS_ENABLED"] = "module_runs"
        e["NODENET_MODULE_RUNS"] = counts
    return e


def timed(argv, counts=None):
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env(counts), capture_output=True, text=True)
    return time.monotonic() - started, proc


def lab(*argv):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "lab")] + list(argv), cwd=ROOT, env=env(),
                          capture_output=True, text=True)
    if proc.returncode:
        sys.exit("bench-fleet: tools/lab %s failed:\n%s%s" % (" ".join(argv), proc.stdout, proc.stderr))
    return proc


def inventories(folder, plugin):
    args = ["-i", folder, "-i", os.path.join(ROOT, ".lab", "hosts.yml")]
    if plugin:
        args += ["-i", os.path.join(folder, "..", "plugin", "zz-fabric.yml")]
    return args


def playbook(folder, plugin, counts=None, *extra):
    seconds, proc = timed([os.path.join(BIN, "ansible-playbook")] + inventories(folder, plugin)
                          + [os.path.join(ROOT, "playbooks", "vxlan_mesh.yml")] + list(extra), counts)
    if proc.returncode:
        sys.exit("bench-fleet: the playbook failed:\n%s" % (proc.stdout + proc.stderr)[-4000:])
    return seconds, proc.stdout


def changed_total(output):
    import re
    return sum(int(n) for n in re.findall(r"^\S+\s+:\s+ok=\d+\s+changed=(\d+)", output, re.M))


def floor(folder):
    seconds, proc = timed([os.path.join(BIN, "ansible"), "vxlan_mesh"] + inventories(folder, False)
                          + ["-m", "ansible.builtin.command", "-a", "true"])
    if proc.returncode:
        sys.exit("bench-fleet: the floor run failed:\n%s" % (proc.stdout + proc.stderr)[-3000:])
    return seconds


def module_runs(path, nodes):
    """(node module runs per node, controller module runs) from the callback's JSON."""
    with open(path) as handle:
        counts = json.load(handle)
    node = sum(roles.get("node", 0) for host in counts.values() for roles in host.values())
    controller = sum(roles.get("controller", 0) for host in counts.values() for roles in host.values())
    return node / float(nodes), controller


def pod_pings(inventory):
    """(answered, asked): every node's pod pings PINGS_PER_NODE pods of other clusters."""
    results = ping.ping_all(fleet.pod_ping_pairs(inventory, PINGS_PER_NODE))
    return sum(results.values()), len(results)


def measure(size, work):
    folder = os.path.join(work, "fleet-%d" % size, "static")
    fleet.write(folder, size)
    plugin_folder = os.path.join(work, "fleet-%d" % size, "plugin")
    os.makedirs(plugin_folder, exist_ok=True)
    with open(os.path.join(plugin_folder, "zz-fabric.yml"), "w") as handle:
        handle.write("plugin: nodenet.fabric.fabric\n")
    started = time.monotonic()
    lab("up", "-i", folder)
    row = {"nodes": size, "lab_up": time.monotonic() - started, "floor": []}
    counts = os.path.join(work, "fleet-%d" % size, "runs.json")
    for plugin in (False, True):
        key = "plugin" if plugin else "static"
        playbook(folder, plugin, None, "-e", "vxlan_mesh_state=absent")
        row["floor"].append(floor(folder))
        row[key + "_converge"], out = playbook(folder, plugin, counts)
        row[key + "_converge_runs"] = module_runs(counts, size)
        row["floor"].append(floor(folder))
        row[key + "_noop"], out = playbook(folder, plugin, counts)
        row[key + "_noop_runs"] = module_runs(counts, size)
        row[key + "_noop_changed"] = changed_total(out)
        row["floor"].append(floor(folder))
    import yaml
    with open(os.path.join(folder, "hosts.yml")) as handle:
        row["pings"] = pod_pings(yaml.safe_load(handle))
    lab("down")
    row["floor_median"] = statistics.median(row["floor"])
    return row


def ratio(row, key):
    return row[key] / row["floor_median"]


def report(rows, started, load_start):
    lines = reports.header("Fleet (`make bench-fleet`)", started, load_start) + [
             "",
             "Generated fleets (Calico clusters of 15 nodes over three routed subnets, vxlan_mesh), in the lab.",
             "Ratios are against the floor (one module run per host, same hosts and forks), measured in the same run."]
    verdicts = []
    for row in rows:
        lines += ["", "| nodes | floor s | run | inventory | s | x floor | module runs per node | changed |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for key in ("static", "plugin"):
            for run in ("converge", "noop"):
                per_node, _controller = row["%s_%s_runs" % (key, run)]
                changed = row.get("%s_noop_changed" % key, "") if run == "noop" else ""
                lines.append("| %d | %.1f | %s | %s | %.1f | %.2f | %.1f | %s |" % (
                    row["nodes"], row["floor_median"], "no-op" if run == "noop" else run, key,
                    row["%s_%s" % (key, run)], ratio(row, "%s_%s" % (key, run)), per_node, changed))
        answered, asked = row["pings"]
        lines.append("")
        lines.append("%d nodes: lab up %.1f s; pod pings across clusters: %d of %d answered." % (
            row["nodes"], row["lab_up"], answered, asked))
        if row["nodes"] == 60:
            for key in ("static", "plugin"):
                for run, target in (("converge", TARGET_CONVERGE), ("noop", TARGET_NOOP)):
                    value = ratio(row, "%s_%s" % (key, run))
                    verdicts.append("%s  %s %s at 60 nodes: %.2f x floor (target <= %.1f)" % (
                        "PASS" if value <= target else "FAIL", run, key, value, target))
            verdicts.append("%s  no-op reruns report changed=0" % (
                "PASS" if row["static_noop_changed"] == 0 and row["plugin_noop_changed"] == 0 else "FAIL"))
            verdicts.append("%s  every pod ping answered" % ("PASS" if answered == asked else "FAIL"))
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        lines += ["", "Growth from %d to %d nodes (%.1fx the nodes):" % (small["nodes"], large["nodes"],
                                                                         large["nodes"] / float(small["nodes"]))]
        for key in ("floor_median", "static_converge", "static_noop", "plugin_converge", "plugin_noop"):
            lines.append("- %s: %.1f s -> %.1f s (%.2fx)" % (key, small[key], large[key], large[key] / small[key]))
    lines += ["", "## Targets", ""] + ["    " + v for v in verdicts]
    return "\n".join(lines) + "\n", verdicts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="60,150")
    parser.add_argument("--doc", action="store_true", help="also rewrite the fleet section of docs/performance.md")
    args = parser.parse_args()
    started, load_start = time.time(), os.getloadavg()
    work = os.path.join(OUT, "fleet")
    os.makedirs(work, exist_ok=True)
    rows = []
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            rows.append(measure(size, work))
    finally:
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "lab"), "down"], cwd=ROOT, env=env(),
                       capture_output=True)
    text, verdicts = report(rows, started, load_start)
    with open(os.path.join(OUT, "fleet.md"), "w") as handle:
        handle.write(text)
    print(text)
    print("bench-fleet: report in .bench/fleet.md")
    if args.doc:
        reports.replace_section(os.path.join(ROOT, "docs", "performance.md"), "fleet", text)
        print("docs/performance.md: fleet section rewritten")


if __name__ == "__main__":
    main()
