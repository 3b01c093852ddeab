"""calico_bgp_rr and the routers and clients around it across families
(inventories/calico-rr-dual-stack): sessions per family named as confd names them, an IPPool per
family the CRD accepts, the Nodes' IPv6 address, FRR's IPv6 address family, client routes per
family, and each family's rules refused by name."""
import copy

import jsonschema
import pytest
from helpers import calico_crd, inventory_of, problem_lines, read_model, set_on_group, unnamed

from ansible_collections.nodenet.fabric.plugins.module_utils import bird, frr
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import cluster as objects
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import plan
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import plan as tor

TOR = ("172.31.13.116", "fd31:13::116")


@pytest.fixture(scope="module")
def dual_stack():
    return inventory_of("inventories/calico-rr-dual-stack")


def on(host, **values):
    def change(hostvars, _groups):
        hostvars[host].update(copy.deepcopy(values))
    return change


def test_every_session_is_in_the_family_of_its_peer(dual_stack):
    fabric = read_model(dual_stack)
    assert problem_lines(fabric) == []
    table = [(s["name"], s["family"], s["source"], s["passive"]) for s in plan.expected(fabric, "k8s-1")]
    assert table == [
        ("Node_172_31_13_28", 4, "172.31.13.27", False), ("Node_172_31_13_29", 4, "172.31.13.27", False),
        ("Node_172_31_13_116", 4, "172.31.13.27", False),
        ("Node_fd31_13__28", 6, "fd31:13::27", False), ("Node_fd31_13__29", 6, "fd31:13::27", False),
        ("Node_fd31_13__116", 6, "fd31:13::27", False)]
    mesh = plan.expected(fabric, "k8s-2", mesh=True, with_reflectors=False, with_peers=False)
    assert [(s["name"], s["passive"]) for s in mesh] == [
        ("Mesh_172_31_13_27", False), ("Mesh_172_31_13_29", True), ("Mesh_fd31_13__27", False),
        ("Mesh_fd31_13__29", True)]
    node_plan = plan.node_plan(fabric, "k8s-3")
    assert node_plan["verify"]["families"] == [4, 6]
    assert "fd31:13::116" in node_plan["verify"]["scope"]
    assert [(r["dst"], r["via"]) for r in node_plan["verify"]["routes"] if ":" in r["dst"]] == [
        ("fd27:208::/122", "fd31:13::27"), ("fd27:208::40/122", "fd31:13::28")]


def test_birds_protocol_names_give_back_the_peer_of_either_family():
    table = ("Name       Proto      Table      State  Since         Info\n"
             "Mesh_fd31_13__28 BGP        ---        up     02:37:19.915  Established\n"
             "Node_fd31_13__116_port_179 BGP ---     up     02:37:19.915  Established\n"
             "Node_172_31_13_116 BGP        ---        start  02:37:19.915  Active\n")
    assert [(s["ip"], s["type"]) for s in bird.parse_protocols(table)] == [
        ("fd31:13::28", "node-to-node mesh"), ("fd31:13::116", "node specific"), ("172.31.13.116", "node specific")]


