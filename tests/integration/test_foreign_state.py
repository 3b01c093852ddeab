"""Foreign state is identical before and after apply and teardown: routes of the
kernel, boot, static and bird protocols, FRR's nexthop object and its route, and a
second vxlan device with its own neighbors, FDB entries and routes (as Calico's
vxlan.calico would have)."""
import subprocess

import pytest

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import core
from kernel_snapshot import scratch_namespace, snapshot

NS = "nnt-foreign"
DEVICE = "vxlan-mesh"
PROTO = 201

SETUP = """link add eth0 type veth peer name eth0-peer
address add 192.168.50.10/24 dev eth0
link set dev eth0 up
link set dev eth0-peer up
route add default via 192.168.50.1 proto boot
route add 10.90.0.0/24 via 192.168.50.2 proto static
route add 10.91.0.0/24 via 192.168.50.3 proto bird
route add 10.92.0.0/24 via 192.168.50.4 proto 80
nexthop add id 7 via 192.168.50.5 dev eth0 proto zebra
route add 10.93.0.0/24 nhid 7 proto zebra
link add vxlan.calico type vxlan id 4096 dstport 4789 local 192.168.50.10 dev eth0 nolearning
address add 10.244.0.128/32 dev vxlan.calico
link set dev vxlan.calico up
neighbor replace 10.244.1.192 lladdr 66:11:22:33:44:55 dev vxlan.calico nud permanent
route add 10.244.1.192/26 via 10.244.1.192 dev vxlan.calico onlink proto 80
"""

DESIRED = {
    "device": {"name": DEVICE, "vni": 10001, "port": 4899, "local": "192.168.50.10", "underlay": "eth0",
               "learning": False, "mtu": 1450, "mac": "0a:58:b3:11:01:0a", "address": "179.17.1.10/24"},
    "neighbors": [{"ip": "179.17.1.%d" % i, "mac": "0a:58:b3:11:01:%02x" % i} for i in (11, 12, 13)],
    "fdb": [{"mac": "0a:58:b3:11:01:%02x" % i, "dst": "192.168.50.%d" % i} for i in (11, 12, 13)],
    "routes": [{"dst": "10.%d.0.0/24" % i, "via": "179.17.1.%d" % i, "dev": DEVICE, "onlink": True}
               for i in (11, 12, 13)]
              + [{"dst": "10.14.0.0/24", "via": "192.168.50.14", "dev": "eth0", "onlink": False}],
    "route_protocol": PROTO,
}


def ip(*argv, stdin=None):
    subprocess.run(["ip"] + list(argv), input=stdin, check=True, capture_output=True, text=True)


@pytest.fixture
def namespace():
    yield from scratch_namespace(NS, SETUP, [("vxlan.calico", "66:11:22:33:44:55", "192.168.50.20")])


def test_foreign_state_survives_apply_and_teardown(namespace):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    owned0, foreign0 = snapshot(namespace, DEVICE, PROTO)
    assert owned0 == {"links": [], "routes": [], "neigh": [], "fdb": [], "nexthops": []}
    assert foreign0["nexthops"] and any("nhid" in r for r in foreign0["routes"])
    assert len(foreign0["routes"]) >= 6 and foreign0["fdb"] and foreign0["neigh"]

    result = core.reconcile(DESIRED, runner)
    assert result["changed"]
    owned1, foreign1 = snapshot(namespace, DEVICE, PROTO)
    assert foreign1 == foreign0
    assert len(owned1["links"]) == 1 and len(owned1["neigh"]) == 3 and len(owned1["fdb"]) == 3
    assert sorted(r["dst"] for r in owned1["routes"]) == ["10.11.0.0/24", "10.12.0.0/24", "10.13.0.0/24",
                                                          "10.14.0.0/24"]

    assert core.reconcile(DESIRED, runner)["changed"] is False

    result = core.reconcile(dict(DESIRED, state="absent"), runner)
    assert result["changed"]
    owned2, foreign2 = snapshot(namespace, DEVICE, PROTO)
    assert owned2 == {"links": [], "routes": [], "neigh": [], "fdb": [], "nexthops": []}
    assert foreign2 == foreign0


