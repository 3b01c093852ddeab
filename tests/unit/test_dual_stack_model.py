"""The model's address families: a cluster is IPv4, IPv6 or dual-stack, its nodes carry an address
and a pod CIDR per family, and every family rule is reported at once, naming cluster, node and
variable."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402

from ansible_collections.nodenet.fabric.plugins.plugin_utils import addresses, fabric as core, model  # noqa: E402
import fabric_inventory as inv  # noqa: E402

C1, C2, C3 = "test-cluster1", "test-cluster2", "test-cluster3"
N1, N2, N3, N4 = ("multicluster-test-00%d" % i for i in range(1, 5))
V6_UNDERLAY = "fd00:192:168::/64"


def dual(k):
    """Cluster k's ranges in both families, IPv4 first (the primary)."""
    return {"cluster_pod_cidr": "10.%d.64.0/18,fd%02x:10::/56" % (233 + k, k),
            "cluster_service_cidr": ["10.%d.0.0/18" % (233 + k), "fd%02x:96::/112" % k]}


def dual_nodes(hosts):
    """Dual-stack underlay and pod CIDRs for the seed's first four nodes."""
    rows = {N1: (1, 21, "10.234.111.0/24", 0x11), N2: (1, 31, "10.234.118.0/24", 0x12),
            N3: (2, 16, "10.235.88.0/24", 0x11), N4: (2, 44, "10.235.113.0/24", 0x12)}
    for host, (k, octet, pod, block) in rows.items():
        hosts.setdefault(host, {}).update({
            "node_ip": ["192.168.0.%d" % octet, "fd00:192:168::%d" % octet],
            "node_subnet": "192.168.0.0/24,%s" % V6_UNDERLAY,
            "node_pod_cidrs": [pod, "fd%02x:10:0:%x::/64" % (k, block)]})
    return hosts


def build(cluster=None, hosts=None, cni="canal"):
    """Two dual-stack clusters of two nodes (the seed's first four), plus `cluster`/`hosts` changes."""
    clusters = {"test_cluster%d" % k: dict(dual(k), cluster_cni=cni) for k in (1, 2)}
    for group, values in (cluster or {}).items():
        clusters[group].update(values)
    node_vars = dual_nodes({})
    for host, values in (hosts or {}).items():
        node_vars[host].update(values)
    return inv.build(clusters=2, cluster=clusters, hosts=node_vars)


def core_lines(hostvars, groups):
    return [str(e) for e in model.read(hostvars, groups).core_problems()]


def test_a_dual_stack_inventory_reads_per_family_and_round_trips():
    fabric = model.read(*build())
    assert fabric.core_problems() == []
    cluster, node = fabric.clusters[C1], fabric.nodes[N1]
    assert cluster.pod_cidrs == ("10.234.64.0/18", "fd01:10::/56") and cluster.families == (4, 6)
    assert cluster.service_cidr_of(6) == "fd01:96::/112" and cluster.pod_cidr == "10.234.64.0/18"
    assert node.ips == ("192.168.0.21", "fd00:192:168::21") and node.families == (4, 6)
    assert node.subnets == ("192.168.0.0/24", V6_UNDERLAY) and node.subnet_of(6) == V6_UNDERLAY
    assert node.ip == "192.168.0.21" and node.pod_cidrs == ("10.234.111.0/24", "fd01:10:0:11::/64")
    model._LOADED.clear()
    again = model.loads(model.dumps(fabric))
    assert again.nodes == fabric.nodes and again.clusters == fabric.clusters


def test_the_first_family_listed_is_the_primary_and_ipv6_only_works():
    hostvars, groups = build(
        cluster={"test_cluster2": {"cluster_pod_cidr": "fd02:10::/56", "cluster_service_cidr": "fd02:96::/112"}},
        hosts={N3: {"node_ip": "FD00:192:168::16", "node_subnet": V6_UNDERLAY, "node_pod_cidrs": ["fd02:10:0:11::/64"]},
               N4: {"node_ip": ["fd00:192:168::44", "192.168.0.44"], "node_pod_cidrs": ["fd02:10:0:12::/64"]}})
    fabric = model.read(hostvars, groups)
    assert fabric.core_problems() == []
    assert fabric.clusters[C2].families == (6,) and fabric.clusters[C2].pod_cidr_of(4) is None
    assert fabric.nodes[N3].ips == ("fd00:192:168::16",)  # canonical: lower case, compressed
    assert fabric.nodes[N4].ip == "fd00:192:168::44" and fabric.nodes[N4].subnets == (V6_UNDERLAY, "192.168.0.0/24")


