"""Seed 002 is the golden table: the plan must reproduce its commands exactly."""
import pytest

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import cluster as ippools
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh

# Transcribed from seed 002's tables and commands (ip link add / arp -s / bridge fdb append / route add).
SEED_NODES = {
    # host: (cluster, node ip, vxlan ip, mac, pod cidr)
    "multicluster-test-001": ("test-cluster1", "192.168.0.21", "179.17.1.21", "c2:6a:9b:e5:39:8d", "10.234.111.0/24"),
    "multicluster-test-002": ("test-cluster1", "192.168.0.31", "179.17.1.31", "7a:3a:fe:45:a3:76", "10.234.118.0/24"),
    "multicluster-test-003": ("test-cluster2", "192.168.0.16", "179.17.1.16", "36:f9:67:c0:70:1c", "10.235.88.0/24"),
    "multicluster-test-004": ("test-cluster2", "192.168.0.44", "179.17.1.44", "12:d1:df:44:3d:aa", "10.235.113.0/24"),
    "multicluster-test-005": ("test-cluster3", "192.168.0.15", "179.17.1.15", "ba:a7:54:aa:bc:ce", "10.236.115.0/24"),
    "multicluster-test-006": ("test-cluster3", "192.168.0.13", "179.17.1.13", "4e:ac:f5:6f:4e:76", "10.236.106.0/24"),
}

# "route add -net X gw Y dev vxlan-test", per cluster (the seed's third block says
# test-cluster2 where it means test-cluster3).
SEED_ROUTES = {
    "test-cluster1": [("10.235.88.0/24", "179.17.1.16"), ("10.235.113.0/24", "179.17.1.44"),
                      ("10.236.115.0/24", "179.17.1.15"), ("10.236.106.0/24", "179.17.1.13")],
    "test-cluster2": [("10.234.111.0/24", "179.17.1.21"), ("10.234.118.0/24", "179.17.1.31"),
                      ("10.236.115.0/24", "179.17.1.15"), ("10.236.106.0/24", "179.17.1.13")],
    "test-cluster3": [("10.234.111.0/24", "179.17.1.21"), ("10.234.118.0/24", "179.17.1.31"),
                      ("10.235.88.0/24", "179.17.1.16"), ("10.235.113.0/24", "179.17.1.44")],
}

SEED_POOLS = {  # IPPool name -> cidr, per cluster
    "test-cluster1": {"svc-test-cluster2": "10.235.0.0/18", "pod-test-cluster2": "10.235.64.0/18",
                      "svc-test-cluster3": "10.236.0.0/18", "pod-test-cluster3": "10.236.64.0/18"},
    "test-cluster2": {"svc-test-cluster1": "10.234.0.0/18", "pod-test-cluster1": "10.234.64.0/18",
                      "svc-test-cluster3": "10.236.0.0/18", "pod-test-cluster3": "10.236.64.0/18"},
    "test-cluster3": {"svc-test-cluster1": "10.234.0.0/18", "pod-test-cluster1": "10.234.64.0/18",
                      "svc-test-cluster2": "10.235.0.0/18", "pod-test-cluster2": "10.235.64.0/18"},
}


@pytest.fixture(scope="module")
def fabric(seed_inventory):
    return model.load(*seed_inventory)


@pytest.mark.parametrize("host", sorted(SEED_NODES))
def test_device_is_the_seeds(fabric, host):
    _, node_ip, vxlan_ip, mac, _ = SEED_NODES[host]
    # ip link add vxlan-test type vxlan id 10001 dstport 4899 local <node ip> dev eth0 nolearning
    assert mesh.node_state(fabric, host)["device"] == {
        "name": "vxlan-test", "kind": "vxlan", "vni": 10001, "port": 4899, "local": node_ip,
        "underlay": "eth0", "learning": False, "mtu": 1450, "mac": mac, "address": vxlan_ip + "/24"}


@pytest.mark.parametrize("host", sorted(SEED_NODES))
def test_arp_and_fdb_for_every_other_node(fabric, host):
    state = mesh.node_state(fabric, host)
    others = [v for h, v in SEED_NODES.items() if h != host]
    assert sorted((n["ip"], n["mac"]) for n in state["neighbors"]) == sorted((v[2], v[3]) for v in others)
    assert sorted((f["mac"], f["dst"]) for f in state["fdb"]) == sorted((v[3], v[1]) for v in others)


@pytest.mark.parametrize("host", sorted(SEED_NODES))
def test_routes_to_other_clusters_via_vxlan_ips(fabric, host):
    state = mesh.node_state(fabric, host)
    cluster = SEED_NODES[host][0]
    assert sorted((r["dst"], r["via"]) for r in state["routes"]) == sorted(SEED_ROUTES[cluster])
    assert {(r["dev"], r["onlink"]) for r in state["routes"]} == {("vxlan-test", True)}
    assert state["route_protocol"] == 201


def test_ippools_are_the_seeds(fabric):
    pools = {item["cluster"]: item for item in ippools.remote_ippools(fabric)}
    assert sorted(pools) == sorted(SEED_POOLS)
    for cluster, expected in SEED_POOLS.items():
        manifests = pools[cluster]["manifests"]
        assert {m["metadata"]["name"]: m["spec"]["cidr"] for m in manifests} == expected
        assert all(m["spec"]["natOutgoing"] is False and m["spec"]["disabled"] is True for m in manifests)
        assert pools[cluster]["kubeconfig"] is None


def test_direct_routing_uses_node_ip_for_peers_on_the_same_subnet(seed_inventory):
    hostvars, groups = seed_inventory
    hostvars = {h: dict(v) for h, v in hostvars.items()}
    for host in ("multicluster-test-001", "multicluster-test-003"):
        hostvars[host]["vxlan_mesh_direct_routing"] = True
    # Move node 005 into another subnet: it stays behind vxlan.
    hostvars["multicluster-test-005"].update(node_subnet="192.168.1.0/24", node_ip="192.168.1.15")
    state = mesh.node_state(model.load(hostvars, groups), "multicluster-test-001")
    routes = {r["dst"]: (r["via"], r["dev"], r["onlink"]) for r in state["routes"]}
    assert routes["10.235.88.0/24"] == ("192.168.0.16", "eth0", False)
    assert routes["10.236.106.0/24"] == ("192.168.0.13", "eth0", False)
    assert routes["10.236.115.0/24"] == ("179.17.1.15", "vxlan-test", True)
    # The overlay stays fully meshed, so every peer still has ARP and FDB entries.
    assert len(state["neighbors"]) == len(state["fdb"]) == 5
    # Node 002 did not ask for direct routing: it keeps the seed's vxlan routes.
    other = mesh.node_state(model.load(hostvars, groups), "multicluster-test-002")
    assert {r["dev"] for r in other["routes"]} == {"vxlan-test"}


def test_a_node_state_depends_only_on_inventory(seed_inventory):
    """--limit cannot change a node's plan: hostvars of every host, not the play's, feed it."""
    hostvars, groups = seed_inventory
    full = mesh.node_state(model.load(hostvars, groups), "multicluster-test-003")
    reordered = dict(reversed(list(hostvars.items())))
    assert mesh.node_state(model.load(reordered, groups), "multicluster-test-003") == full
