"""flannel_hostgw across families (inventories/dual-stack's west): net-conf.json keeps the cluster's
families through the switch, each family's pods are bridged by halves via the peer's address of
that family, both of flanneld's vxlan devices retire, and each family's rules are refused by name."""
import copy
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model  # noqa: E402
from ansible_collections.nodenet.fabric.plugins.plugin_utils.flannel_hostgw import model as hostgw  # noqa: E402
from helpers import inventory_of  # noqa: E402


@pytest.fixture(scope="module")
def dual_stack():
    return inventory_of("inventories/dual-stack")


def changed(inventory, **hosts):
    hostvars, groups = copy.deepcopy(inventory)
    for host, values in hosts.items():
        hostvars[host.replace("_", "-")].update(values)
    return hostvars, groups


def lines(hostvars, groups):
    return sorted(str(e) for e in model.read(hostvars, groups).problems([hostgw.NAME]))


def test_net_conf_keeps_both_families_through_the_switch(dual_stack):
    fabric = model.load(*dual_stack)
    item = next(i for i in hostgw.configmaps(fabric) if i["cluster"] == "west")
    assert json.loads(item["manifests"][0]["data"]["net-conf.json"]) == {
        "Network": "10.80.0.0/16", "EnableIPv6": True, "IPv6Network": "fd80::/56", "Backend": {"Type": "host-gw"}}
    assert item["nodes"] == {"west-1": ["10.20.1.21", "fd00:20:1::21"], "west-2": ["10.20.1.22", "fd00:20:1::22"]}


def test_an_ipv6_only_cluster_turns_ipv4_off():
    fabric = model.load(*inventory_of("inventories/dual-stack"))
    fabric.clusters["west"] = type(fabric.clusters["west"])("west", ("fd80::/56",), ("fd80:ffff::/112",), "flannel")
    assert json.loads(hostgw.netconf(fabric, "west")) == {
        "EnableIPv4": False, "EnableIPv6": True, "IPv6Network": "fd80::/56", "Backend": {"Type": "host-gw"}}


def test_each_family_is_bridged_via_the_peers_address_of_that_family_and_both_devices_retire(dual_stack):
    fabric = model.load(*dual_stack)
    state = hostgw.node_state(fabric, "west-1", retire=True, wait=30)
    assert [(r["dst"], r["via"], r["handover"]["dst"]) for r in state["routes"]] == [
        ("10.80.2.0/25", "10.20.1.22", "10.80.2.0/24"), ("10.80.2.128/25", "10.20.1.22", "10.80.2.0/24"),
        ("fd80:0:0:2::/65", "fd00:20:1::22", "fd80:0:0:2::/64"),
        ("fd80:0:0:2:8000::/65", "fd00:20:1::22", "fd80:0:0:2::/64")]
    assert state["retire_devices"] == ["flannel.1", "flannel-v6.1"]
    assert hostgw.node_plan(fabric, "west-1")["verify"]["targets"] == "10.80.2.1,fd80:0:0:2::1"


def test_each_familys_rules_are_refused_by_name(dual_stack):
    hostvars, groups = changed(dual_stack, west_2={"node_ip": "10.20.1.22,fd00:20:2::22",
                                                   "node_subnet": "10.20.1.0/24,fd00:20:2::/64",
                                                   "flannel_netconf_extra": {"IPv6Network": "fd81::/56"}})
    assert lines(hostvars, groups) == [
        "cluster west, node west-2, flannel_netconf_extra: sets IPv6Network to \"fd81::/56\", but cluster_pod_cidr "
        "10.80.0.0/16,fd80::/56 says \"fd80::/56\"; the role writes the families' keys of net-conf.json from "
        "cluster_pod_cidr: leave IPv6Network out",
        "cluster west, node west-2, node_subnet: fd00:20:2::/64 is not fd00:20:1::/64, the L2 segment of west-1; "
        "host-gw needs every node of the cluster on one L2 subnet (nodes by subnet: fd00:20:1::/64: west-1; "
        "fd00:20:2::/64: west-2). Keep flannel's vxlan backend, or join the nodes with vxlan_mesh and "
        "vxlan_mesh_direct_routing, which routes peers on the same subnet directly and the rest over vxlan",
    ]
    hostvars, groups = changed(dual_stack, west_2={"node_ip": "10.20.1.22", "node_subnet": "10.20.1.0/24"})
    assert lines(hostvars, groups) == [
        "cluster west, node west-2, node_ip: has no IPv6 address, and cluster west's pods are IPv6: host-gw routes "
        "them via each node's IPv6 node_ip; give every node of the cluster one"]


def test_flanneld_announcing_another_ipv6_address_is_named():
    step = {"cluster": "west", "nodes": {"west-1": ["10.20.1.21", "fd00:20:1::21"]}}
    node = {"metadata": {"name": "west-1", "annotations": {hostgw.PUBLIC_IP_ANNOTATION: "10.20.1.21",
                                                           hostgw.PUBLIC_IP_ANNOTATIONS[6]: "fd00:20:1::99"}}}
    found = hostgw.node_problems(step, {"nodes": [node]})
    assert found == ["cluster west, node west-1: flanneld announces fd00:20:1::99 (annotation "
                     "flannel.alpha.coreos.com/public-ipv6) but node_ip is fd00:20:1::21; its host-gw routes would go "
                     "via fd00:20:1::99: set node_ip to it, or make flanneld use node_ip (--iface or --public-ip)"]


def test_family_keys_that_agree_or_are_empty_are_accepted(dual_stack):
    extra = {"EnableIPv4": True, "EnableIPv6": True, "Network": "", "IPv6Network": None, "SubnetLen": 24}
    hostvars, groups = changed(dual_stack, west_1={"flannel_netconf_extra": extra},
                               west_2={"flannel_netconf_extra": extra})
    assert lines(hostvars, groups) == []
    conf = json.loads(hostgw.netconf(model.load(hostvars, groups), "west"))
    assert conf["Network"] == "10.80.0.0/16" and conf["IPv6Network"] == "fd80::/56" and conf["SubnetLen"] == 24
