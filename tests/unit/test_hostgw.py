"""flannel_hostgw: the plan, every validation error, and the ConfigMaps (checked against the
Kubernetes schema with kubernetes-validate)."""
import copy
import json

import kubernetes_validate
import pytest
import yaml

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import core, kernel
from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import plan as plan_module
from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.plan import make_plan
from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.flannel_hostgw import model as hostgw
from helpers import captured_dumps, inventory_of


@pytest.fixture(scope="module")
def inventory():
    return inventory_of("inventories/flannel-hostgw")


def edited(inventory, **hosts):
    hostvars, groups = inventory
    hostvars = copy.deepcopy(hostvars)
    for host, values in hosts.items():
        hostvars[host.replace("_", "-")].update(values)
    return hostvars, groups


def problems(hostvars, groups):
    return [e for e in model.read(hostvars, groups).problems([hostgw.NAME]) if e.facet == hostgw.NAME]


def bridge(dst, via, dev, whole):
    return {"dst": dst, "via": via, "dev": dev, "onlink": False, "handover": {"dst": whole, "via": via, "dev": dev}}


def test_each_node_bridges_its_peers_with_the_halves_of_their_pod_cidrs(inventory):
    hostvars, groups = inventory
    fabric = model.load(hostvars, groups)
    plan = hostgw.node_plan(fabric, "edge-1")
    state = plan["reconcile"]
    assert state == hostgw.node_state(fabric, "edge-1")
    assert state["routes"] == [
        bridge("10.244.2.0/25", "10.30.1.12", "eth0", "10.244.2.0/24"),
        bridge("10.244.2.128/25", "10.30.1.12", "eth0", "10.244.2.0/24"),
        bridge("10.244.3.0/25", "10.30.1.13", "eth0", "10.244.3.0/24"),
        bridge("10.244.3.128/25", "10.30.1.13", "eth0", "10.244.3.0/24")]
    assert state["route_protocol"] == 202 and "replace_foreign_on" not in state
    assert state["retire_devices"] == [] and state["handover_wait"] == 0 and plan["report"]["pod_mtu"] == 1500
    assert plan["verify"]["targets"] == "10.244.2.1,10.244.3.1"
    core_state = hostgw.node_state(fabric, "core-2", retire=True, wait=300)
    assert core_state["routes"] == [bridge("10.245.1.0/25", "10.30.2.21", "ens4", "10.245.1.0/24"),
                                    bridge("10.245.1.128/25", "10.30.2.21", "ens4", "10.245.1.0/24"),
                                    bridge("10.245.3.0/25", "10.30.2.23", "ens4", "10.245.3.0/24"),
                                    bridge("10.245.3.128/25", "10.30.2.23", "ens4", "10.245.3.0/24")]
    assert core_state["retire_devices"] == ["flannel.1"]
    assert core_state["handover_wait"] == 0  # no cluster_kubeconfig: this run restarts no flanneld


@pytest.mark.parametrize("cidr, expected", [
    ("10.244.2.0/24", ["10.244.2.0/25", "10.244.2.128/25"]),
    ("10.0.0.0/8", ["10.0.0.0/9", "10.128.0.0/9"]),
    ("192.168.7.4/31", ["192.168.7.4/32", "192.168.7.5/32"])])
def test_halves_cover_the_cidr_exactly(cidr, expected):
    assert hostgw.halves(cidr) == expected


def test_vni_names_the_flannel_device_and_mtu_is_the_underlays(inventory):
    hostvars, groups = edited(inventory, **{h: {"flannel_vni": 4, "node_mtu": 9000}
                                            for h in ("edge-1", "edge-2", "edge-3")})
    plan = hostgw.node_plan(model.load(hostvars, groups), "edge-2", retire=True)
    assert plan["reconcile"]["retire_devices"] == ["flannel.4"]
    assert plan["report"]["pod_mtu"] == 9000


