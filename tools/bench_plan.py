#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench-plan`: what planning costs in Ansible, against Ansible's own per-host cost.

On generated fabrics (clusters of 10 nodes, every node in one vxlan mesh, so each node's plan
holds an entry per other node), a play that only reads, checks and plans, touching no node
(connection local), is timed as a whole `ansible-playbook` run in four variants, interleaved
in rotating order in one run:

  constant   the "static" play with the plan task replaced by a constant set_fact (Ansible's own cost)
  static     node_base/validate (run_once fabric_model over hostvars) + vxlan_mesh_node_state per host,
             computed in the task that uses it, as the roles do (not kept as a fact)
  plugin     the same play, the inventory also loading the nodenet.fabric.fabric plugin
  kept       plugin, but every host keeps its plan as a fact (what the roles avoid)
  per-host   every host reads the whole inventory itself (the 0.1 way), at the smallest size only

and in process: reading and checking a 10,000-node fabric, and one node's plan from it.
Results go to .bench/plan.md (ignored); docs/performance.md changes only with --doc.
It exits 0 even when a target is missed: it is a benchmark, not a test.

    python tools/bench_plan.py [--sizes 100,400,1000] [--reps 3] [--doc]
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from nnlab import report  # noqa: E402

OUT = os.path.join(ROOT, ".bench", "plan")
TARGET_PLAY = 1.5      # plan play / constant play at the largest size, at most
TARGET_PER_HOST = 1.5  # marginal plan cost per host, largest size / smallest size, at most
TARGET_LOAD = 3.0      # seconds to read and check 10,000 nodes in process, at most
TARGET_SLICE = 0.100   # seconds for one node's plan of a loaded 10,000-node model, at most
PER_HOST_MAX = 100   # the 0.1 way is O(N^2) (82 s at 400 nodes): only run it at the smallest size

PLAY = """
- hosts: vxlan_mesh
  gather_facts: false
  connection: local
  tasks:
    - %s
    - %s
"""
CHECK = ("name: check\n      ansible.builtin.import_role: {name: nodenet.fabric.node_base, tasks_from: validate, "
         "rolespec_validate: false}\n      vars: {node_base_facets: [vxlan_mesh]}")
PLAN = '"{{ node_base_fabric | nodenet.fabric.vxlan_mesh_node_state(inventory_hostname) }}"'
PLAYS = {
    # The same play as "static", with the plan task replaced by a constant set_fact.
    "constant": PLAY % (CHECK, "{name: plan, ansible.builtin.set_fact: {planned: 0}}"),
    # As the roles plan: computed in the task that uses it, not kept as a fact.
    "static": PLAY % (CHECK, "name: plan\n      ansible.builtin.set_fact: {planned: \"{{ plan.reconcile | length }}\"}"
                             "\n      vars: {plan: %s}" % PLAN),
    # The plan kept as a fact on every host (what the roles avoid).
    "kept": PLAY % (CHECK, "{name: plan, ansible.builtin.set_fact: {plan: %s}}" % PLAN),
    # Every host reads the whole inventory itself.
    "per-host": PLAY % ("{name: check, ansible.builtin.assert: {that: true}, run_once: true}",
                        "name: plan\n      ansible.builtin.set_fact: {planned: \"{{ plan.reconcile | length }}\"}"
                        "\n      vars: {plan: \"{{ hostvars | nodenet.fabric.fabric_model(groups) "
                        "| nodenet.fabric.vxlan_mesh_node_state(inventory_hostname) }}\"}"),
}
PLAYS["plugin"] = PLAYS["static"]


# ---------------------------------------------------------------- fabrics

def ipv4(value):
    return "%d.%d.%d.%d" % (value >> 24 & 255, value >> 16 & 255, value >> 8 & 255, value & 255)


def fabric_groups(nodes, per_cluster=10):
    """{group: {"vars": {...}, "hosts": {host: {...}}}}: cluster c owns pods 20.0.0.0/8 + c*/20 (one
    /24 per node) and services 30.0.0.0/8 + c*/24; node i is 10.0.0.0/8 + i + 1."""
    clusters = {}
    for i in range(nodes):
        c = i // per_cluster
        group = clusters.setdefault("c%04d" % c, {"vars": {
            "cluster_name": "c%04d" % c, "cluster_cni": "calico",
            "cluster_pod_cidr": "%s/20" % ipv4((20 << 24) + (c << 12)),
            "cluster_service_cidr": "%s/24" % ipv4((30 << 24) + (c << 8))}, "hosts": {}})
        group["hosts"]["n%05d" % i] = {"node_ip": ipv4((10 << 24) + i + 1),
                                       "node_pod_cidrs": ["%s/24" % ipv4((20 << 24) + (c << 12) + ((i % per_cluster) << 8))]}
    return clusters


MESH_VARS = {"vxlan_mesh_subnet": "100.64.0.0/10", "node_subnet": "10.0.0.0/8", "node_interface": "eth0"}


def hostvars_and_groups(nodes):
    """The generated fabric as Ansible hands it to filters (group vars merged into host vars)."""
    hostvars, groups = {}, {"vxlan_mesh": []}
    for name, group in fabric_groups(nodes).items():
        groups[name] = sorted(group["hosts"])
        groups["vxlan_mesh"] += groups[name]
        for host, values in group["hosts"].items():
            hostvars[host] = dict(MESH_VARS, **dict(group["vars"], **values))
    return hostvars, groups


def write_inventory(nodes):
    import yaml
    folder = os.path.join(OUT, "n%d" % nodes)
    os.makedirs(folder, exist_ok=True)
    clusters = fabric_groups(nodes)
    inventory = {"all": {"children": dict(
        [("vxlan_mesh", {"children": dict((name, None) for name in clusters), "vars": MESH_VARS})]
        + list(clusters.items()))}}
    with open(os.path.join(folder, "hosts.yml"), "w") as handle:
        yaml.safe_dump(inventory, handle, default_flow_style=None)
    with open(os.path.join(OUT, "fabric.yml"), "w") as handle:
        handle.write("plugin: nodenet.fabric.fabric\n")
    return folder


# ---------------------------------------------------------------- measurements

def run_play(variant, inventory):
    play = os.path.join(OUT, "%s.yml" % variant)
    with open(play, "w") as handle:
        handle.write("---" + PLAYS[variant])
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory]
    if variant in ("plugin", "kept"):
        argv += ["-i", os.path.join(OUT, "fabric.yml")]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORKS="20")
    start = time.perf_counter()
    proc = subprocess.run(argv + [play], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError("%s at %s failed:\n%s" % (variant, inventory, proc.stdout[-3000:] + proc.stderr[-2000:]))
    return wall


def peak_rss_mb(variant, inventory):
    """Largest resident set of the controller (ansible-playbook and its workers), in a child."""
    code = ("import resource, subprocess, sys; sys.path.insert(0, %r); import bench_plan as b; "
            "b.run_play(%r, %r); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
            % (os.path.join(ROOT, "tools"), variant, inventory))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024.0


def plays(sizes, reps):
    """{(variant, size): [wall seconds]}, variants interleaved in rotating order."""
    timings = {}
    for size in sizes:
        inventory = os.path.join(write_inventory(size), "hosts.yml")
        for rep in range(reps):
            # kept and per-host only show what is avoided: one run each is enough
            variants = ["constant", "static", "plugin"] + (["kept"] + (["per-host"] if size <= PER_HOST_MAX else [])
                                                           if rep == 0 else [])
            for variant in variants[rep % len(variants):] + variants[:rep % len(variants)]:
                wall = run_play(variant, inventory)
                timings.setdefault((variant, size), []).append(wall)
                print("  %-9s %5d nodes  %7.2f s" % (variant, size, wall), flush=True)
    return timings


def in_process(nodes=10000, samples=5):
    from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh
    hostvars, groups = hostvars_and_groups(nodes)
    reads, dumps, loads, slices = [], [], [], []
    for _ in range(3):
        start = time.perf_counter()
        fabric = model.load(hostvars, groups)
        reads.append(time.perf_counter() - start)
        start = time.perf_counter()
        text = model.dumps(fabric)
        dumps.append(time.perf_counter() - start)
        model._LOADED.clear()
        start = time.perf_counter()
        model.loads(text)
        loads.append(time.perf_counter() - start)
    hosts = sorted(fabric.nodes)
    for host in hosts[:: max(1, len(hosts) // samples)][:samples]:
        start = time.perf_counter()
        plan = mesh.node_plan(fabric, host)
        slices.append(time.perf_counter() - start)
    entries = plan["verify"]["targets"].count(",") + 1
    return {"nodes": nodes, "read": statistics.median(reads), "dumps": statistics.median(dumps),
            "loads": statistics.median(loads), "slice": statistics.median(slices),
            "size_kb": len(text) / 1024.0, "peers": entries, "reads": reads, "slices": slices}


# ---------------------------------------------------------------- report

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,400,1000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--doc", action="store_true", help="also rewrite the plan section of docs/performance.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    os.makedirs(OUT, exist_ok=True)
    started, load_start = time.time(), os.getloadavg()
    print("in process: 10,000 nodes", flush=True)
    proc = in_process()
    print("plays (%d reps, interleaved):" % args.reps, flush=True)
    timings = plays(sizes, args.reps)
    rss = peak_rss_mb("plugin", os.path.join(OUT, "n%d" % sizes[-1], "hosts.yml"))
    rss_static = peak_rss_mb("static", os.path.join(OUT, "n%d" % sizes[-1], "hosts.yml"))
    med = dict((k, statistics.median(v)) for k, v in timings.items())
    small, large = sizes[0], sizes[-1]

    def marginal(variant, size):
        return (med[(variant, size)] - med[("constant", size)]) / size

    rows = []
    for variant in ("plugin", "static"):
        ratio = med[(variant, large)] / med[("constant", large)]
        rows.append(("plan play / constant play, %d nodes (%s)" % (large, variant), "%.2f" % ratio,
                     "<= %.1f" % TARGET_PLAY, ratio <= TARGET_PLAY))
        growth = marginal(variant, large) / marginal(variant, small) if marginal(variant, small) > 0 else float("inf")
        rows.append(("plan cost per host, %d vs %d nodes (%s): %.2f vs %.2f ms" % (
            large, small, variant, 1000 * marginal(variant, large), 1000 * marginal(variant, small)),
            "%.2f" % growth, "<= %.1f" % TARGET_PER_HOST, growth <= TARGET_PER_HOST))
    rows.append(("read and check %d nodes in process" % proc["nodes"], "%.2f s" % proc["read"],
                 "<= %.1f s" % TARGET_LOAD, proc["read"] <= TARGET_LOAD))
    rows.append(("one node's plan of the loaded %d-node model (%d peers)" % (proc["nodes"], proc["peers"]),
                 "%.1f ms" % (1000 * proc["slice"]), "<= %d ms" % (1000 * TARGET_SLICE), proc["slice"] <= TARGET_SLICE))
    lines = report.header("Planning (`make bench-plan`)", started, load_start)
    lines += ["", "| target | measured | target | result |", "|---|---:|---|---|"]
    lines += ["| %s | %s | %s | %s |" % (name, value, target, "PASS" if ok else "FAIL") for name, value, target, ok in rows]
    lines += ["", "Controller peak RSS at %d nodes (largest process): %.0f MB with the inventory plugin, "
              "%.0f MB without." % (large, rss, rss_static), "",
              "## Plays (wall seconds, median of %d; runs in brackets)" % args.reps, "",
              "| nodes | constant | plugin | static | kept (plugin, plan as a fact) | per-host (0.1 way) "
              "| plugin / constant | static / constant |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size in sizes:
        cells = []
        for variant in ("constant", "plugin", "static", "kept", "per-host"):
            runs = timings.get((variant, size))
            cells.append("%.2f (%s)" % (med[(variant, size)], ", ".join("%.1f" % r for r in runs)) if runs else "not run")
        lines.append("| %d | %s | %.2f | %.2f |" % (size, " | ".join(cells), med[("plugin", size)] / med[("constant", size)],
                                                      med[("static", size)] / med[("constant", size)]))
    lines += ["", "## In process (%d nodes)" % proc["nodes"], "",
              "| step | median |", "|---|---:|",
              "| read and check (model.load) | %.2f s (%s) |" % (proc["read"], ", ".join("%.2f" % r for r in proc["reads"])),
              "| document out (model.dumps), %.0f KB | %.0f ms |" % (proc["size_kb"], 1000 * proc["dumps"]),
              "| document in, cold (model.loads) | %.0f ms |" % (1000 * proc["loads"]),
              "| one node's plan, as the filter returns it | %.1f ms |" % (1000 * proc["slice"])]
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(os.path.join(os.path.dirname(OUT), "plan.md"), "w") as handle:
        handle.write(text)
    print("\n" + text)
    if args.doc:
        report.replace_section(os.path.join(ROOT, "docs", "performance.md"), "plan", text)
        print("docs/performance.md: plan section rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
