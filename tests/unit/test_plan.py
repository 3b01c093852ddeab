"""The reconcile module's diff logic, against `ip -json` / `bridge -json` output
captured from a lab node (seed node 001 after apply, with foreign state added:
a bird and a static route, Calico's vxlan.calico with a neighbor, FDB entry and
felix route)."""
import copy

import pytest

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import core, kernel, kinds
from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.plan import make_plan
from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh

from helpers import captured_dumps

HOST = "multicluster-test-001"
FOREIGN_WORDS = ("vxlan.calico", "10.99.0.0/24", "10.98.0.0/24", "10.234.118.192", "nnlab-pod", "default")


@pytest.fixture(scope="module")
def desired(seed_inventory):
    return core.normalise(mesh.node_state(model.load(*seed_inventory), HOST))


@pytest.fixture
def dumps():
    return [copy.deepcopy(d) for d in captured_dumps("seed-001")]


def plan_for(desired, dumps, **overrides):
    addr, neigh, route, fdb = dumps
    state = dict(desired, **overrides)
    return make_plan(state, kernel.parse(addr, neigh, route, {"vxlan-test": fdb}))


def all_cmds(plan):
    return plan.link_cmds + plan.fdb_cmds + plan.route_cmds


def assert_foreign_untouched(plan):
    for cmd in all_cmds(plan):
        assert not any(word in cmd.split() for word in FOREIGN_WORDS), cmd


def link(dumps, name):
    return next(entry for entry in dumps[0] if entry["ifname"] == name)


def test_captured_state_is_a_no_op(desired, dumps):
    plan = plan_for(desired, dumps)
    assert not plan.changed and plan.changes == [] and plan.errors == []


def test_parse_reads_protocols_as_numbers_and_skips_ipv6(dumps):
    dataplane = kernel.parse(dumps[0], dumps[1], dumps[2], {"vxlan-test": dumps[3]})
    protocols = {r["dst"]: r["protocol"] for r in dataplane.routes}
    assert protocols["10.99.0.0/24"] == 12 and protocols["10.235.88.0/24"] == 201
    assert protocols["0.0.0.0/0"] == 3 and "10.234.111.1/32" in protocols
    assert all(":" not in n["ip"] for n in dataplane.neighbors)
    assert dataplane.link("vxlan-test")["vni"] == 10001


def test_missing_route_is_added_alone(desired, dumps):
    dumps[2] = [r for r in dumps[2] if r["dst"] != "10.235.88.0/24"]
    plan = plan_for(desired, dumps)
    assert plan.route_cmds == ["route replace 10.235.88.0/24 via 179.17.1.16 dev vxlan-test proto 201 table 254 onlink"]
    assert plan.link_cmds == [] and plan.fdb_cmds == []


def test_missing_or_wrong_or_dynamic_neighbor_is_replaced(desired, dumps):
    dumps[1] = [n for n in dumps[1] if n["dst"] != "179.17.1.44"]
    for n in dumps[1]:
        if n["dst"] == "179.17.1.13":
            n["lladdr"] = "02:00:00:00:00:01"
        if n["dst"] == "179.17.1.15":
            n["state"] = ["STALE"]
    plan = plan_for(desired, dumps)
    assert sorted(plan.link_cmds) == sorted([
        "neighbor replace 179.17.1.44 lladdr 12:d1:df:44:3d:aa dev vxlan-test nud permanent",
        "neighbor replace 179.17.1.13 lladdr 4e:ac:f5:6f:4e:76 dev vxlan-test nud permanent",
        "neighbor replace 179.17.1.15 lladdr ba:a7:54:aa:bc:ce dev vxlan-test nud permanent"])
    assert plan.route_cmds == [] and plan.fdb_cmds == []


def test_fdb_missing_or_moved_is_replaced_not_appended(desired, dumps):
    dumps[3] = [f for f in dumps[3] if f["mac"] != "12:d1:df:44:3d:aa"]
    for f in dumps[3]:
        if f["mac"] == "4e:ac:f5:6f:4e:76":
            f["dst"] = "192.168.0.99"
    plan = plan_for(desired, dumps)
    assert plan.fdb_cmds == [
        "fdb replace 12:d1:df:44:3d:aa dev vxlan-test dst 192.168.0.44 self permanent",
        "fdb replace 4e:ac:f5:6f:4e:76 dev vxlan-test dst 192.168.0.13 self permanent"]