def test_every_family_problem_is_reported_at_once():
    hostvars, groups = build(
        cluster={"test_cluster1": {"cluster_service_cidr": "10.234.0.0/18,fd01:96::/112,fd01:97::/112"},
                 "test_cluster2": {"cluster_pod_cidr": "10.235.64.0/18", "cluster_service_cidr":
                                   "10.235.0.0/18,fd02:96::/112"}},
        hosts={N1: {"node_pod_cidrs": ["10.234.111.0/24"], "node_mtu": 1200},
               N2: {"node_ip": ["192.168.0.31", "fe80::31"]},
               N3: {"node_subnet": ["192.168.0.0/24", V6_UNDERLAY, "fd00:1::/64"]},
               N4: {"node_ip": ["192.168.0.44", "fd00:192:168::44"], "node_subnet": "192.168.0.0/24"}})
    assert sorted(core_lines(hostvars, groups)) == sorted([
        "cluster test-cluster1, node %s, cluster_service_cidr: lists 2 IPv6 values (fd01:96::/112, fd01:97::/112); "
        "give at most one per family" % N1,
        "cluster test-cluster1, node %s, cluster_service_cidr: lists 2 IPv6 values (fd01:96::/112, fd01:97::/112); "
        "give at most one per family" % N2,
        "cluster test-cluster1, node %s, node_mtu: 1200 is under 1280, the least any link carrying IPv6 may have, "
        "and the node has IPv6 addresses" % N1,
        "cluster test-cluster1, node %s, node_ip: fe80::31 is link-local (fe80::/10), which only reaches its own "
        "link; give a global or unique local (fd00::/8) address" % N2,
        "cluster test-cluster2, node %s, cluster_service_cidr: lists an IPv6 range, but cluster_pod_cidr has none; "
        "services of a family need pods of it: add an IPv6 range to cluster_pod_cidr or remove fd02:96::/112 here" % N3,
        "cluster test-cluster2, node %s, cluster_service_cidr: lists an IPv6 range, but cluster_pod_cidr has none; "
        "services of a family need pods of it: add an IPv6 range to cluster_pod_cidr or remove fd02:96::/112 here" % N4,
        "cluster test-cluster2, node %s, node_subnet: lists 2 IPv6 values (fd00:192:168::/64, fd00:1::/64); give at "
        "most one per family" % N3,
        "cluster test-cluster2, node %s, node_subnet: has no IPv6 subnet for node_ip fd00:192:168::44; list the "
        "subnet holding it" % N4,
    ])


def test_pod_cidrs_follow_the_clusters_families():
    """(Two IPv6 CIDRs on one node are the core's business only as overlaps; a role that reads them as
    spec.podCIDRs refuses more than one per family itself.)"""
    hostvars, groups = build(
        cluster={"test_cluster2": {"cluster_pod_cidr": "10.235.64.0/18", "cluster_service_cidr": "10.235.0.0/18"}},
        hosts={N1: {"node_pod_cidrs": ["10.234.111.0/24"]},
               N2: {"node_pod_cidrs": ["10.234.118.0/24", "fd01:10:0:12::/64", "fd01:10:0:13::/64"]},
               N3: {"node_pod_cidrs": ["10.235.88.0/24", "fd02:10:0:11::/64"]},
               N4: {"node_pod_cidrs": ["10.235.113.0/24"], "node_subnet": ["192.168.0.0/24", "fd00:44::/64"]}})
    assert sorted(core_lines(hostvars, groups)) == sorted([
        "cluster test-cluster1, node %s, node_pod_cidrs: has no IPv6 CIDR, but cluster test-cluster1's pods are IPv4 "
        "and IPv6 (cluster_pod_cidr 10.234.64.0/18,fd01:10::/56); list the node's IPv6 pod CIDR inside "
        "fd01:10::/56" % N1,
        "cluster test-cluster2, node %s, node_pod_cidrs: fd02:10:0:11::/64 is IPv6, but cluster_pod_cidr "
        "10.235.64.0/18 has no IPv6 range; the cluster's families are those of cluster_pod_cidr" % N3,
        "cluster test-cluster2, node %s, node_ip: fd00:192:168::44 is outside node_subnet fd00:44::/64" % N4,
    ])


