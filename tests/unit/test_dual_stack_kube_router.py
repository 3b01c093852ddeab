"""kube_router_install across families (inventories/kube-router-dual-stack): kube-router's flags and
CNI conflist for both families, peers over the primary addresses carrying both, each family's pod
CIDRs via the peer's address of that family, the ToR's IPv6 over its IPv4 neighbors, the client
routed in both, and each family's rules refused by name."""
import copy

import pytest
from helpers import inventory_of, problem_lines, read_model, unnamed

from ansible_collections.nodenet.fabric.plugins.module_utils import frr
from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import plan, resources
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import plan as tor


@pytest.fixture(scope="module")
def dual_stack():
    return inventory_of("inventories/kube-router-dual-stack")


def on_all(**values):
    def change(hostvars, groups):
        for host in groups["kube_router_install"]:
            hostvars[host].update(copy.deepcopy(values))
    return change


def test_flags_and_conflist_carry_both_families(dual_stack):
    fabric = read_model(dual_stack)
    assert problem_lines(fabric) == []
    args = resources.args(fabric.facets["kube_router_install"]["k8s-1"], fabric.clusters["k8s"])
    assert "--service-cluster-ip-range=10.254.0.0/16,fd54::/112" in args and "--enable-ipv6=true" in args
    assert not [a for a in args if a.startswith("--enable-ipv4")]
    assert resources.node_cni(fabric, "k8s-2")["content"].count('"subnet"') == 2
    assert '"ranges":[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd44:0:0:2::/64"}]]' in resources.node_cni(
        fabric, "k8s-2")["content"]


def south_under_kube_router(hostvars, groups, **extra):
    """inventories/dual-stack's IPv6-only south as a kube_router_install cluster."""
    groups["kube_router_install"] = list(groups["south"])
    for host in groups["south"]:
        hostvars[host].update(kube_router_replaced_cni="flannel", kube_router_apiserver="https://[fd00:20:3::31]:6443",
                              **extra)


def test_an_ipv6_only_cluster_turns_ipv4_off():
    fabric = read_model(inventory_of("inventories/dual-stack"), south_under_kube_router)
    assert [line for line in problem_lines(fabric) if "kube_router" in line] == []
    args = resources.args(fabric.facets["kube_router_install"]["south-1"], fabric.clusters["south"])
    assert ["--enable-ipv6=true", "--enable-ipv4=false"] == [a for a in args if a.startswith("--enable-ipv")]
    assert [p["ip"] for p in plan.expected_peers(fabric, "south-1")] == ["fd00:20:3::32"]


def test_peers_over_the_primary_address_and_routes_per_family(dual_stack):
    fabric = read_model(dual_stack)
    node_plan = plan.node_plan(fabric, "k8s-1")
    assert [(p["ip"], p["kind"]) for p in node_plan["verify"]["sessions"]] == [
        ("172.26.6.2", "node"), ("172.26.6.3", "node"), ("172.26.6.250", "peer router")]
    assert [(r["dst"], r["via"]) for r in node_plan["verify"]["routes"]] == [
        ("10.244.1.0/24", "172.26.6.2"), ("fd44:0:0:2::/64", "fd26:6::2"),
        ("10.244.2.0/24", "172.26.6.3"), ("fd44:0:0:3::/64", "fd26:6::3")]
    assert node_plan["verify"]["families"] == [4, 6]


