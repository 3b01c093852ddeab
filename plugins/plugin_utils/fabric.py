# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core facet of the model: clusters and nodes read from an ordinary Ansible inventory.

Clusters are groups that set ``cluster_name``; nodes are their hosts. A node's values come
only from inventory data (``hostvars`` and ``groups``), never from gathered facts or from
which hosts are in the play, so ``--limit`` cannot change what any node gets.

Values are held as canonical strings and ints, so a loaded Fabric is plain data: it
round-trips through a JSON document (to_document / from_document) without parsing again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .addresses import contains, ip_int, net_key, net_range, overlapping_pairs, within
from .errors import FabricError
from .reader import is_dns_label

NAME = "core"
CNIS = ("calico", "canal", "flannel", "kube-router")
MIN_IPV4_MTU = 68
VARIABLES = {"node_interface": "eth0", "node_mtu": 1500}
CLUSTER_FIELDS = (("cluster_pod_cidr", "pod_cidr"), ("cluster_service_cidr", "service_cidr"),
                  ("cluster_cni", "cni"), ("cluster_kubeconfig", "kubeconfig"))


@dataclass(frozen=True)
class Cluster:
    name: str
    pod_cidr: str
    service_cidr: str
    cni: str
    kubeconfig: Optional[str] = None  # controller path; set => manifests are applied


@dataclass(frozen=True)
class Node:
    host: str
    cluster: str
    ip: str
    interface: str
    subnet: str
    mtu: int
    pod_cidrs: Tuple[str, ...]


@dataclass
class Fabric:
    clusters: Dict[str, Cluster] = field(default_factory=dict)
    nodes: Dict[str, Node] = field(default_factory=dict)
    groups: Dict[str, str] = field(default_factory=dict)         # facet -> inventory group
    members: Dict[str, List[str]] = field(default_factory=dict)  # facet -> hosts of that group
    facets: Dict[str, dict] = field(default_factory=dict)        # facet -> {host: settings}
    errors: List[FabricError] = field(default_factory=list)

    def cluster_nodes(self, cluster):
        return [n for h, n in sorted(self.nodes.items()) if n.cluster == cluster]

    def facet_nodes(self, facet):
        """Nodes of the facet's group whose settings were read, in host order."""
        settings = self.facets.get(facet, {})
        return [self.nodes[h] for h in self.members.get(facet, []) if h in self.nodes and h in settings]

    def settings(self, facet, host):
        try:
            return self.facets[facet][host]
        except KeyError:
            raise KeyError("%s is not a node of %s (group %s)" % (host, facet, self.groups.get(facet, facet)))

    def pod_rank(self):
        """{pod CIDR: position in address order}, computed once per loaded model, so each node's
        routes sort by a lookup instead of parsing every destination again."""
        rank = self.__dict__.get("_pod_rank")
        if rank is None:
            cidrs = sorted((c for n in self.nodes.values() for c in n.pod_cidrs), key=net_key)
            rank = self.__dict__["_pod_rank"] = dict((c, i) for i, c in enumerate(cidrs))
        return rank

    def problems(self, facets=None):
        """Problems of the core and of `facets` (None: every facet), as FabricErrors."""
        wanted = None if facets is None else set(facets) | {NAME}
        return sorted(set(e for e in self.errors if wanted is None or e.facet in wanted))


def read_cluster(reader):
    """The cluster as this host sees it (group vars merged into host vars)."""
    name = reader.raw("cluster_name")
    pod = reader.network("cluster_pod_cidr")
    service = reader.network("cluster_service_cidr")
    cni = reader.choice("cluster_cni", CNIS)
    if name is not None and not is_dns_label(str(name)):
        reader.error("cluster_name", "%r must be a DNS-1123 label (lower-case letters, digits, '-'); "
                     "it names Kubernetes resources" % (name,))
        name = None
    kubeconfig = reader.raw("cluster_kubeconfig", required=False)
    if None in (name, pod, service, cni):
        return None
    return Cluster(str(name), pod, service, cni, str(kubeconfig) if kubeconfig else None)


def read_node(reader):
    ip = reader.address("node_ip")
    interface = reader.ifname("node_interface")
    subnet = reader.network("node_subnet")
    mtu = reader.integer("node_mtu", MIN_IPV4_MTU, 65535)
    if ip is not None and subnet is not None:
        first, last = net_range(subnet)
        if not contains(subnet, ip):
            reader.error("node_ip", "%s is outside node_subnet %s" % (ip, subnet))
        elif last - first > 1 and ip_int(ip) in (first, last):
            reader.error("node_ip", "%s is the network or broadcast address of node_subnet %s" % (ip, subnet))
    pod_cidrs = read_pod_cidrs(reader)
    if None in (ip, interface, subnet, mtu, pod_cidrs):
        return None, mtu
    return Node(reader.host, reader.cluster, ip, interface, subnet, mtu, pod_cidrs), mtu