def test_a_node_has_one_pod_cidr_shorter_than_32(inventory):
    hostvars, groups = edited(inventory, edge_1={"node_pod_cidrs": ["10.244.1.0/24", "10.244.11.0/24"]},
                              edge_2={"node_pod_cidrs": ["10.244.2.7/32"]})
    errors = model.read(hostvars, groups).problems([hostgw.NAME])
    assert [(e.cluster, e.node, e.variable) for e in errors] == [("edge", "edge-1", "node_pod_cidrs"),
                                                                 ("edge", "edge-2", "node_pod_cidrs")]
    assert "flannel_hostgw reads them as the Node's spec.podCIDRs, which hold one per family" in errors[0].message
    assert "single address" in errors[1].message and errors[1].facet == hostgw.NAME


def test_valid_inventory_has_no_problems(inventory):
    assert problems(*inventory) == []


def test_nodes_on_two_subnets_are_refused_and_named():
    hostvars, groups = inventory_of("inventories/flannel-two-subnets")
    errors = problems(hostvars, groups)
    assert [(e.cluster, e.node, e.variable) for e in errors] == [("split", "split-3", "node_subnet")]
    message = errors[0].message
    assert "10.40.2.0/24 is not 10.40.1.0/24, the L2 segment of split-1, split-2" in message
    assert "vxlan_mesh_direct_routing" in message and "vxlan backend" in message


def test_cni_must_be_flannel_or_canal(inventory):
    hostvars, groups = edited(inventory, **{h: {"cluster_cni": "calico"} for h in ("core-1", "core-2")})
    errors = problems(hostvars, groups)
    assert [(e.cluster, e.variable) for e in errors] == [("core", "cluster_cni")]


def test_every_node_of_the_cluster_must_be_in_the_group(inventory):
    hostvars, groups = inventory
    groups = dict(groups, flannel_hostgw=[h for h in groups["flannel_hostgw"] if h != "edge-3"])
    errors = problems(hostvars, groups)
    assert [(e.cluster, e.node, e.variable) for e in errors] == [("edge", "edge-3", "flannel_hostgw")]


@pytest.mark.parametrize("platform", ["cloud", "openstack"])
def test_cloud_platforms_are_refused_without_acknowledgement(inventory, platform):
    hostvars, groups = edited(inventory, **{h: {"cluster_platform": platform} for h in ("core-1", "core-2")})
    errors = problems(hostvars, groups)
    assert [(e.node, e.variable) for e in errors] == [("core-1", "cluster_platform"), ("core-2", "cluster_platform")]
    for text in ("source/destination checks", "port security", "flannel_hostgw_accept_platform_risk: true"):
        assert text in errors[0].message
    hostvars, groups = edited((hostvars, groups), **{h: {"flannel_hostgw_accept_platform_risk": True}
                                                     for h in ("core-1", "core-2")})
    assert problems(hostvars, groups) == []


def test_unknown_platform_and_bad_vni(inventory):
    hostvars, groups = edited(inventory, edge_1={"cluster_platform": "mainframe"}, edge_2={"flannel_vni": "x"})
    errors = problems(hostvars, groups)
    assert sorted((e.node, e.variable) for e in errors) == [("edge-1", "cluster_platform"), ("edge-2", "flannel_vni")]


def test_configmaps_per_cni_validate_against_kubernetes(inventory):
    hostvars, groups = edited(inventory, core_1={"flannel_netconf_extra": {"EnableIPv6": False}},
                              core_2={"flannel_netconf_extra": {"EnableIPv6": False}})
    items = {i["cluster"]: i for i in hostgw.configmaps(model.load(hostvars, groups))}
    canal, flannel = items["edge"]["manifests"][0], items["core"]["manifests"][0]
    assert (canal["metadata"]["name"], canal["metadata"]["namespace"]) == ("canal-config", "kube-system")
    assert (flannel["metadata"]["name"], flannel["metadata"]["namespace"]) == ("kube-flannel-cfg", "kube-flannel")
    assert json.loads(canal["data"]["net-conf.json"]) == {"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}
    assert json.loads(flannel["data"]["net-conf.json"]) == {
        "Network": "10.245.0.0/16", "Backend": {"Type": "host-gw"}, "EnableIPv6": False}
    assert list(canal["data"]) == ["net-conf.json"]  # other keys are left to their owners
    assert items["edge"]["daemonset"] == {"name": "canal", "namespace": "kube-system"}
    assert items["core"]["daemonset"] == {"name": "kube-flannel-ds", "namespace": "kube-flannel"}
    for manifest in (canal, flannel):
        kubernetes_validate.validate(yaml.safe_load(yaml.safe_dump(manifest)), "1.30", strict=True)


def test_kubernetes_validate_rejects_a_broken_configmap():
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"net-conf.json": 5}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.30", strict=True)


