"""flannel_hostgw: the plan, every validation error, and the ConfigMaps (checked against the
Kubernetes schema with kubernetes-validate)."""
import copy
import json

import kubernetes_validate
import pytest
import yaml

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import core, kernel
from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.plan import make_plan
from ansible_collections.nodenet.fabric.plugins.plugin_utils import hostgw, model
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


def test_each_node_routes_its_cluster_peers_via_their_node_ip(inventory):
    hostvars, groups = inventory
    fabric = model.load(hostvars, groups)
    plan = hostgw.node_plan(fabric, "edge-1")
    state = plan["reconcile"]
    assert state == hostgw.node_state(fabric, "edge-1")
    assert state["routes"] == [
        {"dst": "10.244.2.0/24", "via": "10.30.1.12", "dev": "eth0", "onlink": False},
        {"dst": "10.244.3.0/24", "via": "10.30.1.13", "dev": "eth0", "onlink": False}]
    assert state["route_protocol"] == 202
    assert state["replace_foreign_on"] == ["flannel.1"] and state["foreign_identical_satisfies"] is True
    assert state["retire_devices"] == [] and plan["report"]["pod_mtu"] == 1500
    assert plan["verify"]["targets"] == "10.244.2.1,10.244.3.1"
    core_state = hostgw.node_state(fabric, "core-2", retire=True)
    assert core_state["routes"] == [{"dst": "10.245.1.0/24", "via": "10.30.2.21", "dev": "ens4", "onlink": False}]
    assert core_state["retire_devices"] == ["flannel.1"]


def test_vni_names_the_flannel_device_and_mtu_is_the_underlays(inventory):
    hostvars, groups = edited(inventory, **{h: {"flannel_vni": 4, "node_mtu": 9000}
                                            for h in ("edge-1", "edge-2", "edge-3")})
    plan = hostgw.node_plan(model.load(hostvars, groups), "edge-2", retire=True)
    state = plan["reconcile"]
    assert state["retire_devices"] == ["flannel.4"] and state["replace_foreign_on"] == ["flannel.4"]
    assert plan["report"]["pod_mtu"] == 9000


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


# --- the reconcile plan against a node captured in flanneld's vxlan state (lab edge-1) ---

@pytest.fixture
def flannel_node(inventory):
    hostvars, groups = inventory
    fabric = model.load(hostvars, groups)
    addr, neigh, route, fdb = captured_dumps("flannel-edge-1")
    return fabric, (addr, neigh, route, {"flannel.1": fdb})


def flanneld_on_hostgw(route):
    """The route dump after flanneld's restart: same routes, via node IPs, its own protocol (boot)."""
    for entry in route:
        if entry.get("dev") == "flannel.1":
            entry.update(gateway="10.30.1.1" + entry["dst"].split(".")[2], dev="eth0", flags=[])


def test_hostgw_routes_replace_flannels_and_the_device_goes_last(flannel_node):
    fabric, dumps = flannel_node
    state = core.normalise(hostgw.node_state(fabric, "edge-1", retire=True))
    plan = make_plan(state, kernel.parse(*dumps))
    assert plan.errors == [] and plan.link_cmds == [] and plan.fdb_cmds == []
    assert plan.route_cmds == [
        "route replace 10.244.2.0/24 via 10.30.1.12 dev eth0 proto 202 table 254",
        "route replace 10.244.3.0/24 via 10.30.1.13 dev eth0 proto 202 table 254",
        "link delete dev flannel.1"]


def test_without_permission_flannels_routes_are_a_conflict(flannel_node):
    fabric, dumps = flannel_node
    state = core.normalise(dict(hostgw.node_state(fabric, "edge-1"), replace_foreign_on=[]))
    plan = make_plan(state, kernel.parse(*dumps))
    assert len(plan.errors) == 2 and "protocol 3 (via 10.244.2.0 dev flannel.1)" in plan.errors[0]


def test_flanneld_running_host_gw_itself_satisfies_the_plan(flannel_node):
    fabric, (addr, neigh, route, fdb) = flannel_node
    state = core.normalise(hostgw.node_state(fabric, "edge-1"))
    flanneld_on_hostgw(route)
    plan = make_plan(state, kernel.parse(addr, neigh, route, fdb))
    assert not plan.changed and plan.errors == []


def test_retiring_refuses_a_device_that_is_not_vxlan(flannel_node):
    fabric, dumps = flannel_node
    state = core.normalise(dict(hostgw.node_state(fabric, "edge-1"), retire_devices=["eth0"]))
    plan = make_plan(state, kernel.parse(*dumps))
    assert plan.errors == ["device eth0 is of kind veth, not vxlan; refusing to delete it"]


def test_routes_flanneld_satisfies_need_no_nexthop_of_ours(flannel_node):
    fabric, (addr, neigh, route, fdb) = flannel_node
    state = core.normalise(hostgw.node_state(fabric, "edge-1"))
    flanneld_on_hostgw(route)
    orphan = [{"id": (202 << 24) + 1, "gateway": "10.30.1.12", "dev": "eth0", "flags": [], "protocol": "202"}]
    plan = make_plan(state, kernel.parse(addr, neigh, route, fdb, nexthop_json=orphan))
    assert plan.errors == [] and plan.route_cmds == ["nexthop delete id %d" % ((202 << 24) + 1)]
    assert make_plan(state, kernel.parse(addr, neigh, route, fdb, nexthop_json=[])).changed is False
