"""The reconcile engine in both families, in the kernel: a vxlan device over an IPv6 underlay
carrying IPv4 and IPv6 (addresses, neighbors, IPv6 FDB remotes, routes by nexthop objects and
plain), idempotent, check mode true, stale IPv6 entries removed, a refused IPv6 line rolled back,
and foreign IPv6 state (routes of other protocols, FRR's nexthop, another vxlan device's
neighbors) byte-identical throughout."""
import json
import subprocess

import pytest

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import core
from kernel_snapshot import scratch_namespace, snapshot

NS = "nnt-foreign6"
DEVICE = "vxlan-mesh"
PROTO = 201
PEERS = (11, 12, 13)

SETUP = """link add eth0 type veth peer name eth0-peer
address add 192.168.50.10/24 dev eth0
address add fd00:50::10/64 dev eth0 nodad
link set dev eth0 up
link set dev eth0-peer up
route add default via fd00:50::1 proto boot
route add fd90::/64 via fd00:50::2 proto static
route add fd91::/64 via fd00:50::3 proto bird
route add fd92::/64 via fd00:50::4 proto 80
nexthop add id 7 via fd00:50::5 dev eth0 proto zebra
route add fd93::/64 nhid 7 proto zebra
link add vxlan-v6.calico type vxlan id 4096 dstport 4789 local fd00:50::10 dev eth0 nolearning
address add fd44::80/128 dev vxlan-v6.calico nodad
link set dev vxlan-v6.calico up
neighbor replace fd44::1:c0 lladdr 66:11:22:33:44:55 dev vxlan-v6.calico nud permanent
route add fd44::1:c0/122 via fd44::1:c0 dev vxlan-v6.calico onlink proto 80
"""

DESIRED = {
    "device": {"name": DEVICE, "vni": 10001, "port": 4899, "local": "fd00:50::10", "underlay": "eth0",
               "learning": False, "mtu": 1430, "mac": "0a:58:b3:11:01:0a",
               "address": ["179.17.1.10/24", "fd17:1::a/64"]},
    "neighbors": [{"ip": ip, "mac": "0a:58:b3:11:01:%02x" % i} for i in PEERS
                  for ip in ("179.17.1.%d" % i, "fd17:1::%x" % i)],
    "fdb": [{"mac": "0a:58:b3:11:01:%02x" % i, "dst": "fd00:50::%d" % i} for i in PEERS],
    "routes": [{"dst": dst % i, "via": via % i, "dev": DEVICE, "onlink": True} for i in PEERS
               for dst, via in (("10.%d.0.0/24", "179.17.1.%d"), ("fd10:%d::/64", "fd17:1::%x"))]
              + [{"dst": "fd14::/64", "via": "fd00:50::14", "dev": "eth0", "onlink": False}],
    "route_protocol": PROTO,
}
OWNED_ROUTES = sorted(["10.11.0.0/24", "10.12.0.0/24", "10.13.0.0/24", "fd10:11::/64", "fd10:12::/64",
                       "fd10:13::/64", "fd14::/64"])


@pytest.fixture
def namespace():
    """A reconcile Runner into the test's own namespace."""
    for name in scratch_namespace(NS, SETUP, [("vxlan-v6.calico", "66:11:22:33:44:55", "fd00:50::20")]):
        yield core.Runner(["ip", "netns", "exec", name])


def routes_by(family):
    out = subprocess.run(["ip", "-n", NS, family, "-N", "-j", "route", "show", "proto", str(PROTO)],
                         check=True, capture_output=True, text=True).stdout
    return dict((r["dst"], r.get("nhid")) for r in json.loads(out or "[]"))