def test_the_tor_takes_ipv6_over_its_ipv4_neighbors_and_the_client_is_routed_in_both(dual_stack):
    fabric = read_model(dual_stack)
    state = tor.router_state(fabric, "tor")
    assert [(n["ip"], n["in"], n.get("in6")) for n in state["neighbors"]] == [
        ("172.26.6.%d" % i, "NODENET-k8s-IN", "NODENET-k8s-IN6") for i in (1, 2, 3)]
    commands = frr.commands(state, frr.parse(""))
    six = commands[commands.index("address-family ipv6 unicast"):]
    assert six[:4] == ["address-family ipv6 unicast", "neighbor 172.26.6.1 activate",
                       "neighbor 172.26.6.1 route-map NODENET-k8s-IN6 in", "neighbor 172.26.6.1 route-map NODENET-k8s-OUT out"]
    # what FRR then runs with: nothing more to do; without its IPv6 family the neighbor is set up again
    running = "\n".join(
        ["router bgp 65100"]
        + [" neighbor 172.26.6.%d remote-as 64512\n neighbor 172.26.6.%d description nodenet.fabric k8s k8s-%d"
           % (i, i, i) for i in (1, 2, 3)]
        + [" address-family ipv4 unicast"]
        + ["  neighbor 172.26.6.%d route-map NODENET-k8s-%s" % (i, d) for i in (1, 2, 3) for d in ("IN in", "OUT out")]
        + [" exit-address-family", " address-family ipv6 unicast"]
        + ["  neighbor 172.26.6.%d %s" % (i, d) for i in (1, 2, 3)
           for d in ("activate", "route-map NODENET-k8s-IN6 in", "route-map NODENET-k8s-OUT out")]
        + [" exit-address-family", "exit",
           "ip prefix-list NODENET-k8s-IN seq 5 permit 10.244.0.0/16 le 32",
           "ipv6 prefix-list NODENET-k8s-IN6 seq 5 permit fd44::/56 le 128",
           "route-map NODENET-k8s-IN permit 10", " match ip address prefix-list NODENET-k8s-IN", "exit",
           "route-map NODENET-k8s-IN6 permit 10", " match ipv6 address prefix-list NODENET-k8s-IN6", "exit",
           "route-map NODENET-k8s-OUT deny 10", "exit"])
    assert frr.commands(state, frr.parse(running)) == []
    without = running.replace("  neighbor 172.26.6.2 activate\n", "")
    assert frr.commands(state, frr.parse(without))[:3] == ["router bgp 65100", "no neighbor 172.26.6.2",
                                                           "neighbor 172.26.6.2 remote-as 64512"]
    assert [(r["dst"], r["via"]) for r in tor.client_state(fabric, "outside")["routes"]] == [
        ("10.244.0.0/16", "172.26.6.250"), ("fd44::/56", "fd26:6::250")]


def test_each_familys_rules_are_refused_at_once_by_name(dual_stack):
    def change(hostvars, groups):
        hostvars["k8s-2"]["node_ip"] = "fd26:6::2,172.26.6.2"
        hostvars["k8s-3"].update(node_ip="172.26.6.3", node_subnet="172.26.6.0/24")
        hostvars["k8s-1"]["node_pod_cidrs"] = ["10.244.0.0/24", "fd44:0:0:1::/64", "fd44:0:0:9::/64"]
        for host in groups["kube_router_install"]:
            hostvars[host]["kube_router_peers"] = [{"ip": "fd26:6::250", "asn": 65100}]
            hostvars[host]["kube_router_extra_args"] = {"enable-ipv6": False}
    found = problem_lines(read_model(dual_stack, change))
    expected = [
        "node k8s-3, node_ip: has no IPv6 address, but the cluster has IPv6 pods",
        "node k8s-2, node_ip: lists an IPv6 address first on k8s-2 but an IPv4 one on k8s-1",
        "kube_router_peers[0].ip: fd26:6::250 is IPv6, but kube-router peers from each node's primary address",
        "kube_router_peers[0].ip: fd26:6::250 is ToR tor's IPv6 address, and the cluster has IPv4 pods",
        "node k8s-1, node_pod_cidrs: lists 2 IPv6 CIDRs (fd44:0:0:1::/64, fd44:0:0:9::/64)",
        "kube_router_extra_args.enable-ipv6: is refused: --enable-ipv6 is set by the role from the cluster's families",
    ]
    assert unnamed(found, expected) == [], found


