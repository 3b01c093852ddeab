"""Bad inventories through playbooks/site.yml, the way a user runs it, against a fresh lab and a
converged one: each run exits non-zero, names the node or cluster and the variable, and leaves
every namespace's links, addresses, routes of every table, permanent neighbors, FDB entries and
nexthops identical. Most are refused by validation; the last class only by the preflight, which
checks every node's live kernel before any node changes."""
import copy
import json
import subprocess

import pytest
import yaml

from kernel_snapshot import kernel_state
from lab_run import NODE_ROOT, ROOT, lab, playbook, recap

BASE = ROOT / "inventories" / "routed"  # 3 clusters (calico, canal, calico), 5 nodes, 2 routed subnets


def group(inv, name):
    return inv["all"]["children"][name]


def host(inv, name):
    for entry in inv["all"]["children"].values():
        if name in (entry.get("hosts") or {}):
            return entry["hosts"][name]
    raise KeyError(name)


def mesh(**values):
    return lambda inv: group(inv, "vxlan_mesh")["vars"].update(values)


def cluster(name, **values):
    return lambda inv: group(inv, name)["vars"].update(values)


def node(name, **values):
    return lambda inv: host(inv, name).update(values)


def both(*changes):
    def apply(inv):
        for change in changes:
            change(inv)
    return apply


def in_two_clusters(inv):
    group(inv, "beta")["hosts"]["alpha-1"] = {}


def without(name, variable):
    return lambda inv: host(inv, name).pop(variable)