def test_check_mode_changes_nothing_and_reports_truly(namespace):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    before = snapshot(namespace, DEVICE, PROTO)
    result = core.reconcile(DESIRED, runner, check_mode=True, want_diff=True)
    assert result["changed"] and len(result["changes"]) == 1 + 3 + 3 + 4 + 4  # device, ARP, FDB, nexthops, routes
    assert "add nexthop %d via 192.168.50.14 dev eth0" % ((PROTO << 24) + 4) in result["changes"]  # gateway order
    assert snapshot(namespace, DEVICE, PROTO) == before
    assert "route 10.14.0.0/24 via 192.168.50.14 dev eth0" in result["diff"]["after"]
    assert "route 10.14.0.0/24" not in result["diff"]["before"]


def test_a_conflicting_foreign_route_fails_before_any_change(namespace):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    before = snapshot(namespace, DEVICE, PROTO)
    desired = dict(DESIRED, routes=DESIRED["routes"] + [
        {"dst": "10.91.0.0/24", "via": "179.17.1.11", "dev": DEVICE, "onlink": True}])
    with pytest.raises(core.ReconcileError, match="10.91.0.0/24 exists with protocol 12"):
        core.reconcile(desired, runner)
    assert snapshot(namespace, DEVICE, PROTO) == before


def test_recreate_when_vni_differs_keeps_foreign_state(namespace):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    _, foreign0 = snapshot(namespace, DEVICE, PROTO)
    core.reconcile(dict(DESIRED, device=dict(DESIRED["device"], vni=10002)), runner)
    result = core.reconcile(DESIRED, runner)
    assert result["device_recreated"] == "VNI is 10002, want 10001"
    owned, foreign = snapshot(namespace, DEVICE, PROTO)
    assert foreign == foreign0
    assert owned["links"][0]["linkinfo"]["info_data"]["id"] == 10001
    assert len(owned["neigh"]) == 3 and len(owned["fdb"]) == 3 and len(owned["routes"]) == 4
    assert core.reconcile(DESIRED, runner)["changed"] is False


def test_a_bridge_is_retired_by_kind_and_a_wrong_kind_changes_nothing(namespace):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    ip("-n", namespace, "link", "add", "kube-bridge", "type", "bridge")
    core.reconcile(DESIRED, runner)
    before = snapshot(namespace, DEVICE, PROTO)
    with pytest.raises(core.ReconcileError, match="vxlan.calico is of kind vxlan, not bridge"):
        core.reconcile(dict(DESIRED, retire_devices=[{"name": "kube-bridge", "kind": "bridge"},
                                                     {"name": "vxlan.calico", "kind": "bridge"}]), runner)
    assert snapshot(namespace, DEVICE, PROTO) == before  # nothing, not even the bridge, went
    result = core.reconcile(dict(DESIRED, retire_devices=[{"name": "kube-bridge", "kind": "bridge"}]), runner)
    assert result["changes"] == ["remove device kube-bridge with its neighbors, fdb entries and routes"]
    owned, foreign = snapshot(namespace, DEVICE, PROTO)
    assert [l["ifname"] for l in before[1]["links"] if l["ifname"] != "kube-bridge"] == \
        [l["ifname"] for l in foreign["links"]]
    assert owned == before[0] and foreign["routes"] == before[1]["routes"]


def routes_by(namespace):
    out = subprocess.run(["ip", "-n", namespace, "-N", "-j", "route", "show", "proto", str(PROTO)],
                         check=True, capture_output=True, text=True).stdout
    return dict((r["dst"], r.get("nhid")) for r in __import__("json").loads(out or "[]"))