def test_extra_remotes_and_flood_entries_go_after_the_adds(desired, dumps):
    dumps[3].insert(0, {"mac": "00:00:00:00:00:00", "dst": "192.168.0.77", "flags": ["self"], "state": "permanent"})
    dumps[3].append({"mac": "36:f9:67:c0:70:1c", "dst": "192.168.0.78", "flags": ["self"], "state": "permanent"})
    plan = plan_for(desired, dumps)
    assert plan.fdb_cmds == [
        "fdb delete 36:f9:67:c0:70:1c dev vxlan-test dst 192.168.0.78 self",
        "fdb delete 00:00:00:00:00:00 dev vxlan-test dst 192.168.0.77 self"]


def test_replace_rewrites_the_first_remote_and_the_rest_are_deleted(desired, dumps):
    mac = "36:f9:67:c0:70:1c"
    dumps[3] = [f for f in dumps[3] if f["mac"] != mac]
    dumps[3] += [{"mac": mac, "dst": "192.168.0.80", "state": "permanent"},
                 {"mac": mac, "dst": "192.168.0.81", "state": "permanent"}]
    plan = plan_for(desired, dumps)
    assert plan.fdb_cmds == ["fdb replace %s dev vxlan-test dst 192.168.0.16 self permanent" % mac,
                             "fdb delete %s dev vxlan-test dst 192.168.0.81 self" % mac]


def test_a_departed_peer_is_removed_routes_before_arp(desired, dumps):
    gone_ip, gone_mac = "179.17.1.13", "4e:ac:f5:6f:4e:76"
    state = dict(desired,
                 neighbors=[n for n in desired["neighbors"] if n["ip"] != gone_ip],
                 fdb=[f for f in desired["fdb"] if f["mac"] != gone_mac],
                 routes=[r for r in desired["routes"] if r["via"] != gone_ip])
    addr, neigh, route, fdb = dumps
    plan = make_plan(state, kernel.parse(addr, neigh, route, {"vxlan-test": fdb}))
    assert plan.fdb_cmds == ["fdb delete %s dev vxlan-test dst 192.168.0.13 self" % gone_mac]
    assert plan.route_cmds == ["route delete 10.236.106.0/24 proto 201 table 254 metric 0",
                               "neighbor delete %s dev vxlan-test" % gone_ip]
    assert plan.link_cmds == []
    assert_foreign_untouched(plan)


def test_mtu_drift_changes_only_the_mtu(desired, dumps):
    link(dumps, "vxlan-test")["mtu"] = 1400
    plan = plan_for(desired, dumps)
    assert all_cmds(plan) == ["link set dev vxlan-test mtu 1450"]


def test_down_device_and_foreign_address_are_fixed(desired, dumps):
    entry = link(dumps, "vxlan-test")
    entry["flags"].remove("UP")
    entry["addr_info"].append({"family": "inet", "local": "10.1.1.1", "prefixlen": 8})
    plan = plan_for(desired, dumps)
    assert plan.link_cmds == ["address delete 10.1.1.1/8 dev vxlan-test", "link set dev vxlan-test up"]


@pytest.mark.parametrize("field,value,reason", [
    ("id", 10002, "VNI is 10002, want 10001"),
    ("port", 4789, "port is 4789, want 4899"),
    ("local", "192.168.0.99", "local IP is 192.168.0.99, want 192.168.0.21"),
    ("link", "eth1", "underlay device is eth1, want eth0"),
])
def test_device_is_recreated_with_a_reason(desired, dumps, field, value, reason):
    link(dumps, "vxlan-test")["linkinfo"]["info_data"][field] = value
    plan = plan_for(desired, dumps)
    assert plan.recreate_reasons == [reason]
    assert plan.link_cmds[:2] == [
        "link delete dev vxlan-test",
        "link add vxlan-test mtu 1450 address c2:6a:9b:e5:39:8d type vxlan id 10001 dstport 4899 "
        "local 192.168.0.21 dev eth0 nolearning"]
    # Everything on the old device went with it, so all of it is added again, in order.
    assert sum(c.startswith("neighbor replace") for c in plan.link_cmds) == 5
    assert len(plan.fdb_cmds) == 5 and len(plan.route_cmds) == 4
    assert plan.as_dict()["device_recreated"] == reason
    assert_foreign_untouched(plan)


