"""validate.load / validate.problems: every inventory mistake is reported, naming the
cluster, node and variable it was found in, and all of them are reported at once."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))

import pytest  # noqa: E402

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh  # noqa: E402
from ansible_collections.nodenet.fabric.plugins.plugin_utils.errors import FabricInvalid  # noqa: E402

try:
    from . import fabric_inventory as inv
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import fabric_inventory as inv  # noqa: E402

DROP, assert_error, build = inv.DROP, inv.assert_error, inv.build
load_errors, only_error, triples = inv.load_errors, inv.only_error, inv.triples

C1, C2, C3 = "test-cluster1", "test-cluster2", "test-cluster3"
N1, N2, N3, N4, N5, N6 = ("multicluster-test-00%d" % i for i in range(1, 7))
CLUSTER_OF = {N1: C1, N2: C1, N3: C2, N4: C2, N5: C3, N6: C3}


def device(hostvars, groups, host=N1):
    return mesh.node_state(model.load(hostvars, groups), host)["device"]


# --- a valid inventory ------------------------------------------------------------

def test_builder_reproduces_the_seed_file():
    assert build() == inv.seed_from_yaml()


def test_valid_seed_inventory_has_no_problems():
    hostvars, groups = build()
    assert model.problems(hostvars, groups) == []
    fabric = model.load(hostvars, groups)
    assert sorted(fabric.clusters) == [C1, C2, C3]
    assert sorted(fabric.nodes) == sorted(CLUSTER_OF)
    assert fabric.members["vxlan_mesh"] == sorted(CLUSTER_OF)
    assert {h: n.cluster for h, n in fabric.nodes.items()} == CLUSTER_OF


def test_valid_larger_generated_inventory_has_no_problems():
    hostvars, groups = build(clusters=5, nodes=4)
    assert model.problems(hostvars, groups) == []
    assert len(model.load(hostvars, groups).nodes) == 20


def test_problems_returns_the_errors_as_strings():
    hostvars, groups = build(hosts={N4: {"node_ip": "192.168.0.21"}})
    assert model.problems(hostvars, groups) == [
        "cluster test-cluster2, node multicluster-test-004, node_ip: "
        "192.168.0.21 is also used by node multicluster-test-001 (cluster test-cluster1)"]


# --- cluster ranges -----------------------------------------------------------------

def test_cluster_pod_cidrs_overlapping_across_clusters():
    # test-cluster2's pods move into a /19 inside test-cluster1's pod /18 (its nodes'
    # CIDRs follow, staying clear of test-cluster1's node CIDRs .111 and .118).
    hostvars, groups = build(
        cluster={"test_cluster2": {"cluster_pod_cidr": "10.234.96.0/19"}},
        hosts={N3: {"node_pod_cidrs": ["10.234.100.0/24"]}, N4: {"node_pod_cidrs": ["10.234.101.0/24"]}})
    assert_error(only_error(hostvars, groups), C2, "", "cluster_pod_cidr",
                 "10.234.96.0/19 overlaps cluster_pod_cidr 10.234.64.0/18 of cluster test-cluster1")


def test_cluster_service_cidrs_overlapping_across_clusters():
    hostvars, groups = build(cluster={"test_cluster3": {"cluster_service_cidr": "10.235.32.0/19"}})
    assert_error(only_error(hostvars, groups), C3, "", "cluster_service_cidr",
                 "10.235.32.0/19 overlaps cluster_service_cidr 10.235.0.0/18 of cluster test-cluster2")


def test_cluster_service_cidr_overlapping_another_clusters_pod_cidr():
    hostvars, groups = build(cluster={"test_cluster2": {"cluster_service_cidr": "10.234.96.0/20"}})
    assert_error(only_error(hostvars, groups), C2, "", "cluster_service_cidr",
                 "10.234.96.0/20 overlaps cluster_pod_cidr 10.234.64.0/18 of cluster test-cluster1")


def test_cluster_pod_cidr_overlapping_another_clusters_service_cidr():
    hostvars, groups = build(
        cluster={"test_cluster3": {"cluster_pod_cidr": "10.234.0.0/20"}},
        hosts={N5: {"node_pod_cidrs": ["10.234.1.0/24"]}, N6: {"node_pod_cidrs": ["10.234.2.0/24"]}})
    assert_error(only_error(hostvars, groups), C3, "", "cluster_pod_cidr",
                 "10.234.0.0/20 overlaps cluster_service_cidr 10.234.0.0/18 of cluster test-cluster1")


# --- node pod CIDRs and node IPs ----------------------------------------------------

def test_node_pod_cidr_outside_its_cluster_pod_cidr():
    hostvars, groups = build(hosts={N4: {"node_pod_cidrs": ["10.235.200.0/24"]}})
    assert_error(only_error(hostvars, groups), C2, N4, "node_pod_cidrs",
                 "10.235.200.0/24 is outside cluster_pod_cidr 10.235.64.0/18")


def test_node_pod_cidr_in_another_clusters_pod_cidr_is_outside_its_own():
    hostvars, groups = build(hosts={N4: {"node_pod_cidrs": ["10.234.120.0/24"]}})
    assert_error(only_error(hostvars, groups), C2, N4, "node_pod_cidrs",
                 "10.234.120.0/24 is outside cluster_pod_cidr 10.235.64.0/18")


def test_two_nodes_pod_cidrs_overlapping():
    hostvars, groups = build(hosts={N2: {"node_pod_cidrs": ["10.234.110.0/23"]}})
    assert_error(only_error(hostvars, groups), C1, N2, "node_pod_cidrs",
                 "10.234.110.0/23 overlaps 10.234.111.0/24 of node multicluster-test-001")


def test_node_pod_cidrs_given_as_a_string_is_an_error():
    hostvars, groups = build(hosts={N6: {"node_pod_cidrs": "10.236.106.0/24"}})
    assert_error(only_error(hostvars, groups), C3, N6, "node_pod_cidrs", "must be a list of CIDRs")


def test_duplicate_node_ips():
    hostvars, groups = build(hosts={N4: {"node_ip": "192.168.0.21"}})
    assert_error(only_error(hostvars, groups), C2, N4, "node_ip",
                 "192.168.0.21 is also used by node multicluster-test-001 (cluster test-cluster1)")


# --- explicit vxlan IPs and MACs ------------------------------------------------------

def test_duplicate_explicit_vxlan_ips():
    hostvars, groups = build(hosts={N5: {"vxlan_mesh_ip": "179.17.1.21"}})
    assert_error(only_error(hostvars, groups), C3, N5, "vxlan_mesh_ip",
                 "179.17.1.21 is also used by node multicluster-test-001 (cluster test-cluster1)")


@pytest.mark.parametrize("mac", ["c2:6a:9b:e5:39:8d", "C2:6A:9B:E5:39:8D", "c2-6a-9b-e5-39-8d"])
def test_duplicate_explicit_macs(mac):
    hostvars, groups = build(hosts={N6: {"vxlan_mesh_mac": mac}})
    assert_error(only_error(hostvars, groups), C3, N6, "vxlan_mesh_mac",
                 "c2:6a:9b:e5:39:8d is also used by node multicluster-test-001 (cluster test-cluster1)")


def test_derived_mac_colliding_with_an_explicit_one():
    # 002 has no MAC: it derives 0a:58 + 179.17.1.31 = 0a:58:b3:11:01:1f, which 003 sets explicitly.
    hostvars, groups = build(hosts={N2: {"vxlan_mesh_mac": DROP},
                                    N3: {"vxlan_mesh_mac": "0a:58:b3:11:01:1f"}})
    assert_error(only_error(hostvars, groups), C2, N3, "vxlan_mesh_mac",
                 "0a:58:b3:11:01:1f is also used by node multicluster-test-002 (cluster test-cluster1)")


def test_vxlan_ip_outside_the_mesh_subnet():
    hostvars, groups = build(hosts={N1: {"vxlan_mesh_ip": "179.17.2.21"}})
    assert_error(only_error(hostvars, groups), C1, N1, "vxlan_mesh_ip",
                 "179.17.2.21 is outside vxlan_mesh_subnet 179.17.1.0/24")


@pytest.mark.parametrize("address", ["179.17.1.0", "179.17.1.255"])
def test_vxlan_ip_is_the_network_or_broadcast_address(address):
    hostvars, groups = build(hosts={N4: {"vxlan_mesh_ip": address}})
    assert_error(only_error(hostvars, groups), C2, N4, "vxlan_mesh_ip",
                 "%s is the network or broadcast address of 179.17.1.0/24" % address)


@pytest.mark.parametrize("mac, fragment", [
    ("01:00:5e:00:00:01", "is a multicast address"),
    ("03:00:00:00:00:01", "is a multicast address"),
    ("00:00:00:00:00:00", "is all-zero"),
    ("ff:ff:ff:ff:ff:ff", "is the broadcast address"),
    ("FF:FF:FF:FF:FF:FF", "is the broadcast address"),
])
def test_mac_that_is_not_unicast(mac, fragment):
    hostvars, groups = build(hosts={N2: {"vxlan_mesh_mac": mac}})
    assert_error(only_error(hostvars, groups), C1, N2, "vxlan_mesh_mac", fragment)
    assert "a unicast address is required" in only_error(hostvars, groups).message


@pytest.mark.parametrize("mac", ["c2:6a:9b:e5:39", "c2:6a:9b:e5:39:8d:01", "g2:6a:9b:e5:39:8d",
                                 "c26a9be5398d", "c2:6a:9b:e5:39:8", "not-a-mac"])
def test_malformed_mac(mac):
    hostvars, groups = build(hosts={N5: {"vxlan_mesh_mac": mac}})
    assert_error(only_error(hostvars, groups), C3, N5, "vxlan_mesh_mac", "is not a MAC address")


def test_locally_administered_unicast_mac_is_accepted():
    hostvars, groups = build(hosts={N5: {"vxlan_mesh_mac": "02:00:00:00:00:01"}})
    assert device(hostvars, groups, N5)["mac"] == "02:00:00:00:00:01"


# --- VNI and port ---------------------------------------------------------------------

@pytest.mark.parametrize("variable, value, limits", [
    ("vxlan_mesh_vni", 0, "1..16777215"),
    ("vxlan_mesh_vni", 16777216, "1..16777215"),
    ("vxlan_mesh_port", 0, "1..65535"),
    ("vxlan_mesh_port", 65536, "1..65535"),
])
def test_vni_and_port_out_of_range(variable, value, limits):
    hostvars, groups = build(hosts={N3: {variable: value}})
    assert_error(only_error(hostvars, groups), C2, N3, variable, "%d is outside %s" % (value, limits))


@pytest.mark.parametrize("variable, value, key", [
    ("vxlan_mesh_vni", 1, "vni"),
    ("vxlan_mesh_vni", 16777215, "vni"),
    ("vxlan_mesh_port", 1, "port"),
    ("vxlan_mesh_port", 65535, "port"),
])
def test_vni_and_port_limits_are_accepted(variable, value, key):
    hostvars, groups = build(mesh={variable: value})
    assert model.problems(hostvars, groups) == []
    assert device(hostvars, groups, N6)[key] == value


# --- interface names ------------------------------------------------------------------

BAD_NAMES = [
    ("abcdefghijklmnop", "longer than 15 characters"),
    ("vxlan/test", "contains '/'"),
    ("vxlan test", "whitespace"),
    ("vxlan\ntest", "whitespace"),
    ("vxlan\ttest", "whitespace"),
    ("vxlan:test", "':'"),
    ("\u00e9" * 8, "longer than 15 characters"),  # 8 characters, 16 bytes
]


@pytest.mark.parametrize("variable", ["vxlan_mesh_device", "node_interface"])
@pytest.mark.parametrize("name, fragment", BAD_NAMES, ids=[repr(n) for n, _ in BAD_NAMES])
def test_interface_name_the_kernel_refuses(variable, name, fragment):
    hostvars, groups = build(hosts={N4: {variable: name}})
    assert_error(only_error(hostvars, groups), C2, N4, variable, fragment)


@pytest.mark.parametrize("variable, key", [("vxlan_mesh_device", "name"), ("node_interface", "underlay")])
def test_fifteen_character_interface_name_is_accepted(variable, key):
    hostvars, groups = build(mesh={variable: "abcdefghijklmno"})
    assert model.problems(hostvars, groups) == []
    assert device(hostvars, groups, N4)[key] == "abcdefghijklmno"


# --- MTU ------------------------------------------------------------------------------

def test_node_mtu_with_no_room_for_the_vxlan_overhead():
    hostvars, groups = build(hosts={N5: {"node_mtu": 117}})
    assert_error(only_error(hostvars, groups), C3, N5, "node_mtu",
                 "117 leaves no room for the 50-byte vxlan overhead")


def test_smallest_node_mtu_that_fits_the_overhead():
    hostvars, groups = build(hosts={N5: {"node_mtu": 118}})
    assert device(hostvars, groups, N5)["mtu"] == 68


def test_vxlan_mtu_larger_than_node_mtu_minus_overhead():
    hostvars, groups = build(hosts={N2: {"node_mtu": 1500, "vxlan_mesh_mtu": 1451}})
    assert_error(only_error(hostvars, groups), C1, N2, "vxlan_mesh_mtu", "at most 1450")


def test_vxlan_mtu_equal_to_node_mtu_minus_overhead_is_accepted():
    hostvars, groups = build(hosts={N2: {"node_mtu": 9000, "vxlan_mesh_mtu": 8950}})
    assert device(hostvars, groups, N2)["mtu"] == 8950


@pytest.mark.parametrize("node_mtu", [None, 1500, 9000, 1400])
def test_default_vxlan_mtu_is_node_mtu_minus_overhead(node_mtu):
    overrides = {} if node_mtu is None else {N3: {"node_mtu": node_mtu}}
    hostvars, groups = build(hosts=overrides)
    assert "vxlan_mesh_mtu" not in hostvars[N3]
    assert device(hostvars, groups, N3)["mtu"] == (node_mtu or 1500) - 50
    assert device(hostvars, groups, N4)["mtu"] == 1450


@pytest.mark.parametrize("value", [None, ""])
def test_empty_vxlan_mtu_is_an_error_or_the_default(value):
    hostvars, groups = build(hosts={N3: {"vxlan_mesh_mtu": value}})
    try:
        fabric = model.load(hostvars, groups)
    except FabricInvalid as exc:
        assert (C2, N3, "vxlan_mesh_mtu") in triples(exc.errors)
    else:
        assert N3 in fabric.nodes, "node silently dropped from the fabric"
        assert mesh.node_state(fabric, N3)["device"]["mtu"] == 1450


# --- missing variables ----------------------------------------------------------------

@pytest.mark.parametrize("missing", [DROP, None, ""], ids=["unset", "null", "empty"])
@pytest.mark.parametrize("variable", ["node_ip", "node_pod_cidrs", "cluster_pod_cidr", "vxlan_mesh_subnet"])
def test_missing_required_variable_is_named(variable, missing):
    hostvars, groups = build(hosts={N5: {variable: missing}})
    assert_error(only_error(hostvars, groups), C3, N5, variable, "is required but not set")


def test_missing_cluster_variable_on_the_group_names_every_node():
    hostvars, groups = build(cluster={"test_cluster2": {"cluster_service_cidr": DROP}})
    errors = load_errors(hostvars, groups)
    assert triples(errors) == [(C2, N3, "cluster_service_cidr"), (C2, N4, "cluster_service_cidr")]
    assert all("is required but not set" in e.message for e in errors)


# --- mesh-wide agreement --------------------------------------------------------------

@pytest.mark.parametrize("variable, value, fragment", [
    ("vxlan_mesh_vni", 10002, "10002 differs from 10001 on node multicluster-test-001"),
    ("vxlan_mesh_port", 4789, "4789 differs from 4899 on node multicluster-test-001"),
])
def test_mesh_nodes_disagreeing(variable, value, fragment):
    hostvars, groups = build(hosts={N4: {variable: value}})
    assert_error(only_error(hostvars, groups), C2, N4, variable, fragment)


# --- CNI ------------------------------------------------------------------------------

@pytest.mark.parametrize("cni", ["cilium", "weave", "Calico", ""])
def test_unknown_cni(cni):
    hostvars, groups = build(cluster={"test_cluster2": {"cluster_cni": cni}})
    errors = load_errors(hostvars, groups)
    assert triples(errors) == [(C2, N3, "cluster_cni"), (C2, N4, "cluster_cni")]
    fragment = "is required" if cni == "" else "is not one of calico, canal, flannel, kube-router"
    assert all(fragment in e.message for e in errors), errors


@pytest.mark.parametrize("cni", ["calico", "canal", "flannel", "kube-router"])
def test_known_cni_is_accepted(cni):
    hostvars, groups = build(cluster={"test_cluster2": {"cluster_cni": cni}})
    assert model.load(hostvars, groups).clusters[C2].cni == cni


# --- cluster variables disagreeing inside a cluster -----------------------------------

def test_cluster_kubeconfig_disagreement_names_the_kubeconfig():
    hostvars, groups = build(cluster={"test_cluster2": {"cluster_kubeconfig": "/etc/kube/c2.conf"}},
                             hosts={N4: {"cluster_kubeconfig": "/etc/kube/other.conf"}})
    error = only_error(hostvars, groups)
    assert (error.cluster, error.node) == (C2, N4)
    assert "kubeconfig" in error.variable + error.message, str(error)


# --- every problem at once ------------------------------------------------------------

def test_every_problem_is_reported_at_once():
    hostvars, groups = build(
        cluster={"test_cluster3": {"cluster_service_cidr": "10.235.32.0/19"}},
        hosts={
            N1: {"vxlan_mesh_mac": "01:00:5e:00:00:01"},
            N2: {"vxlan_mesh_vni": 0},
            N3: {"node_interface": "eth0/1"},
            N4: {"vxlan_mesh_ip": "179.17.2.44"},
            N5: {"node_mtu": 117},
            N6: {"node_pod_cidrs": "10.236.106.0/24"},
        })
    with pytest.raises(FabricInvalid) as exc:
        model.load(hostvars, groups)
    expected = [
        (C1, N1, "vxlan_mesh_mac"),
        (C1, N2, "vxlan_mesh_vni"),
        (C2, N3, "node_interface"),
        (C2, N4, "vxlan_mesh_ip"),
        (C3, "", "cluster_service_cidr"),
        (C3, N5, "node_mtu"),
        (C3, N6, "node_pod_cidrs"),
    ]
    errors = exc.value.errors
    assert len(errors) == 7
    assert triples(errors) == sorted(expected)
    message = str(exc.value)
    assert message.startswith("7 problem(s) in the fabric inventory:")
    for error in errors:
        assert "  - %s" % error in message
    for host in (N1, N2, N3, N4, N5, N6):
        assert "node %s" % host in message
    assert len(model.problems(hostvars, groups)) == 7


def test_cluster_cni_disagreeing_inside_a_cluster():
    hostvars, groups = build(hosts={N4: {"cluster_cni": "flannel"}})
    assert_error(only_error(hostvars, groups), C2, N4, "cluster_cni",
                 "flannel differs from calico on node multicluster-test-003")


# --- underlay and mesh subnets -----------------------------------------------------------

@pytest.mark.parametrize("address", ["192.168.0.0", "192.168.0.255"])
def test_node_ip_that_is_the_subnets_network_or_broadcast_address(address):
    hostvars, groups = build(hosts={N2: {"node_ip": address}})
    errors = [e for e in load_errors(hostvars, groups) if e.node == N2]
    assert [(e.cluster, e.variable) for e in errors] == [(C1, "node_ip")]
    assert "network or broadcast address of node_subnet 192.168.0.0/24" in errors[0].message


def test_mesh_subnet_overlapping_a_cluster_cidr():
    hostvars, groups = build(explicit=False, mesh={"vxlan_mesh_subnet": "10.235.0.0/24"})
    errors = [e for e in load_errors(hostvars, groups) if e.variable == "vxlan_mesh_subnet"]
    assert len(errors) == 1
    assert "overlaps cluster_service_cidr 10.235.0.0/18 of cluster test-cluster2" in errors[0].message


# --- the node's world (issue 7): foreign devices, CNI vxlan, the underlay, group identity ----

@pytest.mark.parametrize("name", ["flannel.1", "vxlan.calico", "vxlan-v6.calico", "tunl0", "cali12ab", "kube-bridge",
                                  "cilium_vxlan", "docker0", "cni0", "lo"])
def test_a_foreign_device_name_is_refused_on_every_node(name):
    errors = load_errors(*build(mesh={"vxlan_mesh_device": name}))
    assert set(triples(errors)) == set((CLUSTER_OF[n], n, "vxlan_mesh_device") for n in CLUSTER_OF)
    assert all("choose another name" in e.message for e in errors)


def test_the_underlay_interface_of_any_node_is_not_a_mesh_device():
    hostvars, groups = build(hosts={N6: {"node_interface": "ens5"}}, mesh={"vxlan_mesh_device": "ens5"})
    errors = load_errors(hostvars, groups)
    assert set(triples(errors)) == set((CLUSTER_OF[n], n, "vxlan_mesh_device") for n in CLUSTER_OF)
    assert "underlay interface (node_interface) of node %s" % N6 in errors[0].message


@pytest.mark.parametrize("cni, extra, vni, port", [
    ("flannel", {}, 1, 8472), ("canal", {"flannel_vni": 7}, 7, 8472), ("calico", {}, 4096, 4789)])
def test_the_vni_and_port_of_the_clusters_cni_are_refused(cni, extra, vni, port):
    cluster = {"test_cluster2": dict(extra, cluster_cni=cni)}
    errors = load_errors(*build(cluster=cluster, mesh={"vxlan_mesh_vni": vni, "vxlan_mesh_port": port}))
    hosts = CLUSTER_OF if cni == "calico" else (N3, N4)  # the seed's clusters are all Calico
    assert set(triples(errors)) == set((CLUSTER_OF[n], n, "vxlan_mesh_vni") for n in hosts)
    assert "change vxlan_mesh_vni or vxlan_mesh_port" in errors[0].message


def test_the_mesh_subnet_may_not_overlap_an_underlay_subnet():
    errors = load_errors(*build(explicit=False, mesh={"vxlan_mesh_subnet": "192.168.0.0/16"}))
    assert ("vxlan_mesh_subnet" in set(e.variable for e in errors)
            and "overlaps node_subnet 192.168.0.0/24" in errors[0].message)


def test_pod_and_service_ranges_may_not_overlap_an_underlay_subnet():
    hostvars, groups = build(cluster={"test_cluster3": {"cluster_service_cidr": "192.168.0.0/23"}})
    errors = [e for e in load_errors(hostvars, groups) if e.variable == "cluster_service_cidr"]
    assert triples(errors) == [(C3, "", "cluster_service_cidr")]
    assert "overlaps node_subnet 192.168.0.0/24" in errors[0].message


def test_overlapping_node_subnets_that_differ_are_refused():
    errors = load_errors(*build(hosts={N6: {"node_subnet": "192.168.0.0/23"}}))
    assert triples(errors) == [(C3, N6, "node_subnet")]


def test_a_cluster_outside_the_role_group_neither_belongs_nor_blocks():
    hostvars, groups = build()
    groups["vxlan_mesh"] = [h for h in groups["vxlan_mesh"] if CLUSTER_OF[h] != C3]
    for host in (N5, N6):
        del hostvars[host]["node_subnet"]  # what a cluster kept for another role may lack
        for name in ("vxlan_mesh_ip", "vxlan_mesh_mac"):
            hostvars[host].pop(name, None)
    fabric = model.load(hostvars, groups, facets=["vxlan_mesh"])
    assert sorted(fabric.clusters) == [C1, C2] and N5 not in fabric.nodes


def test_a_role_variable_where_the_role_never_reads_it_is_refused():
    """A mesh address left on a node outside group vxlan_mesh, a route reflector flag on a node
    outside calico_bgp_rr, a role state on an unrelated host: each named. A value the role's own
    hosts share (set on `all`, or with -e) is not."""
    hostvars, groups = build()
    groups["vxlan_mesh"] = [h for h in groups["vxlan_mesh"] if h != N6]
    hostvars["web-1"] = {"kube_router_install_state": "absent"}
    hostvars[N5]["calico_bgp_route_reflector"] = True
    for host in hostvars:
        hostvars[host]["vxlan_mesh_vni"] = 4242  # on `all`
    lines = [(e.cluster, e.node, e.variable, e.facet) for e in model.read(hostvars, groups).problems()
             if "never reads it" in e.message]
    assert lines == [("", "web-1", "kube_router_install_state", "kube_router_install"),
                     (C3, N5, "calico_bgp_route_reflector", "calico_bgp_rr"),
                     (C3, N6, "vxlan_mesh_ip", "vxlan_mesh"), (C3, N6, "vxlan_mesh_mac", "vxlan_mesh")]
    assert str(model.read(hostvars, groups).problems(["vxlan_mesh"])[-1]) == (
        "cluster %s, node %s, vxlan_mesh_mac: is set here, but %s is not in group vxlan_mesh, so the role never "
        "reads it; add the host to vxlan_mesh, or remove the variable from it" % (C3, N6, N6))


def test_a_host_in_two_cluster_groups_and_a_name_in_two_groups_are_named():
    hostvars, groups = build()
    groups["test_cluster2"].append(N1)
    fabric = model.read(hostvars, groups, cluster_groups={"test_cluster1": C1, "test_cluster2": C2,
                                                          "test_cluster3": C2})
    assert [(e.cluster, e.node, e.variable) for e in fabric.problems() if e.variable == "cluster_name"] == [
        (C1, N1, "cluster_name"), (C2, "", "cluster_name")]