# --- the reconcile plan against a node captured in the real flanneld's vxlan state (lab edge-1) ---

@pytest.fixture
def flannel_node(inventory):
    hostvars, groups = edited(inventory, **{h: {"cluster_kubeconfig": "/lab/edge"} for h in ("edge-1", "edge-2", "edge-3")})
    fabric = model.load(hostvars, groups)
    addr, neigh, route, fdb = captured_dumps("flannel-edge-1")
    return fabric, (addr, neigh, route, {"flannel.1": fdb})


def flanneld_on_hostgw(route):
    """The route dump once flanneld runs host-gw: its routes to the whole pod CIDRs via the node
    IPs on eth0, protocol boot (flanneld replaced its vxlan ones)."""
    for entry in route:
        if entry.get("dev") == "flannel.1":
            entry.update(gateway="10.30.1.1" + entry["dst"].split(".")[2], dev="eth0", flags=[])


def with_bridge(route, protocol="202"):
    """Our four bridge routes, as plain routes, added to a route dump."""
    return route + [{"type": "1", "dst": half, "gateway": "10.30.1.1" + half.split(".")[2], "dev": "eth0",
                     "protocol": protocol, "scope": "0", "flags": []}
                    for half in ("10.244.2.0/25", "10.244.2.128/25", "10.244.3.0/25", "10.244.3.128/25")]


def hostgw_plan(fabric, dumps, retire=False, nexthops=None):
    addr, neigh, route, fdb = dumps
    state = core.normalise(hostgw.node_state(fabric, "edge-1", retire=retire, wait=5 if retire else 0))
    dataplane = kernel.parse(addr, neigh, route, fdb, nexthop_json=nexthops)
    pending = plan_module.handover_pending(state, dataplane)
    return make_plan(plan_module.without_handed_over(state, pending), dataplane), pending


def test_the_bridge_leaves_flanneld_alone(flannel_node):
    fabric, dumps = flannel_node
    plan, pending = hostgw_plan(fabric, dumps)
    assert len(pending) == 4 and plan.errors == [] and plan.link_cmds == [] and plan.fdb_cmds == []
    assert plan.route_cmds == [
        "route replace 10.244.2.0/25 via 10.30.1.12 dev eth0 proto 202 table 254",
        "route replace 10.244.2.128/25 via 10.30.1.12 dev eth0 proto 202 table 254",
        "route replace 10.244.3.0/25 via 10.30.1.13 dev eth0 proto 202 table 254",
        "route replace 10.244.3.128/25 via 10.30.1.13 dev eth0 proto 202 table 254"]


def test_flanneld_vxlan_routes_hand_over_nothing(flannel_node):
    fabric, (addr, neigh, route, fdb) = flannel_node
    plan, pending = hostgw_plan(fabric, (addr, neigh, with_bridge(route), fdb))
    assert [r["dst"] for r in pending] == ["10.244.2.0/25", "10.244.2.128/25", "10.244.3.0/25", "10.244.3.128/25"]
    assert not plan.changed


def test_flanneld_host_gw_routes_take_over_and_the_device_goes_last(flannel_node):
    fabric, (addr, neigh, route, fdb) = flannel_node
    flanneld_on_hostgw(route)
    plan, pending = hostgw_plan(fabric, (addr, neigh, with_bridge(route), fdb), retire=True)
    assert pending == [] and plan.errors == []
    assert plan.route_cmds == ["route delete %s proto 202 table 254 metric 0" % half for half in (
        "10.244.2.0/25", "10.244.2.128/25", "10.244.3.0/25", "10.244.3.128/25")] + ["link delete dev flannel.1"]