def test_a_foreign_device_with_our_name_is_refused(desired, dumps):
    link(dumps, "vxlan-test")["linkinfo"]["info_kind"] = "bridge"
    plan = plan_for(desired, dumps)
    assert plan.errors and "not ours" in plan.errors[0]


def test_a_foreign_route_to_a_wanted_destination_is_a_conflict(desired, dumps):
    routes = desired["routes"] + [{"dst": "10.99.0.0/24", "via": "179.17.1.16", "dev": "vxlan-test", "onlink": True}]
    plan = plan_for(desired, dumps, routes=routes)
    assert plan.errors == ["route 10.99.0.0/24 exists with protocol 12 (via 192.168.0.254 dev eth0), "
                           "which is not ours; refusing to replace it"]
    replaced = plan_for(desired, dumps, routes=routes, replace_foreign_on=["eth0"])
    assert replaced.errors == []
    assert replaced.route_cmds == ["route replace 10.99.0.0/24 via 179.17.1.16 dev vxlan-test proto 201 table 254 onlink"]


def test_an_identical_foreign_route_can_count_as_satisfied(desired, dumps):
    routes = desired["routes"] + [{"dst": "10.99.0.0/24", "via": "192.168.0.254", "dev": "eth0", "onlink": False}]
    plan = plan_for(desired, dumps, routes=routes, foreign_identical_satisfies=True)
    assert not plan.changed and plan.errors == []


def test_absent_removes_only_what_we_own(desired, dumps):
    plan = plan_for(desired, dumps, state="absent")
    assert sorted(plan.route_cmds[:-1]) == sorted(
        "route delete %s proto 201 table 254 metric 0" % r["dst"] for r in desired["routes"])
    assert plan.route_cmds[-1] == "link delete dev vxlan-test"
    assert plan.link_cmds == [] and plan.fdb_cmds == []
    assert_foreign_untouched(plan)


def test_creation_orders_arp_then_fdb_then_routes(desired, dumps):
    dumps[0] = [e for e in dumps[0] if e["ifname"] != "vxlan-test"]
    dumps[1] = [n for n in dumps[1] if n.get("dev") != "vxlan-test"]
    dumps[2] = [r for r in dumps[2] if r.get("dev") != "vxlan-test"]
    addr, neigh, route, _ = dumps
    plan = make_plan(desired, kernel.parse(addr, neigh, route, {}))
    assert plan.link_cmds[0].startswith("link add vxlan-test ")
    assert [c.split()[0] for c in plan.link_cmds[3:]] == ["neighbor"] * 5
    assert [c.split()[1] for c in plan.fdb_cmds] == ["replace"] * 5
    assert [c.split()[1] for c in plan.route_cmds] == ["replace"] * 4


def test_diff_shows_owned_entries_before_and_after(desired, dumps):
    dumps[2] = [r for r in dumps[2] if r["dst"] != "10.235.88.0/24"]
    dataplane = kernel.parse(dumps[0], dumps[1], dumps[2], {"vxlan-test": dumps[3]})
    before, after = core.owned_lines(desired, dataplane), core.owned_lines(desired)
    assert set(after) - set(before) == {"route 10.235.88.0/24 via 179.17.1.16 dev vxlan-test"}
    assert not any("vxlan.calico" in line or "10.99.0.0" in line for line in before)


def test_duplicate_desired_entries_are_rejected(desired):
    with pytest.raises(core.ReconcileError):
        core.normalise(dict(desired, neighbors=desired["neighbors"] * 2))