def test_routes_go_over_our_nexthops_and_back_to_plain_routes(namespace):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    first = (PROTO << 24) + 1
    core.reconcile(DESIRED, runner)
    nhids = routes_by(namespace)
    assert len(nhids) == 4 and set(nhids.values()) == set(range(first, first + 4))
    owned, _ = snapshot(namespace, DEVICE, PROTO)
    assert sorted(n["gateway"] for n in owned["nexthops"]) == sorted(r["via"] for r in DESIRED["routes"])
    assert core.reconcile(DESIRED, runner)["changed"] is False

    # A peer leaves: its route goes, then its nexthop; the others keep their ids.
    fewer = dict(DESIRED, routes=DESIRED["routes"][1:])
    result = core.reconcile(fewer, runner)
    assert [c.split()[0:2] for c in result["changes"] if "10.11.0.0" in c or "nexthop" in c] == [
        ["remove", "route"], ["remove", "nexthop"]]
    assert routes_by(namespace) == dict((k, v) for k, v in nhids.items() if k != "10.11.0.0/24")

    # Without nexthops: plain routes, and our nexthops are gone; the foreign one stays.
    _, foreign = snapshot(namespace, DEVICE, PROTO)
    core.reconcile(dict(fewer, use_nexthops=False), runner)
    assert set(routes_by(namespace).values()) == {None}
    owned, after = snapshot(namespace, DEVICE, PROTO)
    assert owned["nexthops"] == [] and after["nexthops"] == foreign["nexthops"]
    # And back: the plain routes move onto nexthops again, with the same ids as on a fresh node.
    core.reconcile(fewer, runner)
    assert set(routes_by(namespace).values()) == set(range(first, first + 3))


@pytest.mark.parametrize("kind", ["bridge", "dummy"])
def test_a_bridge_or_dummy_device_is_created_adjusted_and_removed(namespace, kind):
    probe = subprocess.run(["ip", "-n", namespace, "link", "add", "nn-probe", "type", kind], capture_output=True)
    if probe.returncode != 0:  # this machine's kernel has no dummy links (DESIGN.md)
        pytest.skip("the kernel has no %s links: %s" % (kind, probe.stderr.decode().strip()))
    ip("-n", namespace, "link", "delete", "nn-probe")
    runner = core.Runner(["ip", "netns", "exec", namespace])
    device = {"name": "nn-%s" % kind, "kind": kind, "mtu": 1400, "mac": "0a:58:0a:f4:00:01",
              "address": "10.244.9.1/24"}
    desired = {"device": device, "route_protocol": PROTO,
               "routes": [{"dst": "10.95.0.0/24", "via": "10.244.9.2", "dev": device["name"]}]}
    before = snapshot(namespace, device["name"], PROTO)
    result = core.reconcile(desired, runner)
    assert result["changed"] and result["changes"][0].startswith("create device nn-%s %s" % (kind, kind))
    out = subprocess.run(["ip", "-n", namespace, "-d", "-j", "address", "show", "dev", device["name"]],
                         check=True, capture_output=True, text=True).stdout
    link = __import__("json").loads(out)[0]
    assert (link["linkinfo"]["info_kind"], link["mtu"], link["address"]) == (kind, 1400, device["mac"])
    assert [(a["local"], a["prefixlen"]) for a in link["addr_info"] if a["family"] == "inet"] == [("10.244.9.1", 24)]
    # A portless bridge has no carrier, and the kernel refuses a nexthop there: a plain route.
    assert routes_by(namespace)["10.95.0.0/24"] is None
    assert core.reconcile(desired, runner)["changed"] is False
    # An MTU change is made in place; a device of the same name but another kind is refused.
    adjusted = core.reconcile(dict(desired, device=dict(device, mtu=1300)), runner)
    assert adjusted["changes"] == ["set nn-%s mtu 1400 -> 1300" % kind]
    other = "dummy" if kind == "bridge" else "bridge"
    with pytest.raises(core.ReconcileError, match="is of kind %s, not %s" % (kind, other)):
        core.reconcile(dict(desired, device=dict(device, kind=other)), runner)
    core.reconcile(dict(desired, state="absent"), runner)
    assert snapshot(namespace, device["name"], PROTO) == before


BAD_ROUTE = {"dst": "10.99.0.0/24", "via": "203.0.113.9", "dev": "eth0", "onlink": False}  # not on-link