def test_the_ipv6_pool_address_and_detection_are_rendered_and_the_crd_accepts_the_pool(dual_stack):
    fabric = read_model(dual_stack, set_on_group("calico_bgp_rr", calico_bgp_mode="ipip"))
    config = objects.manifests(fabric, "config")[0]["manifests"]
    pools = dict((m["metadata"]["name"], m["spec"]) for m in config if m["kind"] == "IPPool")
    assert pools == {"default-ipv4-ippool": {"ipipMode": "Always", "vxlanMode": "Never", "natOutgoing": False},
                     "default-ipv6-ippool": {"ipipMode": "Never", "vxlanMode": "Never", "natOutgoing": False}}
    schema = next(v for v in calico_crd("ippools")["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]
    jsonschema.validate({"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "p"},
                         "spec": dict(pools["default-ipv6-ippool"], cidr="fd27:208::/112", blockSize=122)}, schema)
    env = dict((e["name"], e["value"]) for m in config if m["kind"] == "DaemonSet"
               for e in m["spec"]["template"]["spec"]["containers"][0]["env"])
    assert (env["IP6"], env["IP6_AUTODETECTION_METHOD"], env["FELIX_IPV6SUPPORT"]) == (
        "autodetect", "cidr=fd31:13::/64", "true")
    addresses = objects.manifests(fabric, "addresses")[0]["manifests"]
    assert [(m["metadata"]["name"], m["metadata"]["annotations"]) for m in addresses][0] == (
        "k8s-1", {"projectcalico.org/IPv6Address": "fd31:13::27/64"})
    checks = objects.cluster_checks(fabric)
    assert [c["expect"] for c in checks] == [{"nodes": ["k8s-1", "k8s-2", "k8s-3"]},
                                             {"pools": ["default-ipv4-ippool", "default-ipv6-ippool"]}]


def test_an_ipv4_cluster_renders_as_before():
    fabric = read_model(inventory_of("inventories/calico-rr"))
    assert objects.manifests(fabric, "addresses") == []
    config = objects.manifests(fabric, "config")[0]["manifests"]
    assert [m["metadata"]["name"] for m in config if m["kind"] == "IPPool"] == ["default-ipv4-ippool"]
    env = [e["name"] for m in config if m["kind"] == "DaemonSet" for e in m["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert env == ["CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN", "FELIX_IPINIPENABLED", "FELIX_VXLANENABLED"]
    assert [s["family"] for s in plan.expected(fabric, "k8s-1")] == [4, 4, 4]


def test_the_router_peers_in_both_families_and_frr_activates_ipv6(dual_stack):
    fabric = read_model(dual_stack)
    state = tor.router_state(fabric, "tor")
    assert [(n["ip"], n["in"], n["multihop"]) for n in state["neighbors"]] == [
        ("172.31.13.27", "NODENET-k8s-IN", False), ("172.31.13.28", "NODENET-k8s-IN", False),
        ("fd31:13::27", "NODENET-k8s-IN6", False), ("fd31:13::28", "NODENET-k8s-IN6", False)]
    commands = frr.commands(state, frr.parse(""))
    assert commands[:5] == ["ip prefix-list NODENET-k8s-IN seq 5 permit 172.27.208.0/22 le 32",
                            "ipv6 prefix-list NODENET-k8s-IN6 seq 5 permit fd27:208::/112 le 128",
                            "route-map NODENET-k8s-IN permit 10", "match ip address prefix-list NODENET-k8s-IN", "exit"]
    assert "match ipv6 address prefix-list NODENET-k8s-IN6" in commands
    six = commands[commands.index("address-family ipv6 unicast"):]
    assert six[:4] == ["address-family ipv6 unicast", "neighbor fd31:13::27 activate",
                       "neighbor fd31:13::27 route-map NODENET-k8s-IN6 in", "neighbor fd31:13::27 route-map NODENET-k8s-OUT out"]
    # FRR's running configuration after those commands (as 8.4 prints it): nothing more to do
    running = "\n".join([
        "router bgp 7675", " bgp router-id 172.31.13.116"]
        + [" neighbor %s remote-as 64512\n neighbor %s description nodenet.fabric k8s %s" % (ip, ip, h)
           for ip, h in (("172.31.13.27", "k8s-1"), ("172.31.13.28", "k8s-2"), ("fd31:13::27", "k8s-1"),
                         ("fd31:13::28", "k8s-2"))]
        + [" !", " address-family ipv4 unicast"]
        + ["  neighbor %s route-map NODENET-k8s-%s" % (ip, d) for ip in ("172.31.13.27", "172.31.13.28")
           for d in ("IN in", "OUT out")]
        + [" exit-address-family", " !", " address-family ipv6 unicast"]
        + ["  neighbor %s %s" % (ip, d) for ip in ("fd31:13::27", "fd31:13::28")
           for d in ("activate", "route-map NODENET-k8s-IN6 in", "route-map NODENET-k8s-OUT out")]
        + [" exit-address-family", "exit", "!",
           "ip prefix-list NODENET-k8s-IN seq 5 permit 172.27.208.0/22 le 32", "!",
           "ipv6 prefix-list NODENET-k8s-IN6 seq 5 permit fd27:208::/112 le 128", "!",
           "route-map NODENET-k8s-IN permit 10", " match ip address prefix-list NODENET-k8s-IN", "exit", "!",
           "route-map NODENET-k8s-IN6 permit 10", " match ipv6 address prefix-list NODENET-k8s-IN6", "exit", "!",
           "route-map NODENET-k8s-OUT deny 10", "exit", "!", "end"])
    assert frr.commands(state, frr.parse(running)) == []
    assert frr.commands(state, frr.parse(running.replace("le 128", "le 120"))) == [
        "no ipv6 prefix-list NODENET-k8s-IN6", "ipv6 prefix-list NODENET-k8s-IN6 seq 5 permit fd27:208::/112 le 128"]


def test_the_client_is_routed_in_each_family_it_shares_with_its_router(dual_stack):
    fabric = read_model(dual_stack)
    assert [(r["dst"], r["via"]) for r in tor.client_state(fabric, "outside")["routes"]] == [
        ("172.27.208.0/22", TOR[0]), ("fd27:208::/112", TOR[1])]
    assert tor.client_targets(fabric, "outside") == [
        "172.27.208.1", "fd27:208::1", "172.27.209.1", "fd27:208::41", "172.27.210.1", "fd27:208::81"]
    ipv4_client = read_model(dual_stack, on("outside", bgp_client_ip="172.31.13.200", bgp_client_subnet="172.31.13.0/24"))
    assert [r["dst"] for r in tor.client_state(ipv4_client, "outside")["routes"]] == ["172.27.208.0/22"]


def test_each_familys_rules_are_refused_at_once_by_name(dual_stack):
    def change(hostvars, groups):
        hostvars["k8s-3"].update(node_ip="172.31.13.29", node_subnet="172.31.13.0/24")
        hostvars["k8s-2"].update(node_ip="10.9.9.28,fd31:14::28", node_subnet="10.9.9.0/24,fd31:14::/64",
                                 calico_bgp_mode="ipip")
        for host in ("k8s-1", "k8s-3"):
            hostvars[host]["calico_bgp_mode"] = "ipip"
        for host in groups["calico_bgp_rr"]:
            hostvars[host]["calico_bgp_peers"] = [{"ip": "fd31:14::28", "as": 7675, "peers": "all"},
                                                  {"ip": "fd31:13::116", "as": 7675, "peers": "all"}]
        hostvars["tor"]["bgp_router_subnet"] = "172.31.13.0/24"
    found = problem_lines(read_model(dual_stack, change))
    expected = [
        "cluster k8s, node k8s-3, node_ip: has no IPv6 address, but the cluster has IPv6 pods",
        "calico_bgp_peers[peer-fd31-14--28].ip: fd31:14::28 is node k8s-2",
        "calico_bgp_mode: is ipip, and IPv6 pods are routed unencapsulated via the nodes' IPv6 addresses",
        "node tor, bgp_router_subnet: has no IPv6 subnet for bgp_router_ip fd31:13::116",
    ]
    assert unnamed(found, expected) == [], found


def test_an_ipv6_only_route_reflector_needs_a_cluster_id(dual_stack):
    change = on("k8s-1", node_ip="fd31:13::27", node_subnet="fd31:13::/64")
    found = problem_lines(read_model(dual_stack, change))
    assert [line for line in found if "node k8s-1, calico_bgp_rr_cluster_id: must be set" in line], found
    assert [line for line in found if "node k8s-1, node_ip: has no IPv4 address" in line], found


def test_direct_pod_access_needs_a_peer_in_each_family(dual_stack):
    def change(hostvars, groups):
        for host in groups["calico_bgp_rr"]:
            hostvars[host]["calico_bgp_peers"] = [{"name": "rr-peer", "ip": TOR[0], "as": 7675}]
    found = problem_lines(read_model(dual_stack, change))
    assert unnamed(found, ["calico_bgp_nat_outgoing: is false (direct pod access, seed 004) but no peer in "
                           "calico_bgp_peers is IPv6: nothing outside the cluster learns a route to the IPv6 pool"]) == []
    assert not [line for line in found if "no peer in calico_bgp_peers is IPv4" in line]