def raw_dataplane(dumps):
    """A Dataplane as the module's own read builds it: filtered dumps, parsed only on demand, by
    each kind's parser and keyer."""
    addr, neigh, route, fdb = dumps
    mine = [dict((k, v) for k, v in n.items() if k != "dev") for n in neigh
            if n.get("dev") == "vxlan-test" and "PERMANENT" in n["state"]]
    ours = [dict((k, v) for k, v in r.items() if k != "protocol") for r in route if r.get("protocol") == "201"]
    scope = kinds.Scope("vxlan-test", 254, 201)
    raw = {}
    for field, dump in (("neighbors", mine), ("fdb", fdb), ("routes", ours)):
        kind = dict(kinds.READ_KINDS)[field]
        raw[field] = (dump, lambda d, kind=kind: kind.parse(d, scope), kind.keyer)
    return kernel.Dataplane(kernel.parse_links(addr), None, None, None, raw)


def test_the_fast_no_op_proof_needs_no_parsing(desired, dumps):
    dataplane = raw_dataplane(dumps)
    plan = make_plan(desired, dataplane)
    assert not plan.changed and sorted(dataplane._raw) == ["fdb", "neighbors", "routes"]  # none parsed


@pytest.mark.parametrize("drift", ["route", "fdb", "neighbor", "onlink"])
def test_the_fast_path_falls_back_on_any_drift(desired, dumps, drift):
    if drift == "route":
        dumps[2] = [r for r in dumps[2] if r["dst"] != "10.235.88.0/24"]
    elif drift == "fdb":
        dumps[3][0]["dst"] = "192.168.0.99"
    elif drift == "neighbor":
        dumps[1] = [n for n in dumps[1] if n["dst"] != "179.17.1.44"]
    else:
        next(r for r in dumps[2] if r["dst"] == "10.235.88.0/24")["flags"] = []
    fast = make_plan(desired, raw_dataplane(copy.deepcopy(dumps)))
    addr, neigh, route, fdb = dumps
    slow = make_plan(desired, kernel.parse(addr, neigh, route, {"vxlan-test": fdb}))
    assert fast.changed and (fast.link_cmds, fast.fdb_cmds, fast.route_cmds) == (
        slow.link_cmds, slow.fdb_cmds, slow.route_cmds)


def test_a_device_of_any_kind_is_retired_when_named_with_its_kind(desired, dumps):
    plan = plan_for(desired, dumps, retire_devices=[{"name": "nnlab-pod", "kind": "veth"}])
    assert plan.errors == [] and plan.route_cmds == ["link delete dev nnlab-pod"]
    assert plan.changes == ["remove device nnlab-pod with its neighbors, fdb entries and routes"]


def test_retiring_a_device_of_another_kind_is_refused(desired, dumps):
    plan = plan_for(desired, dumps, retire_devices=["nnlab-pod", {"name": "vxlan-test", "kind": "dummy"}])
    assert plan.errors == ["device nnlab-pod is of kind veth, not vxlan; refusing to delete it",
                           "device vxlan-test is of kind vxlan, not dummy; refusing to delete it"]
    with pytest.raises(ValueError, match="kind 'tunnel' is not one of"):
        core.normalise(dict(desired, retire_devices=[{"name": "tunl0", "kind": "tunnel"}]))


def test_batches_follow_the_phases_one_process_per_tool_run(desired, dumps):
    dumps[0] = [e for e in dumps[0] if e["ifname"] != "vxlan-test"]
    addr, neigh, route, _ = dumps
    plan = make_plan(desired, kernel.parse(addr, neigh, route, {}))
    batches = plan.batches()
    assert [tool for tool, _ in batches] == ["ip", "bridge", "ip"]
    assert batches[0][1] == plan.link_cmds and batches[1][1] == plan.fdb_cmds and batches[2][1] == plan.route_cmds
    assert batches[0][1][:3] == [batches[0][1][0], "address replace 179.17.1.21/24 dev vxlan-test",
                                 "link set dev vxlan-test up"]


