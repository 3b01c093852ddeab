"""vxlan_mesh across families: one device carries both, over the underlay family every node shares;
a node meshes the families its cluster's pods have (addresses, neighbors, routes, pings), FDB
entries point at the underlay, and each family rule is refused naming cluster, node and variable."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model  # noqa: E402
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import cluster as pools  # noqa: E402
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh  # noqa: E402
import fabric_inventory as inv  # noqa: E402

N1, N2, N3, N4, N5, N6 = ("multicluster-test-00%d" % i for i in range(1, 7))
V6_UNDERLAY = "fd00:192:168::/64"
OCTET = {N1: 21, N2: 31, N3: 16, N4: 44, N5: 15, N6: 13}


def build(mesh_vars=None, hosts=None, cluster=None):
    """test-cluster1 dual-stack, test-cluster2 IPv6-only, test-cluster3 IPv4-only (Calico), every
    node on a dual-stack underlay; the mesh has an IPv4 and an IPv6 subnet."""
    clusters = {
        "test_cluster1": {"cluster_pod_cidr": "10.234.64.0/18,fd01:10::/56",
                          "cluster_service_cidr": "10.234.0.0/18,fd01:96::/112", "cluster_cni": "flannel"},
        "test_cluster2": {"cluster_pod_cidr": "fd02:10::/56", "cluster_service_cidr": "fd02:96::/112",
                          "cluster_cni": "kube-router"},
    }
    for group, values in (cluster or {}).items():
        clusters.setdefault(group, {}).update(values)
    node_vars = {}
    for host, octet in OCTET.items():
        node_vars[host] = {"node_ip": ["192.168.0.%d" % octet, "fd00:192:168::%d" % octet],
                           "node_subnet": ["192.168.0.0/24", V6_UNDERLAY]}
    node_vars[N1]["node_pod_cidrs"] = ["10.234.111.0/24", "fd01:10:0:1::/64"]
    node_vars[N2]["node_pod_cidrs"] = ["10.234.118.0/24", "fd01:10:0:2::/64"]
    node_vars[N3]["node_pod_cidrs"] = ["fd02:10:0:3::/64"]
    node_vars[N4]["node_pod_cidrs"] = ["fd02:10:0:4::/64"]
    for host, values in (hosts or {}).items():
        node_vars[host].update(values)
    return inv.build(clusters=3, explicit=False, cluster=clusters, hosts=node_vars,
                     mesh=dict({"vxlan_mesh_subnet": "179.17.1.0/24,fd17:1::/64"}, **(mesh_vars or {})))


def states(hostvars, groups):
    fabric = model.load(hostvars, groups)
    return fabric, dict((h, mesh.node_state(fabric, h)) for h in fabric.nodes)


def mesh_lines(hostvars, groups):
    return sorted(str(e) for e in model.read(hostvars, groups).problems(["vxlan_mesh"]))


def test_one_device_carries_both_families_over_the_shared_ipv4_underlay():
    fabric, state = states(*build())
    dual, v6only, v4only = state[N1], state[N3], state[N5]
    assert dual["device"]["address"] == ["179.17.1.21/24", "fd17:1::21/64"]  # IPv6 from the IPv6 node_ip's host part
    assert dual["device"]["local"] == "192.168.0.21" and dual["device"]["mtu"] == 1450
    assert v6only["device"]["address"] == "fd17:1::16/64" and v4only["device"]["address"] == "179.17.1.15/24"
    assert v6only["device"]["mac"] == "0a:58:00:00:00:16"  # from the last four bytes of its only address
    assert dual["device"]["mac"] == "0a:58:b3:11:01:15"  # an IPv4 mesh keeps its MACs
    # FDB: every peer, at its underlay (IPv4) address; neighbors: the families both mesh.
    assert sorted(f["dst"] for f in dual["fdb"]) == ["192.168.0.13", "192.168.0.15", "192.168.0.16",
                                                     "192.168.0.31", "192.168.0.44"]
    assert sorted(n["ip"] for n in dual["neighbors"]) == ["179.17.1.13", "179.17.1.15", "179.17.1.31",
                                                          "fd17:1::16", "fd17:1::31", "fd17:1::44"]
    assert sorted(n["ip"] for n in v6only["neighbors"]) == ["fd17:1::21", "fd17:1::31", "fd17:1::44"]
    assert sorted(n["ip"] for n in v4only["neighbors"]) == ["179.17.1.13", "179.17.1.21", "179.17.1.31"]
    assert [(r["dst"], r["via"]) for r in dual["routes"]] == [
        ("10.236.106.0/24", "179.17.1.13"), ("10.236.115.0/24", "179.17.1.15"),
        ("fd02:10:0:3::/64", "fd17:1::16"), ("fd02:10:0:4::/64", "fd17:1::44")]
    assert [(r["dst"], r["via"]) for r in v6only["routes"]] == [("fd01:10:0:1::/64", "fd17:1::21"),
                                                                ("fd01:10:0:2::/64", "fd17:1::31")]
    assert all(r["dev"] == "vxlan-test" and r["onlink"] for s in state.values() for r in s["routes"])
    targets = mesh.node_plan(fabric, N1)["verify"]["targets"].split(",")
    assert sorted(targets) == sorted(n["ip"] for n in dual["neighbors"])


def test_an_ipv6_underlay_carries_the_packets_with_70_bytes_of_overhead():
    _fabric, state = states(*build({"vxlan_mesh_underlay": "ipv6"}))
    device = state[N5]["device"]
    assert device["local"] == "fd00:192:168::15" and device["mtu"] == 1430
    assert sorted(f["dst"] for f in state[N5]["fdb"])[0] == "fd00:192:168::13"
    # Never chosen silently where some node has no IPv4 address: every device would be recreated.
    hostvars, groups = build(hosts={N3: {"node_ip": "fd00:192:168::16", "node_subnet": V6_UNDERLAY}})
    assert mesh_lines(hostvars, groups) == [
        "cluster test-cluster2, node %s, node_ip: fd00:192:168::16 has no IPv4 address, so the mesh cannot travel over "
        "IPv4; set vxlan_mesh_underlay: ipv6 for an IPv6 underlay (every mesh node has an IPv6 node_ip)" % N3]


def test_direct_routing_goes_by_each_familys_own_subnet():
    # test-cluster3 goes dual-stack: test-cluster1 reaches its IPv4 pods over the shared IPv4
    # subnet directly, and its IPv6 pods over the shared IPv6 subnet.
    hostvars, groups = build({"vxlan_mesh_direct_routing": True}, cluster={"test_cluster3": {
        "cluster_pod_cidr": "10.236.64.0/18,fd03:10::/56", "cluster_service_cidr": "10.236.0.0/18,fd03:96::/112"}},
        hosts={N5: {"node_pod_cidrs": ["10.236.115.0/24", "fd03:10:0:5::/122"]},
               N6: {"node_pod_cidrs": ["10.236.106.0/24", "fd03:10:0:6::/122"], "node_subnet": [
                   "192.168.0.0/24", "fd00:192:168::/64"]}})
    _fabric, state = states(hostvars, groups)
    routes = dict((r["dst"], (r["via"], r["dev"])) for r in state[N1]["routes"])
    assert routes["fd03:10:0:5::/122"] == ("fd00:192:168::15", "eth0")
    assert routes["10.236.115.0/24"] == ("192.168.0.15", "eth0")
    assert routes["fd02:10:0:3::/64"] == ("fd00:192:168::16", "eth0")


def test_ippools_cover_each_family_of_every_remote_cluster():
    fabric = model.load(*build())
    by_cluster = dict((r["cluster"], sorted((p["metadata"]["name"], p["spec"]["cidr"]) for p in r["manifests"]))
                      for r in pools.remote_ippools(fabric))
    assert by_cluster == {"test-cluster3": [
        ("pod-test-cluster1", "10.234.64.0/18"), ("pod-test-cluster1-v6", "fd01:10::/56"),
        ("pod-test-cluster2-v6", "fd02:10::/56"), ("svc-test-cluster1", "10.234.0.0/18"),
        ("svc-test-cluster1-v6", "fd01:96::/112"), ("svc-test-cluster2-v6", "fd02:96::/112")]}


def test_an_ipv4_mesh_plans_exactly_as_before():
    hostvars, groups = inv.build()
    fabric = model.load(hostvars, groups)
    state = mesh.node_state(fabric, N1)
    assert state["device"]["address"] == "179.17.1.21/24" and state["device"]["local"] == "192.168.0.21"
    assert json.loads(mesh.node_plan(fabric, N1)["reconcile"]) == state


def test_every_family_problem_of_the_mesh_is_reported_at_once():
    hostvars, groups = build(
        {"vxlan_mesh_subnet": "179.17.1.0/24"},
        hosts={N5: {"vxlan_mesh_ip": ["179.17.1.15", "fd17:1::15"]}})
    assert mesh_lines(hostvars, groups) == sorted([
        "cluster test-cluster1, vxlan_mesh_subnet: 179.17.1.0/24 has no IPv6 subnet, and cluster test-cluster1's pods "
        "are IPv6 (cluster_pod_cidr 10.234.64.0/18,fd01:10::/56): add an IPv6 subnet to vxlan_mesh_subnet, or leave "
        "the cluster out of group vxlan_mesh",
        "cluster test-cluster2, vxlan_mesh_subnet: 179.17.1.0/24 has no IPv6 subnet, and cluster test-cluster2's pods "
        "are IPv6 (cluster_pod_cidr fd02:10::/56): add an IPv6 subnet to vxlan_mesh_subnet, or leave the cluster out "
        "of group vxlan_mesh",
        "cluster test-cluster3, node %s, vxlan_mesh_ip: fd17:1::15 is IPv6, but vxlan_mesh_subnet 179.17.1.0/24 has no "
        "IPv6 subnet" % N5,
    ])
    hostvars, groups = build({"vxlan_mesh_underlay": "ipv6"}, hosts={
        N5: {"node_ip": "192.168.0.15", "node_subnet": "192.168.0.0/24"},
        N1: {"node_mtu": 1340}, N6: {"vxlan_mesh_ip": "fd17:1::13"}})
    assert mesh_lines(hostvars, groups) == sorted([
        "cluster test-cluster3, node %s, node_ip: has no IPv6 address, and vxlan_mesh_underlay is ipv6: every mesh "
        "node needs one" % N5,
    ])
    hostvars, groups = build(hosts={N1: {"node_mtu": 1340}, N6: {"vxlan_mesh_ip": "fd17:1::13"},
                                    N2: {"vxlan_mesh_underlay": "ipv6"}, N3: {"vxlan_mesh_underlay": "ipv4"}})
    assert mesh_lines(hostvars, groups) == sorted([
        "cluster test-cluster2, node %s, vxlan_mesh_underlay: ipv4 differs from ipv6 on node %s; every node of group "
        "vxlan_mesh must use the same value" % (N3, N2),
    ])
    hostvars, groups = build({"vxlan_mesh_underlay": "ipv6"}, hosts={N1: {"node_mtu": 1340},
                                                                      N6: {"vxlan_mesh_ip": "fd17:1::13"}})
    assert mesh_lines(hostvars, groups) == sorted([
        "cluster test-cluster1, node %s, node_mtu: 1340 leaves no room for the 70-byte vxlan overhead over IPv6 (needs "
        ">= 1350, for IPv6 inside)" % N1,
        "cluster test-cluster3, node %s, vxlan_mesh_ip: fd17:1::13 is IPv6, but cluster test-cluster3 has no IPv6 "
        "pods; the node meshes IPv4 only" % N6,
    ])


def test_a_mesh_subnet_no_cluster_uses_and_nodes_without_a_shared_family_are_refused():
    hostvars, groups = inv.build(mesh={"vxlan_mesh_subnet": "179.17.1.0/24,fd17:1::/64"})
    assert mesh_lines(hostvars, groups) == [
        "cluster test-cluster1, node %s, vxlan_mesh_subnet: fd17:1::/64 is IPv6, but no cluster of the mesh has IPv6 "
        "pods; leave it out" % N1]
    hostvars, groups = build(hosts={N3: {"node_ip": "fd00:192:168::16", "node_subnet": V6_UNDERLAY},
                                    N5: {"node_ip": "192.168.0.15", "node_subnet": "192.168.0.0/24"}})
    assert mesh_lines(hostvars, groups) == [
        "cluster test-cluster2, node %s, node_ip: fd00:192:168::16 has no IPv4 address, so the mesh cannot travel over "
        "IPv4; nor can it over IPv6: %s have no IPv6 node_ip. Give every mesh node an address in one family" % (N3, N5)]