@pytest.mark.parametrize("converged", [False, True])
def test_a_line_the_kernel_refuses_rolls_the_node_back(namespace, converged):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    if converged:
        core.reconcile(DESIRED, runner)
    before = snapshot(namespace, DEVICE, PROTO)
    # A new peer, a changed MTU and one route the kernel refuses, in one run.
    changed = dict(DESIRED, device=dict(DESIRED["device"], mtu=1400),
                   neighbors=DESIRED["neighbors"] + [{"ip": "179.17.1.14", "mac": "0a:58:b3:11:01:0e"}],
                   routes=DESIRED["routes"] + [BAD_ROUTE])
    with pytest.raises(core.ReconcileError, match="applying failed after [1-9][0-9]* of") as failure:
        core.reconcile(changed, runner)
    result = failure.value.result
    assert result["changed"] is True and result["applied"] and "rolled back" in str(failure.value)
    assert snapshot(namespace, DEVICE, PROTO) == before
    # The next run with a good state converges, and a rerun changes nothing.
    core.reconcile(dict(changed, routes=DESIRED["routes"]), runner)
    assert core.reconcile(dict(changed, routes=DESIRED["routes"]), runner)["changed"] is False


def test_a_missing_underlay_or_a_taken_vni_changes_nothing(namespace):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    before = snapshot(namespace, DEVICE, PROTO)
    with pytest.raises(core.ReconcileError, match="underlay device ens9 does not exist") as failure:
        core.reconcile(dict(DESIRED, device=dict(DESIRED["device"], underlay="ens9")), runner)
    assert failure.value.result["changed"] is False
    with pytest.raises(core.ReconcileError, match="VNI 4096 with port 4789 is taken by device vxlan.calico"):
        core.reconcile(dict(DESIRED, device=dict(DESIRED["device"], vni=4096, port=4789)), runner)
    assert snapshot(namespace, DEVICE, PROTO) == before


def test_a_renamed_device_replaces_our_old_one(namespace):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    core.reconcile(DESIRED, runner)
    _, foreign = snapshot(namespace, DEVICE, PROTO)
    renamed = dict(DESIRED, device=dict(DESIRED["device"], name="vxlan-mesh2"),
                   routes=[dict(r, dev="vxlan-mesh2") if r["dev"] == DEVICE else r for r in DESIRED["routes"]])
    result = core.reconcile(renamed, runner)
    assert result["changes"][0] == "remove device %s, this device's earlier name (renamed to vxlan-mesh2)" % DEVICE
    names = [l["ifname"] for l in snapshot(namespace, "vxlan-mesh2", PROTO)[1]["links"]]
    assert DEVICE not in names and "vxlan-mesh2" not in names  # the new one is owned, the old one gone
    assert snapshot(namespace, "vxlan-mesh2", PROTO)[1]["routes"] == foreign["routes"]
    assert core.reconcile(renamed, runner)["changed"] is False


def test_a_refused_recreate_gives_back_the_old_device(namespace):
    """The VNI changes (a recreate), and a later line fails: the node keeps a working device, the
    old one, with its VNI, neighbors, FDB entries and routes."""
    runner = core.Runner(["ip", "netns", "exec", namespace])
    core.reconcile(DESIRED, runner)
    before = snapshot(namespace, DEVICE, PROTO)
    with pytest.raises(core.ReconcileError, match="rolled back"):
        core.reconcile(dict(DESIRED, device=dict(DESIRED["device"], vni=10002), routes=DESIRED["routes"] + [BAD_ROUTE]),
                       runner)
    owned, foreign = snapshot(namespace, DEVICE, PROTO)
    strip = lambda links: [dict(l, ifindex=0) for l in links]  # noqa: E731  (a re-made device has a new index)
    assert strip(owned["links"]) == strip(before[0]["links"]) and owned["links"][0]["linkinfo"]["info_data"]["id"] == 10001
    assert dict(owned, links=None) == dict(before[0], links=None) and foreign == before[1]


def test_a_refused_plan_says_nothing_changed(namespace):
    runner = core.Runner(["ip", "netns", "exec", namespace])
    before = snapshot(namespace, DEVICE, PROTO)
    with pytest.raises(core.ReconcileError, match="nothing was changed.*vxlan.calico exists.*refusing to take it over") \
            as failure:
        core.reconcile(dict(DESIRED, device=dict(DESIRED["device"], name="vxlan.calico")), runner)
    assert failure.value.result["changed"] is False
    assert snapshot(namespace, DEVICE, PROTO) == before