def test_an_ipv6_primary_address_gets_a_generated_router_id_unless_one_is_given():
    south = inventory_of("inventories/dual-stack")
    fabric = read_model(south, south_under_kube_router)
    args = resources.daemonset(fabric, "south")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--router-id=generate" in args
    given = read_model(south, lambda h, g: south_under_kube_router(h, g, kube_router_extra_args={"router-id": "10.9.9.1"}))
    args = resources.daemonset(given, "south")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert [a for a in args if a.startswith("--router-id")] == ["--router-id=10.9.9.1"]
    ipv4_first = read_model(inventory_of("inventories/kube-router-dual-stack"))
    args = resources.daemonset(ipv4_first, "k8s")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert not [a for a in args if a.startswith("--router-id")]


def test_a_tor_without_ipv6_carries_ipv4_only(dual_stack):
    def change(hostvars, _groups):
        hostvars["tor"].update(bgp_router_ip="172.26.6.250", bgp_router_subnet="172.26.6.0/24")
    fabric = read_model(dual_stack, change)
    assert [line for line in problem_lines(fabric)] == []
    assert [n.get("in6") for n in tor.router_state(fabric, "tor")["neighbors"]] == [None, None, None]
    assert [r["dst"] for r in tor.client_state(fabric, "outside")["routes"]] == ["10.244.0.0/16"]


def test_ipv6_underlay_subnets_do_not_count_for_an_ipv4_pod_network():
    inventory = inventory_of("inventories/kube-router")

    def change(hostvars, groups):
        for index, host in enumerate(groups["kube_router_install"]):
            hostvars[host].update(node_ip="%s,fd26:%d::1" % (hostvars[host]["node_ip"], index),
                                  node_subnet="172.26.6.0/24,fd26:%d::/64" % index)
    assert [line for line in problem_lines(read_model(inventory, change)) if "kube_router_overlay" in line] == []


def test_frr_input_frr_would_print_otherwise_is_refused():
    args = {"asn": 65100, "neighbors": [
        {"ip": "FD26:6::1", "remote_as": 64512, "in": "NODENET-k-IN6", "out": "NODENET-k-OUT", "description": "nodenet.fabric k"},
        {"ip": "fd26:6::2", "remote_as": 64512, "in": "NODENET-k-IN6", "out": "NODENET-k-OUT", "in6": "NODENET-k-IN6",
         "description": "nodenet.fabric k"}],
        "prefix_lists": [{"name": "NODENET-k-IN", "prefixes": ["10.244.0.0/16", "fd44::/56"]}], "route_maps": []}
    assert frr.problems(args, frr.parse("")) == [
        "neighbor FD26:6::1: give the address as FRR prints it (fd26:6::1)",
        "neighbor fd26:6::2: in6 is for an IPv4 neighbor's session; an IPv6 neighbor's `in` is its IPv6 route-map",
        "prefix-list NODENET-k-IN mixes IPv4 and IPv6 prefixes; give one list per family"]


def test_ipv6_left_on_an_ipv4_neighbor_is_taken_back_when_the_cluster_drops_it(dual_stack):
    fabric = read_model(dual_stack)
    state = tor.router_state(fabric, "tor")
    running = frr.parse("\n".join(
        ["router bgp 65100", " neighbor 172.26.6.1 remote-as 64512",
         " neighbor 172.26.6.1 description nodenet.fabric k8s k8s-1", " address-family ipv4 unicast",
         "  neighbor 172.26.6.1 route-map NODENET-k8s-IN in", "  neighbor 172.26.6.1 route-map NODENET-k8s-OUT out",
         " exit-address-family", " address-family ipv6 unicast", "  neighbor 172.26.6.1 activate",
         "  neighbor 172.26.6.1 route-map NODENET-k8s-IN6 in", "  neighbor 172.26.6.1 route-map NODENET-k8s-OUT out",
         " exit-address-family", "exit"]))
    ipv4_only = dict(state, neighbors=[dict((k, v) for k, v in n.items() if k != "in6") for n in state["neighbors"]])
    assert "no neighbor 172.26.6.1" in frr.commands(ipv4_only, running)
    assert "no neighbor 172.26.6.1" not in frr.commands(state, running)