def test_overlaps_are_checked_per_family():
    # The same bits in the other family overlap nothing: 10.234.0.0/16 is not ::a ea:0/112.
    hostvars, groups = build(
        cluster={"test_cluster2": {"cluster_pod_cidr": "10.235.64.0/18,fd01:10:0:80::/57"}},
        hosts={N3: {"node_pod_cidrs": ["10.235.88.0/24", "fd01:10:0:81::/64"]},
               N4: {"node_pod_cidrs": ["10.235.113.0/24", "fd01:10:0:11::/64"], "node_ip": [
                   "192.168.0.44", "fd00:192:168::21"]}})
    lines = core_lines(hostvars, groups)
    assert sorted(lines) == sorted([
        "cluster test-cluster2, cluster_pod_cidr: fd01:10:0:80::/57 overlaps cluster_pod_cidr fd01:10::/56 of "
        "cluster test-cluster1",
        "cluster test-cluster2, node %s, node_pod_cidrs: fd01:10:0:11::/64 is outside cluster_pod_cidr "
        "fd01:10:0:80::/57" % N4,
        "cluster test-cluster2, node %s, node_pod_cidrs: fd01:10:0:11::/64 overlaps fd01:10:0:11::/64 of node %s"
        % (N4, N1),
        "cluster test-cluster2, node %s, node_ip: fd00:192:168::21 is also used by node %s (cluster test-cluster1)"
        % (N4, N1),
    ]), lines
    assert addresses.overlapping_pairs([("10.234.0.0/16", 1), ("::aea:0/112", 2)]) == []
    assert not addresses.within("::aea:1/128", "10.234.0.0/16")


@pytest.mark.parametrize("cni, node_cidr, problem", [
    ("calico", "fd01:10:0:11::/64", "fd01:10:0:11::/64: calico takes an IPv6 node pod CIDR of /116 to /128"),
    ("flannel", "fd01:10:0:11::/127", "fd01:10:0:11::/127: flannel takes an IPv6 node pod CIDR of /1 to /126"),
    ("calico", "fd01:10:0:11::/122", None),
    ("kube-router", "fd01:10:0:11::/127", None),
])
def test_ipv6_node_prefix_lengths_the_cni_refuses(cni, node_cidr, problem):
    hostvars, groups = build(cni=cni, hosts={N1: {"node_pod_cidrs": ["10.234.111.0/24", node_cidr]}},
                             cluster={"test_cluster2": {"cluster_cni": "calico"}})
    # the other nodes' /64s are Calico's problem too, left aside here
    lines = [line for line in core_lines(hostvars, groups) if "node %s," % N1 in line]
    assert lines == ([] if problem is None else ["cluster test-cluster1, node %s, node_pod_cidrs: %s" % (N1, problem)])


def test_existing_ipv4_inventories_read_as_before():
    hostvars, groups = inv.build()
    fabric = model.read(hostvars, groups)
    assert fabric.problems() == []
    assert all(n.families == (4,) and len(n.ips) == 1 for n in fabric.nodes.values())
    assert fabric.nodes[N1].ip == "192.168.0.21" and fabric.nodes[N1].subnet == "192.168.0.0/24"


def test_a_facet_refuses_the_families_it_does_not_handle():
    fabric = model.read(*build())
    fabric.groups["vxlan_mesh"] = "mesh_nodes"
    found = [str(e) for e in core.family_problems(fabric, "vxlan_mesh", (4,)) if e.cluster == C1]
    why = ("vxlan_mesh does not handle IPv6 yet; leave this cluster out of group mesh_nodes or give it IPv4 only")
    assert found == ["cluster test-cluster1, cluster_pod_cidr: 10.234.64.0/18,fd01:10::/56: " + why,
                     "cluster test-cluster1, cluster_service_cidr: 10.234.0.0/18,fd01:96::/112: " + why]
    assert core.family_problems(fabric, "vxlan_mesh", (4, 6)) == []