def test_a_bridge_route_of_another_protocol_is_no_successor(flannel_node):
    """Only the whole CIDR via the peer takes over: another agent's more specific route does not."""
    fabric, (addr, neigh, route, fdb) = flannel_node
    plan, pending = hostgw_plan(fabric, (addr, neigh, with_bridge(route, "4"), fdb))
    assert len(pending) == 4 and plan.errors and "protocol 4" in plan.errors[0]


def test_a_switched_node_needs_no_bridge(flannel_node):
    fabric, (addr, neigh, route, fdb) = flannel_node
    flanneld_on_hostgw(route)
    plan, pending = hostgw_plan(fabric, (addr, neigh, route, fdb), nexthops=[])
    assert pending == [] and not plan.changed


def test_the_routes_of_release_0_6_are_bridged_then_dropped(flannel_node):
    """0.6 left its own host-gw routes to the whole CIDRs (protocol 202) where flanneld skipped
    adding its identical ones: the bridge goes in before they go, and flanneld's route check
    adds its own back."""
    fabric, (addr, neigh, route, fdb) = flannel_node
    flanneld_on_hostgw(route)
    for entry in route:
        if entry["dst"] in ("10.244.2.0/24", "10.244.3.0/24"):
            entry["protocol"] = "202"
    plan, pending = hostgw_plan(fabric, (addr, neigh, route, fdb))
    assert len(pending) == 4
    assert [line.split(" ")[:2] for line in plan.route_cmds] == [["route", "replace"]] * 4 + [["route", "delete"]] * 2


def test_retiring_refuses_a_device_that_is_not_vxlan(flannel_node):
    fabric, dumps = flannel_node
    state = core.normalise(dict(hostgw.node_state(fabric, "edge-1"), retire_devices=["eth0"]))
    plan = make_plan(state, kernel.parse(*dumps))
    assert plan.errors == ["device eth0 is of kind veth, not vxlan; refusing to delete it"]


class FakeIp:
    """The node's ip and bridge over the captured dumps: flanneld's host-gw routes appear after
    `switch_after` route reads; batches are recorded, not applied."""

    def __init__(self, dumps, switch_after):
        self.addr, self.neigh, self.route, self.fdb = dumps
        self.switch_after, self.reads, self.batches = switch_after, 0, []

    def start_all(self, argvs):
        results = dict((name, self.answer(argv)) for name, argv in argvs.items())
        return lambda: results

    def run(self, argv, stdin=None):
        if "-batch" in argv:
            self.batches.append(stdin)
            return ""
        return self.answer(argv)[1]

    def answer(self, argv):
        if argv[0] == "bridge":
            return 0, json.dumps(self.fdb["flannel.1"]), ""
        if "route" in argv:
            self.reads += 1
            if self.reads > self.switch_after:
                flanneld_on_hostgw(self.route)
            mine = [r for r in self.route if r.get("protocol") == "202"]
            return 0, json.dumps(mine if "proto" in argv else self.route), ""
        if "nexthop" in argv:
            return 1, "", "Error: does not support"  # plain routes
        return 0, json.dumps(self.addr if "address" in argv else self.neigh), ""


def test_the_retire_waits_for_flanneld_then_acts(flannel_node):
    fabric, (addr, neigh, route, fdb) = flannel_node
    node = FakeIp((addr, neigh, with_bridge(route), fdb), switch_after=3)
    result = core.reconcile(hostgw.node_state(fabric, "edge-1", retire=True, wait=10), node)
    assert node.reads > 3 and result["changed"] and len(node.batches) == 1
    assert node.batches[0].splitlines()[-1] == "link delete dev flannel.1"


