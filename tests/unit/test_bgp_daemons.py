"""What the BGP modules read and write: FRR's running configuration (only ours changes), BIRD's
session table, and the lab's calico-node stand-in (Calico's selectors and confd's peerings)."""
import sys
from pathlib import Path

import pytest

from ansible_collections.nodenet.fabric.plugins.module_utils import bird, frr

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from nnlab import calico_node, calico_selector  # noqa: E402

RUNNING = """Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname tor
service integrated-vtysh-config
!
router bgp 7675
 bgp router-id 172.31.13.116
 neighbor 10.9.9.9 remote-as 65000
 neighbor 10.9.9.9 description uplink to the core
 neighbor 172.31.13.27 remote-as 64512
 neighbor 172.31.13.27 description nodenet.fabric k8s k8s-1
 neighbor 172.31.13.27 password old-secret
 !
 address-family ipv4 unicast
  neighbor 10.9.9.9 route-map CORE-IN in
  neighbor 172.31.13.27 route-map NODENET-k8s-IN in
  neighbor 172.31.13.27 route-map NODENET-k8s-OUT out
 exit-address-family
exit
!
ip prefix-list CORE seq 5 permit 0.0.0.0/0
ip prefix-list NODENET-k8s-IN seq 5 permit 172.27.208.0/22 le 32
!
route-map CORE-IN permit 10
 match ip address prefix-list CORE
exit
!
route-map NODENET-k8s-IN permit 10
 match ip address prefix-list NODENET-k8s-IN
exit
!
route-map NODENET-k8s-OUT deny 10
exit
!
end
"""


def args(neighbors=None, password=None):
    neighbors = neighbors if neighbors is not None else ["172.31.13.27", "172.31.13.28"]
    return {"asn": 7675, "router_id": "172.31.13.116",
            "neighbors": [dict({"ip": ip, "remote_as": 64512, "description": "nodenet.fabric k8s n%d" % i,
                                "in": "NODENET-k8s-IN", "out": "NODENET-k8s-OUT", "multihop": False},
                               **({"password": password} if password else {}))
                          for i, ip in enumerate(neighbors)],
            "prefix_lists": [{"name": "NODENET-k8s-IN", "prefixes": ["172.27.208.0/22"]}],
            "route_maps": [{"name": "NODENET-k8s-IN", "action": "permit", "match": "NODENET-k8s-IN"},
                           {"name": "NODENET-k8s-OUT", "action": "deny"}]}


def test_the_running_configuration_is_read_and_ownership_is_by_description_and_name():
    config = frr.parse(RUNNING)
    assert config["asn"] == 7675 and config["router_id"] == "172.31.13.116"
    assert frr.owned_neighbors(config) == ["172.31.13.27"]
    owned = frr.owned(config)
    assert set(owned["prefix_lists"]) == {"NODENET-k8s-IN"}
    assert set(owned["route_maps"]) == {"NODENET-k8s-IN", "NODENET-k8s-OUT"}


def test_commands_touch_only_our_neighbors_and_policies():
    commands = frr.commands(args(password="new-secret"), frr.parse(RUNNING))
    assert not any("10.9.9.9" in c or "CORE" in c for c in commands)
    assert "no neighbor 172.31.13.27" in commands  # its password changed: removed and added again
    assert "neighbor 172.31.13.28 remote-as 64512" in commands
    assert commands[-1] == "exit" and "router bgp 7675" in commands
    assert [frr.mask(c) for c in commands if "password" in c] == [
        "neighbor 172.31.13.27 password ********", "neighbor 172.31.13.28 password ********"]


def test_an_unchanged_neighbor_is_not_touched():
    wanted = args(["172.31.13.27"], password="old-secret")
    wanted["neighbors"][0]["description"] = "nodenet.fabric k8s k8s-1"
    assert frr.commands(wanted, frr.parse(RUNNING)) == []


def test_absent_removes_ours_and_nothing_else():
    commands = frr.commands(args(), frr.parse(RUNNING), present=False)
    assert commands == ["router bgp 7675", "no neighbor 172.31.13.27", "exit",
                        "no ip prefix-list NODENET-k8s-IN", "no route-map NODENET-k8s-IN", "no route-map NODENET-k8s-OUT"]


def test_a_foreign_neighbor_or_another_as_is_refused():
    wanted = args(["10.9.9.9"])
    assert any("exists and is not ours" in p for p in frr.problems(wanted, frr.parse(RUNNING)))
    other = dict(args(), asn=7676)
    assert any("runs BGP as AS 7675" in p for p in frr.problems(other, frr.parse(RUNNING)))
    assert frr.problems(args(), frr.parse(RUNNING)) == []