def nexthop_dumps(desired, dumps, first=(201 << 24) + 1):
    """The captured node after a run with nexthops: one nexthop per gateway, routes by nhid."""
    gateways = sorted(set((r["via"], r["dev"], r["onlink"]) for r in desired["routes"]))
    ids = dict((g, first + i) for i, g in enumerate(gateways))
    nexthops = [{"id": ids[g], "gateway": g[0], "dev": g[1], "flags": ["onlink"] if g[2] else [],
                 "protocol": "201"} for g in gateways]
    for route in dumps[2]:
        if route.get("protocol") == "201":
            route["nhid"] = ids[(route["gateway"], route["dev"], "onlink" in route.get("flags", []))]
    return nexthops


def test_plain_routes_move_onto_nexthop_objects_once(desired, dumps):
    addr, neigh, route, fdb = dumps
    plan = make_plan(desired, kernel.parse(addr, neigh, route, {"vxlan-test": fdb}, nexthop_json=[]))
    first = (201 << 24) + 1
    assert plan.route_cmds[:4] == ["nexthop replace id %d via %s dev vxlan-test onlink proto 201" % (first + i, via)
                                   for i, via in enumerate(sorted(r["via"] for r in desired["routes"]))]
    assert all(c.startswith("route replace ") and " nhid " in c for c in plan.route_cmds[4:])
    assert len(plan.route_cmds) == 8 and plan.link_cmds == [] and plan.fdb_cmds == []
    assert_foreign_untouched(plan)
    nexthops = nexthop_dumps(desired, dumps)
    converged = make_plan(desired, kernel.parse(*dumps[:3], {"vxlan-test": dumps[3]}, nexthop_json=nexthops))
    assert not converged.changed and converged.errors == []


def test_new_nexthop_ids_skip_ids_another_agent_uses(desired, dumps):
    foreign = [{"id": (201 << 24) + 1, "gateway": "192.168.0.1", "dev": "eth0", "flags": [], "protocol": "11"}]
    plan = make_plan(desired, kernel.parse(*dumps[:3], {"vxlan-test": dumps[3]}, nexthop_json=foreign))
    assert plan.route_cmds[0].startswith("nexthop replace id %d " % ((201 << 24) + 2))
    assert not any("delete id %d" % ((201 << 24) + 1) in c for c in plan.route_cmds)


def test_absent_removes_our_nexthops_after_our_routes(desired, dumps):
    nexthops = nexthop_dumps(desired, dumps)
    plan = make_plan(dict(desired, state="absent"),
                     kernel.parse(*dumps[:3], {"vxlan-test": dumps[3]}, nexthop_json=nexthops))
    kinds = [c.split()[0] for c in plan.route_cmds]
    assert kinds == ["route"] * 4 + ["nexthop"] * len(nexthops) + ["link"]


def test_absent_leaves_a_foreign_device_with_our_name_alone(desired, dumps):
    link(dumps, "vxlan-test")["linkinfo"]["info_kind"] = "bridge"
    plan = plan_for(desired, dumps, state="absent")
    assert plan.errors == ["device vxlan-test exists and is of kind bridge, not vxlan: it is not ours; "
                           "refusing to touch it"]
    assert "link delete dev vxlan-test" not in plan.route_cmds


@pytest.mark.parametrize("device, message", [
    ({"kind": "ipip"}, "kind 'ipip' is not one of vxlan, bridge, dummy"),
    ({"vni": None, "underlay": ""}, "a vxlan device needs vni, underlay"),
    ({"mac": "0a:58"}, "is not a MAC address"),
])
def test_the_device_canonicaliser_refuses_what_it_cannot_create(desired, device, message):
    with pytest.raises(ValueError, match=message):
        core.normalise(dict(desired, device=dict(desired["device"], **device)))


def test_a_bridge_needs_no_vxlan_fields_and_is_created_by_kind(desired, dumps):
    bridge = {"name": "kube-bridge", "kind": "bridge", "mtu": 1500, "mac": "0A:58:0A:F4:00:01",
              "address": "10.244.0.1/24"}
    state = core.normalise(dict(desired, device=bridge, neighbors=[], fdb=[], routes=[]))
    plan = make_plan(state, kernel.parse(*dumps[:3], {}))
    assert plan.link_cmds[:3] == ["link add kube-bridge mtu 1500 address 0a:58:0a:f4:00:01 type bridge",
                                  "address replace 10.244.0.1/24 dev kube-bridge", "link set dev kube-bridge up"]