# (case id, change, who is named (node or cluster), variable named)
CASES = [
    # A device that is not ours, by name
    ("device-flannel.1", mesh(vxlan_mesh_device="flannel.1"), "alpha-1", "vxlan_mesh_device"),
    ("device-vxlan.calico", mesh(vxlan_mesh_device="vxlan.calico"), "alpha-1", "vxlan_mesh_device"),
    ("device-vxlan-v6.calico", mesh(vxlan_mesh_device="vxlan-v6.calico"), "beta-2", "vxlan_mesh_device"),
    ("device-tunl0", mesh(vxlan_mesh_device="tunl0"), "gamma-1", "vxlan_mesh_device"),
    ("device-cali", mesh(vxlan_mesh_device="cali7a3f"), "alpha-2", "vxlan_mesh_device"),
    ("device-kube-bridge", mesh(vxlan_mesh_device="kube-bridge"), "beta-1", "vxlan_mesh_device"),
    ("device-kube-ipvs0", mesh(vxlan_mesh_device="kube-ipvs0"), "beta-1", "vxlan_mesh_device"),
    ("device-cilium", mesh(vxlan_mesh_device="cilium_vxlan"), "alpha-1", "vxlan_mesh_device"),
    ("device-docker0", mesh(vxlan_mesh_device="docker0"), "alpha-1", "vxlan_mesh_device"),
    ("device-cni0", mesh(vxlan_mesh_device="cni0"), "alpha-1", "vxlan_mesh_device"),
    ("device-lo", mesh(vxlan_mesh_device="lo"), "alpha-1", "vxlan_mesh_device"),
    ("device-underlay-nic", mesh(vxlan_mesh_device="ens3"), "alpha-1", "vxlan_mesh_device"),
    ("device-other-nodes-nic", both(node("gamma-1", node_interface="eth7"), mesh(vxlan_mesh_device="eth7")),
     "alpha-1", "vxlan_mesh_device"),
    # The VNI and port of the cluster's own CNI
    ("vni-flannel", mesh(vxlan_mesh_vni=1, vxlan_mesh_port=8472), "beta-1", "vxlan_mesh_vni"),
    ("vni-flannel-custom", both(cluster("beta", flannel_vni=9), mesh(vxlan_mesh_vni=9, vxlan_mesh_port=8472)),
     "beta-2", "vxlan_mesh_vni"),
    ("vni-calico", mesh(vxlan_mesh_vni=4096, vxlan_mesh_port=4789), "alpha-1", "vxlan_mesh_vni"),
    # Overlaps with the underlay
    ("mesh-subnet-underlay", mesh(vxlan_mesh_subnet="10.10.0.0/16"), "alpha-1", "vxlan_mesh_subnet"),
    ("mesh-subnet-pods", mesh(vxlan_mesh_subnet="10.40.0.0/16"), "alpha", "vxlan_mesh_subnet"),
    ("mesh-subnet-services", mesh(vxlan_mesh_subnet="10.150.0.0/16"), "beta", "vxlan_mesh_subnet"),
    ("pod-cidr-underlay", both(cluster("gamma", cluster_pod_cidr="10.0.0.0/8"),
                               cluster("alpha", cluster_pod_cidr="10.40.0.0/16")), "gamma", "cluster_pod_cidr"),
    ("service-cidr-underlay", cluster("beta", cluster_service_cidr="10.10.2.0/24"), "beta", "cluster_service_cidr"),
    ("node-subnets-overlap", node("gamma-1", node_subnet="10.10.0.0/22"), "gamma-1", "node_subnet"),
    ("node-pod-cidr-is-underlay", node("alpha-1", node_pod_cidrs=["10.10.2.0/24"]), "alpha-1", "node_pod_cidrs"),
    ("cluster-cidrs-overlap", cluster("gamma", cluster_service_cidr="10.50.0.0/16"), "gamma", "cluster_service_cidr"),
    # Identity
    ("host-in-two-clusters", in_two_clusters, "alpha-1", "cluster_name"),
    ("duplicate-cluster-name", cluster("gamma", cluster_name="alpha"), "alpha", "cluster_name"),
    ("duplicate-node-ip", node("beta-1", node_ip="10.10.1.11"), "beta-1", "node_ip"),
    ("duplicate-vxlan-ip", both(node("alpha-1", vxlan_mesh_ip="172.30.9.9"), node("beta-2", vxlan_mesh_ip="172.30.9.9")),
     "beta-2", "vxlan_mesh_ip"),
    ("duplicate-vxlan-mac", both(node("alpha-1", vxlan_mesh_mac="0a:58:00:00:00:01"),
                                 node("gamma-1", vxlan_mesh_mac="0a:58:00:00:00:01")), "gamma-1", "vxlan_mesh_mac"),
    ("cluster-name-not-dns", cluster("beta", cluster_name="Beta_1"), "beta-1", "cluster_name"),
    ("pod-cidrs-overlap-nodes", node("beta-2", node_pod_cidrs=["10.50.1.0/24"]), "beta-2", "node_pod_cidrs"),
    # Values
    ("vni-zero", mesh(vxlan_mesh_vni=0), "alpha-1", "vxlan_mesh_vni"),
    ("vni-too-big", mesh(vxlan_mesh_vni=16777216), "alpha-1", "vxlan_mesh_vni"),
    ("port-not-a-number", mesh(vxlan_mesh_port="vxlan"), "alpha-1", "vxlan_mesh_port"),
    ("node-mtu-too-small", node("gamma-1", node_mtu=100), "gamma-1", "node_mtu"),
    ("mesh-mtu-too-big", mesh(vxlan_mesh_mtu=1480), "alpha-1", "vxlan_mesh_mtu"),
    ("node-ip-outside-subnet", node("beta-2", node_ip="10.10.3.22"), "beta-2", "node_ip"),
    ("node-ip-network-address", node("beta-2", node_ip="10.10.2.0"), "beta-2", "node_ip"),
    ("pod-cidrs-not-a-list", node("alpha-1", node_pod_cidrs="10.40.1.0/24"), "alpha-1", "node_pod_cidrs"),
    ("pod-cidrs-empty", node("alpha-1", node_pod_cidrs=[]), "alpha-1", "node_pod_cidrs"),
    ("pod-cidr-host-bits", node("alpha-1", node_pod_cidrs=["10.40.1.1/24"]), "alpha-1", "node_pod_cidrs"),
    ("pod-cidr-outside-cluster", node("gamma-1", node_pod_cidrs=["10.61.1.0/24"]), "gamma-1", "node_pod_cidrs"),
    ("mesh-subnet-too-small", mesh(vxlan_mesh_subnet="172.30.0.0/31"), "alpha-1", "vxlan_mesh_subnet"),
    ("mesh-mac-multicast", node("beta-1", vxlan_mesh_mac="01:00:5e:00:00:01"), "beta-1", "vxlan_mesh_mac"),
    ("vxlan-ip-outside-subnet", node("beta-1", vxlan_mesh_ip="172.31.0.5"), "beta-1", "vxlan_mesh_ip"),
    ("bad-interface-name", node("alpha-2", node_interface="eth 0"), "alpha-2", "node_interface"),
    ("unknown-cni", cluster("gamma", cluster_cni="weave"), "gamma-1", "cluster_cni"),
    ("missing-node-subnet", without("beta-1", "node_subnet"), "beta-1", "node_subnet"),
    ("direct-routing-not-bool", mesh(vxlan_mesh_direct_routing="sometimes"), "alpha-1", "vxlan_mesh_direct_routing"),
    # Only the live kernel tells: the preflight refuses on every node before any changes
    ("underlay-missing-on-one-node", node("gamma-1", node_interface="ens9"), "gamma-1", "node_interface"),
    ("vni-held-by-flanneld", both(cluster("beta", cluster_cni="kube-router"), mesh(vxlan_mesh_vni=1, vxlan_mesh_port=8472)),
     "beta-1", "flannel.1"),
]


