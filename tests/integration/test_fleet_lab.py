"""A generated 60-node fleet (tools/lab fleet: four Calico clusters of 15 over three routed
underlay subnets) meshed by vxlan_mesh in the lab: the converge is green, a rerun changes
nothing, and pods of every node reach pods of other clusters. The one-socket reachability
check fails for real when one node's mesh device is down, naming that node and its peers."""
import json
import subprocess
import sys

import pytest
import yaml

from lab_run import BIN, ROOT, env, lab, module_runs, playbook, recap, steps_run

sys.path.insert(0, str(ROOT / "tools"))
from nnlab import fleet as fleet_inventory, ping  # noqa: E402

NODES = 60
PLAYBOOK = "playbooks/vxlan_mesh.yml"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fleet") / "inventory"
    proc = lab("fleet", "--nodes", str(NODES), "-o", str(folder))
    assert proc.returncode == 0, proc.stderr
    proc = lab("up", "-i", str(folder))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield folder
    lab("down")


@pytest.fixture(scope="module")
def converged(fleet):
    """The first converge of the fleet, once for the module: (pod pings that failed before it, rc,
    output). The later tests start from the fabric it leaves (each ends with it green again)."""
    before = pod_pings(fleet, 1, attempts=1)
    rc, out = playbook(fleet, playbook=PLAYBOOK, runs=("vxlan_mesh", "converge"))
    return before, rc, out


def inventory(folder):
    return yaml.safe_load((folder / "hosts.yml").read_text())


def pods(folder):
    """[(host, cluster, the first address of its pod CIDR)]: the lab's pod stand-ins."""
    return fleet_inventory.pods(inventory(folder))


def pod_pings(folder, per_node=3, attempts=3):
    """[(pod namespace, pod ip)] that did not answer (tools/nnlab/fleet.py chooses the pairs)."""
    pairs = fleet_inventory.pod_ping_pairs(inventory(folder), per_node)
    return [pair for pair, answered in ping.ping_all(pairs, attempts).items() if not answered]


def test_a_60_node_fleet_converges_reruns_clean_and_its_pods_reach_other_clusters(fleet, converged):
    assert len(pods(fleet)) == NODES
    before, rc, out = converged
    assert before  # before the mesh, pods of other clusters do not answer: the check can fail
    assert rc == 0, out[-4000:]
    assert len(recap(out)) == NODES and all(r["changed"] > 0 for r in recap(out).values())
    rc, out = playbook(fleet, playbook=PLAYBOOK, runs=("vxlan_mesh", "no-op"))
    assert rc == 0 and {r["changed"] for r in recap(out).values()} == {0}, out[-4000:]
    # on the node: preflight, apply, check; then the preflight alone, which also checked
    assert set(module_runs("vxlan_mesh", "converge").values()) == {3}
    assert set(module_runs("vxlan_mesh", "no-op").values()) == {1}
    # no node changed, so each node's in-sync preflight pinged the fabric as the run leaves it:
    # the check after the apply ran nowhere
    assert all("verified" in ran for ran in steps_run("vxlan_mesh", "converge").values())  # it can run
    assert [h for h, ran in steps_run("vxlan_mesh", "no-op").items() if "verified" in ran] == [], out[-4000:]
    assert pod_pings(fleet) == []


def test_a_no_op_run_still_fails_on_a_break_it_does_not_own(fleet, converged):
    """Every node is in sync, so the run's check is the preflight's sweep; a rule dropping ICMP on
    one node (not ours: the kernel state we own is untouched) must still fail the run, naming that
    node's peers on every other node, with nothing changed."""
    assert converged[1] == 0, converged[2][-4000:]
    broken = "fleet01-04"
    rule = ["ip", "netns", "exec", broken, "iptables", "-w", "-I", "INPUT", "-p", "icmp", "--icmp-type", "echo-request",
            "-j", "DROP"]
    subprocess.run(rule, check=True)
    try:
        rc, out = playbook(fleet, playbook=PLAYBOOK)
    finally:
        subprocess.run(["ip", "netns", "exec", broken, "iptables", "-w", "-D"] + rule[7:], check=True)
    counts = recap(out)
    assert rc != 0 and {r["changed"] for r in counts.values()} == {0}, out[-4000:]
    failed = sorted(h for h, r in counts.items() if r["failed"])
    assert failed == sorted(h for h, _c, _ip in pods(fleet) if h != broken), failed
    assert "unreachable: %s" % vxlan_ip(fleet, broken) in out

def test_the_reachability_check_fails_when_one_nodes_device_is_down(fleet, converged):
    """The role's own check (the reachability module over each node's verify targets), run ad hoc
    through the inventory plugin after one node's mesh device goes down; a run then repairs that
    node alone, and every node's check passes again."""
    assert converged[1] == 0, converged[2][-4000:]
    plugin = fleet.parent / "zz-fabric.yml"
    plugin.write_text("plugin: nodenet.fabric.fabric\n")
    check = [str(BIN / "ansible"), "vxlan_mesh", "-i", str(fleet), "-i", ".lab/hosts.yml", "-i", str(plugin),
             "-m", "nodenet.fabric.reachability", "-a",
             "targets={{ (node_base_fabric | nodenet.fabric.vxlan_mesh_node_state(inventory_hostname)).verify.targets }}",
             "-o"]
    broken = "fleet02-07"
    subprocess.run(["ip", "-n", broken, "link", "set", "dev", "nnmesh0", "down"], check=True)
    try:
        proc = subprocess.run(check, cwd=ROOT, env=env(), capture_output=True, text=True)
    finally:
        subprocess.run(["ip", "-n", broken, "link", "set", "dev", "nnmesh0", "up"], check=True)
    results = parse_oneline(proc.stdout)
    assert proc.returncode != 0 and len(results) == NODES, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert results[broken]["reachable"] == [] and len(results[broken]["unreachable"]) == NODES - 1, results[broken]
    mesh_ip = vxlan_ip(fleet, broken)
    for host, result in results.items():
        if host != broken:
            assert result["unreachable"] == [mesh_ip], (host, result)
            assert "unreachable: %s" % mesh_ip in result["msg"] and result["method"] == "socket", result
    # The kernel dropped the device's neighbors and routes with it: the role puts back only those
    rc, out = playbook(fleet, playbook=PLAYBOOK)
    assert rc == 0, out[-4000:]
    assert sorted(h for h, r in recap(out).items() if r["changed"]) == [broken], out[-4000:]
    proc = subprocess.run(check, cwd=ROOT, env=env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


def parse_oneline(text):
    """{host: result} from `ansible -o` lines: `host | FAILED! => {...}` or `host | SUCCESS => {...}`."""
    results = {}
    for line in text.splitlines():
        host, _, rest = line.partition(" | ")
        if "=> " in rest:
            results[host] = json.loads(rest.split("=> ", 1)[1])
    return results


def vxlan_ip(folder, host):
    import sys
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.nodenet.fabric.plugins.plugin_utils import inventory, model
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(folder), "--list"], cwd=ROOT, env=env(),
                          capture_output=True, text=True, check=True)
    hostvars, groups = inventory.from_inventory_list(json.loads(proc.stdout))
    return model.read(hostvars, groups).facets["vxlan_mesh"][host].ip