PROTOCOLS = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     02:20:12.623
kernel1    Kernel     master4    up     02:20:12.623
Mesh_172_31_13_28 BGP        ---        up     02:26:12.306  Established
Node_172_31_13_116 BGP        ---        start  02:20:12.623  Active        Socket: Connection refused
Global_10_0_0_1_port_1179 BGP  ---      up     02:26:12.306  Established
"""


def test_birds_table_reads_as_calicoctl_node_status_shows_it():
    sessions = bird.parse_protocols(PROTOCOLS)
    assert [(s["ip"], s["type"], s["state"], s["info"].split()[0]) for s in sessions] == [
        ("172.31.13.28", "node-to-node mesh", "up", "Established"),
        ("172.31.13.116", "node specific", "start", "Active"),
        ("10.0.0.1", "global", "up", "Established")]


def test_the_comparison_fails_on_a_missing_down_or_unexpected_session():
    sessions = bird.parse_protocols(PROTOCOLS)
    expected = [{"name": "Mesh_172_31_13_28"}, {"name": "Node_172_31_13_116"}, {"name": "Node_172_31_13_29"}]
    result = bird.compare(expected, sessions)
    assert result["missing"] == ["Node_172_31_13_29"] and result["down"] == ["Node_172_31_13_116"]
    assert result["unexpected"] == ["Global_10_0_0_1_port_1179"]
    assert bird.compare(expected, sessions, exact=False)["unexpected"] == []
    routes = [{"dst": "172.27.209.0/26", "gateway": "172.31.13.28"},
              {"dst": "172.27.210.0/26", "nexthops": [{"gateway": "172.31.13.29"}, {"gateway": "172.31.13.28"}]}]
    assert bird.missing_routes([{"dst": "172.27.209.0/26", "via": "172.31.13.28"},
                                {"dst": "172.27.210.0/26", "via": "172.31.13.29"},
                                {"dst": "172.27.208.0/26", "via": "172.31.13.27"}], routes) == [
        "172.27.208.0/26 via 172.31.13.27"]


@pytest.mark.parametrize("selector, labels, result", [
    ("all()", {}, True),
    ("route-reflector == 'true'", {"route-reflector": "true"}, True),
    ("route-reflector == 'true'", {"route-reflector": "false"}, False),
    ("route-reflector == \"true\"", {"route-reflector": "true"}, True),
    ("has(route-reflector)", {"route-reflector": ""}, True),
    ("!has(route-reflector)", {"route-reflector": "x"}, False),
    ("!has(route-reflector) && rack == 'a'", {"rack": "a"}, True),
    ("rack in {'a', 'b'} || zone != 'z'", {"rack": "c", "zone": "z"}, False),
    ("rack not in {'a'}", {"rack": "c"}, True),
    ("(rack == 'a')", {"rack": "a"}, True),
])
def test_calico_selectors(selector, labels, result):
    assert calico_selector.parse(selector)(labels) is result


@pytest.mark.parametrize("selector", ["route-reflector == true", "has(", "rack in 'a'", "a == 'b' &&", ""])
def test_a_selector_that_does_not_parse_is_an_error(selector):
    with pytest.raises(ValueError):
        calico_selector.parse(selector)


def k8s_state(mesh=True, reflectors=(), peers=()):
    def node(name, ip):
        labels = {"route-reflector": "true"} if name in reflectors else {}
        notes = {"projectcalico.org/IPv4Address": ip + "/24"}
        if name in reflectors:
            notes["projectcalico.org/RouteReflectorClusterID"] = ip
        return {"metadata": {"name": name, "labels": labels, "annotations": notes},
                "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}
    return {"configs": {"default": {"nodeToNodeMeshEnabled": mesh, "asNumber": 64512}}, "peers": list(peers),
            "pools": [{"spec": {"cidr": "10.0.0.0/16", "ipipMode": "Never", "vxlanMode": "Never"}}],
            "blocks": [{"spec": {"node": "n1", "cidr": "10.0.1.0/26", "state": "confirmed", "deleted": "false"}}],
            "nodes": [node("n1", "192.0.2.1"), node("n2", "192.0.2.2"), node("n3", "192.0.2.3")], "secrets": {}}


RR_PEER = {"metadata": {"name": "peer-with-route-reflectors"},
           "spec": {"nodeSelector": "all()", "peerSelector": "route-reflector == 'true'"}}


def test_the_stand_in_peers_as_confd_does():
    names = lambda state, node: [(p["kind"], p["ip"]) for p in calico_node.peerings(state, node)]  # noqa: E731
    assert names(k8s_state(), "n1") == [("Mesh", "192.0.2.2"), ("Mesh", "192.0.2.3")]
    rr = k8s_state(reflectors=("n1",), peers=[RR_PEER])
    assert names(rr, "n1") == [("Node", "192.0.2.2"), ("Node", "192.0.2.3")]  # the sessions back
    assert names(rr, "n2") == [("Mesh", "192.0.2.3"), ("Node", "192.0.2.1")]
    # A wrong selector selects nothing: the session never comes up.
    wrong = k8s_state(mesh=False, reflectors=("n1",), peers=[
        {"metadata": {"name": "p"}, "spec": {"nodeSelector": "all()", "peerSelector": "route-reflector == true"}}])
    assert names(wrong, "n2") == []


def test_the_stand_in_renders_rr_clients_and_the_blocks():
    text = calico_node.render(k8s_state(mesh=False, reflectors=("n1",), peers=[RR_PEER]), "n1")
    assert "rr client;" in text and "rr cluster id 192.0.2.1;" in text
    assert "route 10.0.1.0/26 blackhole;" in text and "if ( net ~ 10.0.0.0/16 ) then { accept; }" in text
    assert "Mesh_" not in text


def test_a_session_outside_the_tables_scope_is_someone_elses():
    sessions = bird.parse_protocols(PROTOCOLS)
    result = bird.compare([{"name": "Mesh_172_31_13_28"}], sessions, scope=["172.31.13.28", "172.31.13.116"])
    assert result["unexpected"] == ["Node_172_31_13_116"] and result["other"] == ["Global_10_0_0_1_port_1179"]


def test_other_address_families_are_not_compared_and_never_rewrite_a_neighbor():
    text = RUNNING.replace(" exit-address-family\nexit\n", " exit-address-family\n !\n address-family ipv6 unicast\n"
                           "  neighbor 172.31.13.27 activate\n exit-address-family\nexit\n", 1)
    wanted = args(["172.31.13.27"], password="old-secret")
    wanted["neighbors"][0]["description"] = "nodenet.fabric k8s k8s-1"
    assert frr.commands(wanted, frr.parse(text)) == []