def test_the_retire_changes_nothing_when_flanneld_never_takes_over(flannel_node):
    fabric, (addr, neigh, route, fdb) = flannel_node
    node = FakeIp((addr, neigh, with_bridge(route), fdb), switch_after=10 ** 6)
    with pytest.raises(core.ReconcileError) as failed:
        core.reconcile(hostgw.node_state(fabric, "edge-1", retire=True, wait=2), node)
    assert node.batches == [] and failed.value.result["changed"] is False
    assert "still wait for the route that takes over" in str(failed.value)
    assert "10.244.2.0/24 via 10.30.1.12 dev eth0" in str(failed.value)


def test_check_mode_shows_the_run_after_the_handover_without_waiting(flannel_node):
    fabric, (addr, neigh, route, fdb) = flannel_node
    node = FakeIp((addr, neigh, with_bridge(route), fdb), switch_after=10 ** 6)
    result = core.reconcile(hostgw.node_state(fabric, "edge-1", retire=True, wait=300), node, check_mode=True)
    assert node.batches == [] and result["changed"]
    assert "remove device flannel.1 with its neighbors, fdb entries and routes" in result["changes"]
    assert sum(c.startswith("remove route 10.244.") for c in result["changes"]) == 4


def test_without_a_wait_nothing_flanneld_has_not_taken_over_goes(flannel_node):
    """No restart in this run: the bridge and flannel.1 stay, and the result says what waits."""
    fabric, (addr, neigh, route, fdb) = flannel_node
    node = FakeIp((addr, neigh, with_bridge(route), fdb), switch_after=10 ** 6)
    result = core.reconcile(hostgw.node_state(fabric, "edge-1", retire=True, wait=0), node)
    assert node.batches == [] and not result["changed"]
    assert result["handover_pending"] == [{"dst": "10.244.2.0/24", "via": "10.30.1.12", "dev": "eth0"},
                                          {"dst": "10.244.3.0/24", "via": "10.30.1.13", "dev": "eth0"}]


def test_the_retire_waits_only_where_this_run_restarts_flanneld(inventory):
    hostvars, groups = inventory
    fabric = model.load(hostvars, groups)
    assert hostgw.node_state(fabric, "edge-1", retire=True, wait=60)["handover_wait"] == 0  # no kubeconfig
    hostvars = dict((h, dict(v, cluster_kubeconfig="/k") if h.startswith("edge") else v) for h, v in hostvars.items())
    fabric = model.load(hostvars, groups)
    assert hostgw.node_state(fabric, "edge-1", retire=True, wait=60)["handover_wait"] == 60
    assert hostgw.node_state(fabric, "edge-1", retire=True, wait=60, restarted=False)["handover_wait"] == 0


def test_family_keys_in_net_conf_that_contradict_the_cluster_are_refused(inventory):
    hostvars, groups = edited(inventory, **{h: {"flannel_netconf_extra": {"EnableIPv6": True, "Network": "10.9.0.0/16"}}
                                            for h in ("core-1", "core-2", "core-3")})
    errors = problems(hostvars, groups)
    assert [(e.node, e.variable) for e in errors] == [(h, "flannel_netconf_extra") for h in ("core-1", "core-2", "core-3")
                                                      for _key in ("EnableIPv6", "Network")]
    assert errors[0].message.startswith('sets EnableIPv6 to true, but cluster_pod_cidr 10.245.0.0/16 says false')
    assert 'sets Network to "10.9.0.0/16"' in errors[1].message


def node(name, backend=None, public_ip=None):
    notes = {}
    if backend:
        notes[hostgw.BACKEND_ANNOTATION] = backend
    if public_ip:
        notes[hostgw.PUBLIC_IP_ANNOTATION] = public_ip
    return {"metadata": {"name": name, "annotations": notes}}


def daemonset(rolled=True):
    return {"metadata": {"generation": 2}, "status": {"observedGeneration": 2, "desiredNumberScheduled": 2,
                                                      "updatedNumberScheduled": 2 if rolled else 1, "numberReady": 2}}