def read_pod_cidrs(reader):
    value = reader.raw("node_pod_cidrs")
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        reader.error("node_pod_cidrs", "must be a list of CIDRs, got %r" % (value,))
        return None
    if not value:
        reader.error("node_pod_cidrs", "is empty; a node needs at least one pod CIDR")
        return None
    nets = [reader.network("node_pod_cidrs", value=v) for v in value]
    if None in nets:
        return None
    return tuple(nets)


def add_host(fabric, reader, seen_clusters):
    """Read one host's cluster and node into the fabric; never drop a node silently.
    Returns the node_mtu read, which facets need even when the node could not be read."""
    before = len(fabric.errors)
    cluster = read_cluster(reader)
    if cluster is not None:
        first_host, first = seen_clusters.setdefault(cluster.name, (reader.host, cluster))
        for variable, attr in CLUSTER_FIELDS:
            if getattr(first, attr) != getattr(cluster, attr):
                reader.error(variable, "%s differs from %s on node %s of the same cluster; set "
                             "cluster variables on the cluster group"
                             % (getattr(cluster, attr), getattr(first, attr), first_host))
        fabric.clusters.setdefault(cluster.name, cluster)
    node, mtu = read_node(reader)
    if node is not None and cluster is not None:
        fabric.nodes[reader.host] = node
    elif len(fabric.errors) == before:
        reader.error("node", "could not be read (no other problem was found)")
    return mtu


def check(fabric):
    """Checks across clusters and nodes."""
    ranges = []
    for cluster in fabric.clusters.values():
        ranges.append((cluster.pod_cidr, (cluster, "cluster_pod_cidr")))
        ranges.append((cluster.service_cidr, (cluster, "cluster_service_cidr")))
    for (n1, (c1, v1)), (n2, (c2, v2)) in overlapping_pairs(ranges):
        fabric.errors.append(FabricError(c2.name, "", v2, "%s overlaps %s %s of cluster %s"
                                         % (n2, v1, n1, c1.name)))
    owned = []
    for node in fabric.nodes.values():
        cluster = fabric.clusters.get(node.cluster)
        for cidr in node.pod_cidrs:
            owned.append((cidr, node))
            if cluster is not None and not within(cidr, cluster.pod_cidr):
                fabric.errors.append(FabricError(node.cluster, node.host, "node_pod_cidrs",
                                                 "%s is outside cluster_pod_cidr %s" % (cidr, cluster.pod_cidr)))
    for (c1, n1), (c2, n2) in overlapping_pairs(owned):
        fabric.errors.append(FabricError(n2.cluster, n2.host, "node_pod_cidrs",
                                         "%s overlaps %s of node %s" % (c2, c1, n1.host)))
    report_duplicates(fabric, fabric.nodes.values(), "node_ip", lambda n: n.ip)


def report_duplicates(fabric, nodes, variable, key, facet=NAME):
    first = {}
    for node in sorted(nodes, key=lambda n: n.host):
        value = key(node)
        if value in first:
            fabric.errors.append(FabricError(
                node.cluster, node.host, variable, "%s is also used by node %s (cluster %s)"
                % (value, first[value].host, first[value].cluster), facet))
        else:
            first[value] = node


def report_disagreement(fabric, nodes, variable, key, facet):
    nodes = sorted(nodes, key=lambda n: n.host)
    for node in nodes[1:]:
        if key(node) != key(nodes[0]):
            fabric.errors.append(FabricError(
                node.cluster, node.host, variable,
                "%s differs from %s on node %s; every node of group %s must use the same value"
                % (key(node), key(nodes[0]), nodes[0].host, fabric.groups.get(facet, facet)), facet))


# --- the document form: what travels through Ansible as one JSON string -------------------

def to_document(fabric, settings_to_dict):
    return {
        "clusters": dict((n, list(c.__dict__.values())) for n, c in fabric.clusters.items()),
        "nodes": dict((h, list(n.__dict__.values())) for h, n in fabric.nodes.items()),
        "groups": dict(fabric.groups),
        "members": dict(fabric.members),
        "facets": dict((facet, dict((h, settings_to_dict(facet, s)) for h, s in per_host.items()))
                       for facet, per_host in fabric.facets.items()),
        "errors": [[e.cluster, e.node, e.variable, e.message, e.facet] for e in fabric.errors],
    }


def from_document(doc, settings_from_dict):
    fabric = Fabric(groups=dict(doc["groups"]), members=dict(doc["members"]))
    fabric.clusters = dict((n, Cluster(*values)) for n, values in doc["clusters"].items())
    fabric.nodes = dict((h, Node(*values[:6], tuple(values[6]))) for h, values in doc["nodes"].items())
    fabric.facets = dict((facet, dict((h, settings_from_dict(facet, s)) for h, s in per_host.items()))
                         for facet, per_host in doc["facets"].items())
    fabric.errors = [FabricError(*e) for e in doc["errors"]]
    return fabric