def test_both_families_apply_hold_and_go_leaving_foreign_ipv6_state_alone(namespace):
    owned0, foreign0 = snapshot(NS, DEVICE, PROTO)
    assert owned0 == {"links": [], "routes": [], "neigh": [], "fdb": [], "nexthops": []}
    assert any(r["dst"] == "fd93::/64" and r.get("nhid") == 7 for r in foreign0["routes"])  # IPv6 routes are seen
    assert any(n["dst"] == "fd44::1:c0" for n in foreign0["neigh"])

    result = core.reconcile(DESIRED, namespace)
    assert result["changed"]
    owned, foreign = snapshot(NS, DEVICE, PROTO)
    assert foreign == foreign0
    assert owned["links"][0]["linkinfo"]["info_data"]["local6"] == "fd00:50::10"
    assert len(owned["neigh"]) == 6 and sorted(f["dst"] for f in owned["fdb"]) == ["fd00:50::11", "fd00:50::12",
                                                                                     "fd00:50::13"]
    assert sorted(r["dst"] for r in owned["routes"]) == OWNED_ROUTES
    assert len(owned["nexthops"]) == 7 and all(routes_by("-6").values()) and all(routes_by("-4").values())
    addresses = subprocess.run(["ip", "-n", NS, "-j", "address", "show", DEVICE], check=True, capture_output=True,
                               text=True).stdout
    assert {"179.17.1.10", "fd17:1::a"} <= set(a["local"] for a in json.loads(addresses)[0]["addr_info"])

    assert core.reconcile(DESIRED, namespace)["changed"] is False
    check = core.reconcile(DESIRED, namespace, check_mode=True)
    assert check["changed"] is False and check["changes"] == []

    result = core.reconcile(dict(DESIRED, state="absent"), namespace)
    assert result["changed"]
    owned, foreign = snapshot(NS, DEVICE, PROTO)
    assert owned == {"links": [], "routes": [], "neigh": [], "fdb": [], "nexthops": []} and foreign == foreign0


def test_check_mode_lists_ipv6_changes_and_makes_none(namespace):
    before = snapshot(NS, DEVICE, PROTO)
    result = core.reconcile(DESIRED, namespace, check_mode=True, want_diff=True)
    assert result["changed"] and len(result["changes"]) == 1 + 6 + 3 + 7 + 7  # device, neighbors, FDB, nexthops, routes
    assert "add neighbor fd17:1::b lladdr 0a:58:b3:11:01:0b on %s" % DEVICE in result["changes"]
    assert "route fd14::/64 via fd00:50::14 dev eth0" in result["diff"]["after"]
    assert snapshot(NS, DEVICE, PROTO) == before


def test_a_departed_peer_goes_in_both_families_and_a_foreign_ipv6_route_is_a_conflict(namespace):
    core.reconcile(DESIRED, namespace)
    fewer = dict(DESIRED, neighbors=DESIRED["neighbors"][2:], fdb=DESIRED["fdb"][1:], routes=DESIRED["routes"][2:])
    result = core.reconcile(fewer, namespace)
    assert sorted(c for c in result["changes"] if "remove" in c and "nexthop" not in c) == sorted([
        "remove route 10.11.0.0/24 via 179.17.1.11 dev %s" % DEVICE,
        "remove route fd10:11::/64 via fd17:1::b dev %s" % DEVICE,
        "remove neighbor 179.17.1.11 lladdr 0a:58:b3:11:01:0b on %s" % DEVICE,
        "remove neighbor fd17:1::b lladdr 0a:58:b3:11:01:0b on %s" % DEVICE,
        "remove fdb 0a:58:b3:11:01:0b dst fd00:50::11 on %s" % DEVICE])
    assert sorted(routes_by("-6")) == ["fd10:12::/64", "fd10:13::/64", "fd14::/64"]
    assert core.reconcile(fewer, namespace)["changed"] is False

    before = snapshot(NS, DEVICE, PROTO)
    taken = dict(fewer, routes=fewer["routes"] + [{"dst": "fd91::/64", "via": "fd17:1::c", "dev": DEVICE,
                                                     "onlink": True}])
    with pytest.raises(core.ReconcileError, match="fd91::/64 exists with protocol 12"):
        core.reconcile(taken, namespace)
    assert snapshot(NS, DEVICE, PROTO) == before


def test_a_refused_ipv6_line_rolls_the_node_back(namespace):
    core.reconcile(DESIRED, namespace)
    before = snapshot(NS, DEVICE, PROTO)
    unreachable = {"dst": "fd99::/64", "via": "fd00:99::9", "dev": "eth0", "onlink": False}  # not on-link
    changed = dict(DESIRED, neighbors=DESIRED["neighbors"] + [{"ip": "fd17:1::e", "mac": "0a:58:b3:11:01:0e"}],
                   routes=DESIRED["routes"] + [unreachable])
    with pytest.raises(core.ReconcileError, match="rolled back") as failure:
        core.reconcile(changed, namespace)
    assert failure.value.result["changed"] is True
    assert snapshot(NS, DEVICE, PROTO) == before