def namespaces():
    with open(NODE_ROOT / "lab.json") as handle:
        return json.load(handle)["namespaces"]


def lab_state():
    return dict((ns, kernel_state(ns)) for ns in namespaces())


@pytest.fixture(scope="module")
def routed_lab():
    proc = lab("up", "-i", str(BASE))
    assert proc.returncode == 0, proc.stderr
    yield
    lab("down")


@pytest.fixture(scope="module", params=["fresh", "converged"])
def lab_in_state(request, routed_lab):  # once per state: a case changes nothing
    state = "absent" if request.param == "fresh" else "present"
    rc, out = playbook(BASE, "-e", "vxlan_mesh_state=%s" % state)
    assert rc == 0, out[-3000:]
    return request.param


@pytest.mark.parametrize("case, change, who, variable", CASES, ids=[c[0] for c in CASES])
def test_a_bad_inventory_changes_nothing_anywhere(lab_in_state, tmp_path, case, change, who, variable):
    inv = copy.deepcopy(yaml.safe_load((BASE / "hosts.yml").read_text()))
    change(inv)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inv))
    before = lab_state()
    rc, out = playbook(tmp_path)
    assert rc != 0, out[-3000:]
    assert who in out and variable in out, out[-3000:]
    assert lab_state() == before
    assert all(r.get("changed", 0) == 0 for r in recap(out).values()), out[-2000:]


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40


def ip(ns, *argv, check=True):
    return subprocess.run(["ip", "-n", ns] + list(argv), check=check, capture_output=True, text=True)


def test_one_nodes_failed_apply_changes_no_other_node_and_the_next_run_converges(lab_in_state):
    """gamma-1's underlay goes down: the kernel drops its routes through it, the preflight (which
    sees no conflict) passes, and gamma-1's apply fails on the first route through the down device.
    gamma-1 rolls itself back; every other node gives back its state from before the run."""
    node, nic = "gamma-1", "ens3"
    foreign = [line for line in ip(node, "-4", "route", "show").stdout.splitlines()
               if "proto kernel" not in line and "proto 201" not in line]
    ip(node, "link", "set", "dev", nic, "down")
    try:
        before = lab_state()
        rc, out = playbook(BASE)
        assert rc != 0 and "applying failed" in out and node in out, out[-3000:]
        assert lab_state() == before
    finally:
        ip(node, "link", "set", "dev", nic, "up")
        for line in foreign:  # the kernel dropped the lab's own routes through the device too
            ip(node, "route", "replace", *line.split())
    rc, out = playbook(BASE)
    assert rc == 0, out[-3000:]
    rc, out = playbook(BASE)
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]