def test_flanneld_restarts_where_a_node_is_not_on_host_gw_and_no_rollout_runs():
    def decide(nodes, rolled=True, changed=()):
        step = {"cluster": "a", "nodes": {"a-1": "10.0.0.1", "a-2": "10.0.0.2"}}
        return hostgw.must_restart(step, {"nodes": nodes, "daemonset": daemonset(rolled)}, set(changed))

    assert not decide([node("a-1", "host-gw"), node("a-2", "host-gw")])
    assert decide([node("a-1", "host-gw"), node("a-2", "host-gw")], changed=["net-conf.json"])  # net-conf changed
    assert decide([node("a-1", "host-gw"), node("a-2", "vxlan")])
    assert decide([node("a-1"), node("a-2", "host-gw")])  # not announced yet
    assert not decide([node("a-1", "vxlan"), node("a-2", "vxlan")], rolled=False)  # a rollout runs: not again
    # a Node flanneld does not run on (not in the inventory) never counts
    assert not decide([node("a-1", "host-gw"), node("a-2", "host-gw"), node("win-1")])


def test_the_cluster_order_applies_net_conf_then_restarts_where_it_must_and_waits(inventory):
    fabric = model.load(*inventory)
    order = hostgw.cluster_steps(fabric, "present")
    assert order[0] == {"action": "gate", "name": "applied"}  # every node has its bridge routes first
    assert order[-1] == {"action": "gate", "name": "switched"}  # then the nodes hand over
    order = order[1:-1]
    assert [s["action"] for s in order if s["cluster"] == order[0]["cluster"]] == ["apply", "restart", "wait"]
    restart = [s for s in order if s["action"] == "restart"][0]
    assert restart["only_if"] == "flannel_hostgw.model.must_restart" and restart["read"]["daemonset"]["kind"] == "DaemonSet"
    assert [s["action"] for s in hostgw.cluster_steps(fabric, "present", options={"restart_flanneld": False})] == [
        "gate"] + ["apply"] * len(hostgw.configmaps(fabric)) + ["gate"]
    assert hostgw.cluster_checks(fabric, "absent") == []


def test_the_api_is_checked_for_missing_nodes_and_another_address():
    step = {"cluster": "edge", "nodes": {"edge-1": ["10.30.1.11"], "edge-2": ["10.30.1.12"], "edge-3": ["10.30.1.13"]}}
    found = hostgw.node_problems(step, {"nodes": [node("edge-1", "vxlan", "10.30.1.11"),
                                                  node("edge-2", "vxlan", "192.0.2.7")]})
    assert len(found) == 2
    assert found[0].startswith("cluster edge, node edge-2: flanneld announces 192.0.2.7") and "node_ip is 10.30.1.12" in found[0]
    assert found[1].startswith("cluster edge, node edge-3: not a Node of the cluster's API")


@pytest.mark.parametrize("read, strict", [
    ("/proc/sys/net/ipv4/conf/all/rp_filter:2\n/proc/sys/net/ipv4/conf/eth0/rp_filter:0\n"
     "/proc/sys/net/ipv4/conf/flannel.1/rp_filter:0\n", None),
    ("/proc/sys/net/ipv4/conf/all/rp_filter:0\n/proc/sys/net/ipv4/conf/eth0/rp_filter:1\n"
     "/proc/sys/net/ipv4/conf/flannel.1/rp_filter:0\n", "eth0"),
    ("/proc/sys/net/ipv4/conf/all/rp_filter:1\n/proc/sys/net/ipv4/conf/eth0/rp_filter:0\n"
     "/proc/sys/net/ipv4/conf/flannel.1/rp_filter:2\n", "eth0"),  # all 1 and the interface 0: strict
    ("/proc/sys/net/ipv4/conf/all/rp_filter:1\n/proc/sys/net/ipv4/conf/eth0/rp_filter:1\n", "eth0"),  # no flannel.1
])
def test_strict_reverse_path_filtering_is_refused(read, strict):
    problem = hostgw.rp_filter_problem("edge-1", read)
    assert (problem == "") is (strict is None)
    if strict:
        assert problem.startswith("node edge-1: strict reverse-path filtering (rp_filter 1) on %s" % strict)
