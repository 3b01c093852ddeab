"""Derived vxlan IPs and MACs: the seed's planned values, stable when other nodes come
and go, independent of inventory order, and never the subnet's network or broadcast."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))

import pytest  # noqa: E402

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import allocate
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh  # noqa: E402

try:
    from . import fabric_inventory as inv
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import fabric_inventory as inv  # noqa: E402

DROP, build, only_error, assert_error = inv.DROP, inv.build, inv.only_error, inv.assert_error
load_errors, triples = inv.load_errors, inv.triples

N1, N3, N4 = "multicluster-test-001", "multicluster-test-003", "multicluster-test-004"


def states(hostvars, groups):
    fabric = model.load(hostvars, groups)
    return {host: mesh.node_state(fabric, host) for host in fabric.members["vxlan_mesh"]}


def devices(hostvars, groups):
    return {host: state["device"] for host, state in states(hostvars, groups).items()}


def mac_of(ip):
    """0a:58 followed by the four bytes of the dotted-quad `ip`, computed independently."""
    return ":".join(["0a", "58"] + ["%02x" % int(octet) for octet in ip.split(".")])


# --- derived values -------------------------------------------------------------------

def test_derived_ips_are_the_seeds_planned_ones():
    hostvars, groups = build(explicit=False)
    assert not any("vxlan_mesh_ip" in hv or "vxlan_mesh_mac" in hv for hv in hostvars.values())
    got = {host: d["address"] for host, d in devices(hostvars, groups).items()}
    assert got == {host: ip + "/24" for host, ip in inv.SEED_VXLAN_IP.items()}
    assert got[N1] == "179.17.1.21/24"


def test_derived_macs_are_0a58_and_the_vxlan_ip_bytes():
    hostvars, groups = build(explicit=False)
    got = {host: d["mac"] for host, d in devices(hostvars, groups).items()}
    assert got[N1] == "0a:58:b3:11:01:15"
    assert got == {host: mac_of(ip) for host, ip in inv.SEED_VXLAN_IP.items()}
    for mac in got.values():
        first = int(mac.split(":")[0], 16)
        assert first & 1 == 0, "%s is multicast" % mac
        assert first & 2 == 2, "%s is not locally administered" % mac
    assert len(set(got.values())) == len(got)


def test_peers_see_the_derived_values():
    hostvars, groups = build(explicit=False)
    state = states(hostvars, groups)[N1]
    assert {n["ip"]: n["mac"] for n in state["neighbors"]} == {
        ip: mac_of(ip) for host, ip in inv.SEED_VXLAN_IP.items() if host != N1}
    assert {f["mac"]: f["dst"] for f in state["fdb"]} == {
        mac_of(inv.SEED_VXLAN_IP[h]): inv.SEED_NODE_IP[h] for h in inv.SEED_HOSTS if h != N1}
    vias = {r["dst"]: r["via"] for r in state["routes"]}
    assert vias["10.235.88.0/24"] == "179.17.1.16"  # node 003's pods, via its derived vxlan IP


def test_derived_ip_in_a_larger_mesh_subnet_keeps_the_host_bits():
    hostvars, groups = build(explicit=False, mesh={"vxlan_mesh_subnet": "179.17.0.0/16"})
    got = devices(hostvars, groups)
    assert got[N1]["address"] == "179.17.0.21/16"
    assert got[N1]["mac"] == "0a:58:b3:11:00:15"


def test_derived_ip_wraps_the_node_ip_into_a_smaller_mesh_subnet():
    hostvars, groups = build(explicit=False, mesh={"vxlan_mesh_subnet": "179.17.1.0/26"})
    got = devices(hostvars, groups)
    assert got[N4]["address"] == "179.17.1.44/26"  # 44 < 64: unchanged
    hostvars[N4]["node_ip"] = "192.168.0.108"  # host number 108 = 64 + 44
    assert devices(hostvars, groups)[N4]["address"] == "179.17.1.44/26"


def test_derived_ips_colliding_are_reported():
    # 192.168.0.21 and 192.168.1.21 both derive 179.17.1.21 in a /24 mesh subnet.
    hostvars, groups = build(explicit=False, mesh={"node_subnet": "192.168.0.0/23"},
                             hosts={N4: {"node_ip": "192.168.1.21"}})
    errors = load_errors(hostvars, groups)
    # The MAC derived from the shared IP is shared as well.
    assert triples(errors) == [("test-cluster2", N4, "vxlan_mesh_ip"), ("test-cluster2", N4, "vxlan_mesh_mac")]
    assert "179.17.1.21 is also used by node multicluster-test-001" in errors[0].message
    assert "0a:58:b3:11:01:15 is also used by node multicluster-test-001" in errors[1].message


# --- stability ------------------------------------------------------------------------

@pytest.mark.parametrize("clusters, nodes", [(3, 2), (4, 3)])
def test_adding_a_node_moves_no_other_node(clusters, nodes):
    hostvars, groups = build(clusters, nodes, explicit=False)
    before = devices(hostvars, groups)
    bigger = inv.add_node(hostvars, groups, "multicluster-test-007", "test_cluster2",
                          node_ip="192.168.0.77", node_pod_cidrs=["10.235.100.0/24"])
    after = devices(*bigger)
    assert set(after) == set(before) | {"multicluster-test-007"}
    assert {h: after[h] for h in before} == before
    assert after["multicluster-test-007"]["address"] == "179.17.1.77/24"
    assert after["multicluster-test-007"]["mac"] == "0a:58:b3:11:01:4d"
    # ... and the existing nodes learn the new one without losing any other peer.
    neighbors = {n["ip"]: n["mac"] for n in states(*bigger)[N1]["neighbors"]}
    assert neighbors["179.17.1.77"] == "0a:58:b3:11:01:4d"
    old = {n["ip"]: n["mac"] for n in states(hostvars, groups)[N1]["neighbors"]}
    assert {ip: neighbors[ip] for ip in old} == old


@pytest.mark.parametrize("clusters, nodes", [(3, 2), (4, 3)])
@pytest.mark.parametrize("removed", [N1, N4, "multicluster-test-006"])
def test_removing_a_node_moves_no_other_node(clusters, nodes, removed):
    hostvars, groups = build(clusters, nodes, explicit=False)
    before = devices(hostvars, groups)
    after = devices(*inv.remove_node(hostvars, groups, removed))
    assert set(after) == set(before) - {removed}
    assert after == {h: d for h, d in before.items() if h != removed}


def test_removing_a_node_with_explicit_values_moves_no_derived_node():
    # Half the nodes explicit, half derived: dropping an explicit one changes nobody else.
    hostvars, groups = build(hosts={h: {"vxlan_mesh_ip": DROP, "vxlan_mesh_mac": DROP}
                                    for h in ("multicluster-test-002", N4, "multicluster-test-006")})
    before = devices(hostvars, groups)
    after = devices(*inv.remove_node(hostvars, groups, N3))
    assert after == {h: d for h, d in before.items() if h != N3}


# --- determinism ----------------------------------------------------------------------

@pytest.mark.parametrize("explicit", [False, True])
def test_host_order_does_not_change_any_node_state(explicit):
    hostvars, groups = build(4, 3, explicit=explicit)
    shuffled = inv.reordered(hostvars, groups)
    assert list(shuffled[0]) != list(hostvars)
    assert shuffled[1]["vxlan_mesh"] != groups["vxlan_mesh"]
    expected = states(hostvars, groups)
    assert len(expected) == 12
    assert states(*shuffled) == expected


def test_derivation_is_repeatable():
    assert states(*build(explicit=False)) == states(*build(explicit=False))


# --- network and broadcast addresses ----------------------------------------------------

@pytest.mark.parametrize("node_ip", ["192.168.1.0", "192.168.0.255"])
def test_derived_network_or_broadcast_address_is_an_error(node_ip):
    hostvars, groups = build(explicit=False, mesh={"node_subnet": "192.168.0.0/23"},
                             hosts={N4: {"node_ip": node_ip}})
    assert_error(only_error(hostvars, groups), "test-cluster2", N4, "vxlan_mesh_ip",
                 "gives the network or broadcast address of vxlan_mesh_subnet 179.17.1.0/24")


@pytest.mark.parametrize("node_ip", ["192.168.1.0", "192.168.0.255"])
def test_explicit_vxlan_ip_fixes_a_derived_network_or_broadcast_address(node_ip):
    hostvars, groups = build(explicit=False, mesh={"node_subnet": "192.168.0.0/23"},
                             hosts={N4: {"node_ip": node_ip, "vxlan_mesh_ip": "179.17.1.200"}})
    assert model.problems(hostvars, groups) == []
    got = devices(hostvars, groups)[N4]
    assert got["address"] == "179.17.1.200/24"
    assert got["mac"] == "0a:58:b3:11:01:c8"  # derived from the explicit IP
    assert got["local"] == node_ip


def test_derive_vxlan_ip_refuses_network_and_broadcast():
    subnet = "179.17.1.0/24"
    assert allocate.derive_vxlan_ip("192.168.1.0", subnet) is None
    assert allocate.derive_vxlan_ip("192.168.0.255", subnet) is None
    assert allocate.derive_vxlan_ip("192.168.0.1", subnet) == "179.17.1.1"
    assert allocate.derive_vxlan_ip("192.168.0.254", subnet) == "179.17.1.254"


# --- explicit values win ----------------------------------------------------------------

def test_seed_explicit_values_are_used_as_given():
    got = devices(*build())
    assert {h: d["address"] for h, d in got.items()} == {h: ip + "/24" for h, ip in inv.SEED_VXLAN_IP.items()}
    assert {h: d["mac"] for h, d in got.items()} == inv.SEED_VXLAN_MAC
    assert got[N1]["mac"] != mac_of("179.17.1.21")


def test_explicit_ip_wins_and_the_mac_follows_it():
    hostvars, groups = build(explicit=False, hosts={N1: {"vxlan_mesh_ip": "179.17.1.99"}})
    got = devices(hostvars, groups)
    assert got[N1]["address"] == "179.17.1.99/24"
    assert got[N1]["mac"] == "0a:58:b3:11:01:63"
    assert got[N3]["address"] == "179.17.1.16/24"


def test_explicit_mac_wins_over_the_derived_one():
    hostvars, groups = build(explicit=False, hosts={N1: {"vxlan_mesh_mac": "02:11:22:33:44:55"}})
    got = devices(hostvars, groups)
    assert got[N1]["address"] == "179.17.1.21/24"
    assert got[N1]["mac"] == "02:11:22:33:44:55"
    assert got[N3]["mac"] == "0a:58:b3:11:01:10"


def test_explicit_ip_taking_another_nodes_derived_ip_is_reported_not_moved():
    # 001 explicitly takes 179.17.1.16, which 003 derives: a duplicate, not a silent reshuffle.
    hostvars, groups = build(explicit=False, hosts={N1: {"vxlan_mesh_ip": "179.17.1.16"}})
    errors = load_errors(hostvars, groups)
    assert triples(errors) == [("test-cluster2", N3, "vxlan_mesh_ip"),
                               ("test-cluster2", N3, "vxlan_mesh_mac")]
    assert "179.17.1.16 is also used by node multicluster-test-001" in errors[0].message
