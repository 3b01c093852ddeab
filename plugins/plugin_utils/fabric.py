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

from .addresses import NAMES, contains, families, family, ip_int, net_key, net_range, of_family, overlapping_pairs, within
from .errors import FabricError
from .reader import is_dns_label

NAME = "core"
CNIS = ("calico", "canal", "flannel", "kube-router")
MIN_IPV4_MTU = 68
MIN_IPV6_MTU = 1280  # RFC 8200: every link carrying IPv6
VARIABLES = {"node_interface": "eth0", "node_mtu": 1500}
# Prefix lengths each CNI accepts for a node's IPv6 pod CIDR: Calico's IPv6 block sizes, flannel's
# IPv6SubnetLen (room for a tunnel and a bridge address).
IPV6_NODE_PREFIX = {"calico": (116, 128), "canal": (1, 126), "flannel": (1, 126)}
CLUSTER_FIELDS = (("cluster_pod_cidr", "pod_cidrs"), ("cluster_service_cidr", "service_cidrs"),
                  ("cluster_cni", "cni"), ("cluster_kubeconfig", "kubeconfig"), ("cluster_kube_context", "context"),
                  ("cluster_render_only", "render_only"))
# How a run reaches each cluster's API. They may resolve per job (an AWX credential's file, an
# environment lookup), so a model read ahead of the job (the inventory plugin's) leaves them out
# and the run fills them in (with_access).
ACCESS_VARIABLES = ("cluster_kubeconfig", "cluster_kube_context", "cluster_render_only")


@dataclass(frozen=True)
class Cluster:
    name: str
    pod_cidrs: Tuple[str, ...]      # one per family, the primary first
    service_cidrs: Tuple[str, ...]  # one per family of pod_cidrs at most
    cni: str
    kubeconfig: Optional[str] = None  # controller path
    context: Optional[str] = None     # a context of the kubeconfig (or of K8S_AUTH_KUBECONFIG's)
    render_only: bool = False         # the user asked for manifests only: the API is never called

    @property
    def api(self):
        """The run applies this cluster's objects through its API."""
        return bool(self.kubeconfig or self.context) and not self.render_only

    @property
    def pod_cidr(self):
        """The primary family's pod CIDR."""
        return self.pod_cidrs[0]

    @property
    def service_cidr(self):
        return self.service_cidrs[0]

    @property
    def families(self):
        """The pod network's families (4, 6), the primary first."""
        return families(self.pod_cidrs)

    def pod_cidr_of(self, version):
        return of_family(self.pod_cidrs, version)

    def service_cidr_of(self, version):
        return of_family(self.service_cidrs, version)


class Underlay:
    """A host's underlay addresses (`ips`, one per family, the primary first) and the subnet of
    each (`subnets`, in the same order): nodes, and the routers and clients around them."""

    @property
    def ip(self):
        """The primary underlay address."""
        return self.ips[0]

    @property
    def subnet(self):
        return self.subnets[0]

    @property
    def families(self):
        """The underlay's families, the primary first."""
        return families(self.ips)

    def ip_of(self, version):
        return of_family(self.ips, version)

    def subnet_of(self, version):
        return of_family(self.subnets, version)


@dataclass(frozen=True)
class Node(Underlay):
    host: str
    cluster: str
    ips: Tuple[str, ...]      # underlay addresses, one per family, the primary first
    interface: str
    subnets: Tuple[str, ...]  # the underlay subnet of each of ips, in the same order
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
        """Problems of `facets` (None: every facet), and the core's problems of their nodes and
        clusters, as FabricErrors. A cluster outside a role's group neither belongs to that role's
        fabric nor blocks it; a problem that names no cluster blocks every role."""
        if facets is None:
            return sorted(set(self.errors))
        wanted = set(facets)
        hosts = set().union(*(self.members.get(f, ()) for f in wanted)) if wanted else set()
        clusters = set(self.nodes[h].cluster for h in hosts if h in self.nodes)
        clusters |= set(e.cluster for e in self.errors if e.node in hosts and e.cluster)

        def counts(error):
            if error.facet != NAME:
                return error.facet in wanted
            return error.node in hosts if error.node else (not error.cluster or error.cluster in clusters)
        return sorted(set(e for e in self.errors if counts(e)))

    def core_problems(self):
        """The core's problems of every node (what the lab needs to build the nodes)."""
        return sorted(set(e for e in self.errors if e.facet == NAME))


def read_cluster(reader):
    """The cluster as this host sees it (group vars merged into host vars)."""
    name = reader.raw("cluster_name")
    pod = reader.per_family("cluster_pod_cidr", reader.network)
    service = reader.per_family("cluster_service_cidr", reader.network)
    cni = reader.choice("cluster_cni", CNIS)
    if name is not None and not is_dns_label(str(name)):
        reader.error("cluster_name", "%r must be a DNS-1123 label (lower-case letters, digits, '-'); "
                     "it names Kubernetes resources" % (name,))
        name = None
    kubeconfig, context, render_only = read_access(reader)
    if pod is not None and service is not None:
        extra = [v for v in families(service) if v not in families(pod)]
        for version in extra:
            reader.error("cluster_service_cidr", "lists an %s range, but cluster_pod_cidr has none; services of a "
                         "family need pods of it: add an %s range to cluster_pod_cidr or remove %s here"
                         % (NAMES[version], NAMES[version], of_family(service, version)))
        if extra:
            service = None
    if None in (name, pod, service, cni):
        return None
    return Cluster(str(name), pod, service, cni, kubeconfig, context, render_only)


def read_access(reader):
    """(kubeconfig, context, render_only) of the host's cluster."""
    kubeconfig = reader.raw("cluster_kubeconfig", required=False)
    context = reader.raw("cluster_kube_context", required=False)
    render_only = reader.boolean("cluster_render_only") if reader.is_set("cluster_render_only") else False
    return (str(kubeconfig) if kubeconfig else None, str(context) if context else None, render_only)


def api_access(cluster):
    """What a cluster-side task needs to reach the cluster: {kubeconfig, context, api}."""
    return {"kubeconfig": cluster.kubeconfig, "context": cluster.context, "api": cluster.api}


def access_problems(fabric, clusters, why):
    """A cluster whose API a role needs, with no way to reach it and no word that only rendering
    is wanted."""
    message = ("is not set, nor cluster_kube_context, and %s needs the cluster's API; give the cluster's kubeconfig "
               "(or a context of the kubeconfig in K8S_AUTH_KUBECONFIG), or set cluster_render_only: true to only "
               "render the manifests" % why)
    return [FabricError(name, "", "cluster_kubeconfig", message) for name in sorted(clusters)
            if name in fabric.clusters and not fabric.clusters[name].api and not fabric.clusters[name].render_only]


def read_node(reader):
    ips = reader.per_family("node_ip", reader.address)
    interface = reader.ifname("node_interface")
    subnets = reader.per_family("node_subnet", reader.network)
    mtu = reader.integer("node_mtu", MIN_IPV4_MTU, 65535)
    if ips is not None and subnets is not None:
        subnets = underlay_subnets(reader, ips, subnets)
    pod_cidrs = read_pod_cidrs(reader)
    if mtu is not None and mtu < MIN_IPV6_MTU and 6 in families((ips or ()) + (pod_cidrs or ())):
        reader.error("node_mtu", "%d is under %d, the least any link carrying IPv6 may have, and the node has IPv6 "
                     "addresses" % (mtu, MIN_IPV6_MTU))
    if None in (ips, interface, subnets, mtu, pod_cidrs):
        return None, mtu
    return Node(reader.host, reader.cluster, ips, interface, subnets, mtu, pod_cidrs), mtu


def underlay_subnets(reader, ips, subnets, ip_var="node_ip", subnet_var="node_subnet"):
    """node_subnet ordered like node_ip, one per family (or another host's pair of variables); None
    with the problems recorded."""
    ordered = []
    for ip in ips:
        subnet = of_family(subnets, family(ip))
        if subnet is None:
            reader.error(subnet_var, "has no %s subnet for %s %s; list the subnet holding it"
                         % (NAMES[family(ip)], ip_var, ip))
            continue
        first, last = net_range(subnet)
        if not contains(subnet, ip):
            reader.error(ip_var, "%s is outside %s %s" % (ip, subnet_var, subnet))
        elif family(ip) == 4 and last - first > 1 and ip_int(ip) in (first, last):
            reader.error(ip_var, "%s is the network or broadcast address of %s %s" % (ip, subnet_var, subnet))
        elif family(ip) == 6 and last > first and ip_int(ip) == first:
            reader.error(ip_var, "%s is the Subnet-Router anycast address of %s %s" % (ip, subnet_var, subnet))
        ordered.append(subnet)
    for subnet in subnets:
        if of_family(ips, family(subnet)) is None:
            reader.error(subnet_var, "%s is %s, but %s has no %s address; give the host's address in it or "
                         "leave it out" % (subnet, NAMES[family(subnet)], ip_var, NAMES[family(subnet)]))
    return tuple(ordered) if len(ordered) == len(ips) == len(subnets) else None


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
    nets = [reader.network("node_pod_cidrs", value=v, versions=(4, 6)) for v in value]
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
                             % (listed(getattr(cluster, attr)), listed(getattr(first, attr)), first_host))
        fabric.clusters.setdefault(cluster.name, cluster)
    node, mtu = read_node(reader)
    if node is not None and cluster is not None:
        fabric.nodes[reader.host] = node
    elif len(fabric.errors) == before:
        reader.error("node", "could not be read (no other problem was found)")
    return mtu


def listed(value):
    """A value as the inventory lists it: one per family, comma-separated."""
    return ",".join(value) if isinstance(value, tuple) else value


def check(fabric):
    """Checks across clusters and nodes."""
    ranges = []
    for cluster in fabric.clusters.values():
        ranges.extend((cidr, (cluster, "cluster_pod_cidr")) for cidr in cluster.pod_cidrs)
        ranges.extend((cidr, (cluster, "cluster_service_cidr")) for cidr in cluster.service_cidrs)
    for (n1, (c1, v1)), (n2, (c2, v2)) in overlapping_pairs(ranges):
        fabric.errors.append(FabricError(c2.name, "", v2, "%s overlaps %s %s of cluster %s"
                                         % (n2, v1, n1, c1.name)))
    owned = []
    for node in fabric.nodes.values():
        owned.extend((cidr, node) for cidr in node.pod_cidrs)
        cluster = fabric.clusters.get(node.cluster)
        if cluster is not None:
            fabric.errors.extend(pod_cidr_problems(node, cluster))
    for (c1, n1), (c2, n2) in overlapping_pairs(owned):
        fabric.errors.append(FabricError(n2.cluster, n2.host, "node_pod_cidrs",
                                         "%s overlaps %s of node %s" % (c2, c1, n1.host)))
    report_duplicates(fabric, fabric.nodes.values(), "node_ip", lambda n: n.ips)
    check_underlay(fabric)


def pod_cidr_problems(node, cluster):
    """A node's pod CIDRs against its cluster's: inside the range of their family, every family of the
    cluster present, and prefix lengths the cluster's CNI accepts."""
    def problem(message):
        return FabricError(node.cluster, node.host, "node_pod_cidrs", message)
    found = []
    for cidr in node.pod_cidrs:
        outer = cluster.pod_cidr_of(family(cidr))
        if outer is None:
            found.append(problem("%s is %s, but cluster_pod_cidr %s has no %s range; the cluster's families are "
                                 "those of cluster_pod_cidr" % (cidr, NAMES[family(cidr)], listed(cluster.pod_cidrs),
                                                                NAMES[family(cidr)])))
        elif not within(cidr, outer):
            found.append(problem("%s is outside cluster_pod_cidr %s" % (cidr, outer)))
        elif family(cidr) == 6 and cluster.cni in IPV6_NODE_PREFIX:
            low, high = IPV6_NODE_PREFIX[cluster.cni]
            if not low <= int(cidr.split("/")[1]) <= high:
                found.append(problem("%s: %s takes an IPv6 node pod CIDR of /%d to /%d" % (
                    cidr, cluster.cni, low, high)))
    for version in cluster.families:
        if of_family(node.pod_cidrs, version) is None:
            found.append(problem("has no %s CIDR, but cluster %s's pods are %s (cluster_pod_cidr %s); list the "
                                 "node's %s pod CIDR inside %s" % (
                                     NAMES[version], cluster.name, " and ".join(NAMES[v] for v in cluster.families),
                                     listed(cluster.pod_cidrs), NAMES[version], cluster.pod_cidr_of(version))))
    return found


def family_address_problems(fabric, cluster, nodes, facet, carrier):
    """A role that carries each pod family over the nodes' addresses of that family: every node
    needs a node_ip in each of its cluster's pod families. `carrier`: who carries them, for the
    message (e.g. "Calico peers and routes them")."""
    found = []
    for node in nodes:
        for version in fabric.clusters[cluster].families:
            if node.ip_of(version) is None:
                found.append(FabricError(cluster, node.host, "node_ip", (
                    "has no %s address, but the cluster has %s pods (cluster_pod_cidr %s): %s over the nodes' %s "
                    "addresses. Add the node's %s address to node_ip"
                    % (NAMES[version], NAMES[version], fabric.clusters[cluster].pod_cidr_of(version), carrier,
                       NAMES[version], NAMES[version])), facet))
    return found


def pod_cidrs_problems(fabric, node, facet):
    """A role that reads a node's pod CIDRs as its Node's spec.podCIDRs (flannel, kube-router):
    at most one per family, as Kubernetes holds them."""
    found = []
    for version in families(node.pod_cidrs):
        same = [c for c in node.pod_cidrs if family(c) == version]
        if len(same) > 1:
            found.append(FabricError(node.cluster, node.host, "node_pod_cidrs", (
                "lists %d %s CIDRs (%s); %s reads them as the Node's spec.podCIDRs, which hold one per family: "
                "list that one" % (len(same), NAMES[version], ", ".join(same), facet)), facet))
    return found


def check_underlay(fabric):
    """Underlay subnets against each other and against the clusters' pod and service ranges: a
    route to a pod range that covers an underlay subnet takes the nodes' own traffic."""
    subnets = {}
    for node in sorted(fabric.nodes.values(), key=lambda n: n.host):
        for subnet in node.subnets:
            subnets.setdefault(subnet, node)
    for (s1, n1), (s2, n2) in overlapping_pairs(list(subnets.items())):
        fabric.errors.append(FabricError(n2.cluster, n2.host, "node_subnet", (
            "%s overlaps node_subnet %s of node %s (cluster %s); nodes of one underlay subnet must give "
            "the same node_subnet, and different subnets must not overlap" % (s2, s1, n1.host, n1.cluster))))
    ranges = [(net, ("node", node)) for net, node in subnets.items()]
    for cluster in sorted(fabric.clusters.values(), key=lambda c: c.name):
        ranges.extend((cidr, ("cluster_pod_cidr", cluster)) for cidr in cluster.pod_cidrs)
        ranges.extend((cidr, ("cluster_service_cidr", cluster)) for cidr in cluster.service_cidrs)
    for (a, (kind_a, what_a)), (b, (kind_b, what_b)) in overlapping_pairs(ranges):
        if (kind_a == "node") == (kind_b == "node"):
            continue  # node against node is above, cluster against cluster in check()
        (net, variable, cluster), (subnet, node) = (
            ((b, kind_b, what_b), (a, what_a)) if kind_a == "node" else ((a, kind_a, what_a), (b, what_b)))
        fabric.errors.append(FabricError(cluster.name, "", variable, (
            "%s overlaps node_subnet %s of node %s (cluster %s), an underlay subnet; pick a range "
            "outside every node subnet" % (net, subnet, node.host, node.cluster))))


def check_cluster_groups(fabric, cluster_groups, groups):
    """From the groups, not the merged vars: a host in two groups that each set cluster_name
    (Ansible would silently pick one), and one cluster_name set by two unrelated groups.
    `cluster_groups` is {group: the cluster_name it sets itself}; a group nested in another
    (its hosts a subset) overrides it, as Ansible's precedence does."""
    hosts_of = dict((g, set(groups.get(g) or ())) for g in cluster_groups)
    nodes = set(fabric.nodes) | set().union(*fabric.members.values()) if fabric.members else set(fabric.nodes)
    for host in sorted(nodes):
        mine = [g for g in sorted(cluster_groups) if host in hosts_of[g]]
        nearest = [g for g in mine if not any(o != g and hosts_of[o] < hosts_of[g] for o in mine)]
        if len(set(cluster_groups[g] for g in nearest)) > 1:
            fabric.errors.append(FabricError(
                fabric.nodes[host].cluster if host in fabric.nodes else "", host, "cluster_name",
                "the host is in groups %s, which set different cluster_names (%s); a node belongs to "
                "one cluster: take it out of all but one of these groups"
                % (", ".join(nearest), ", ".join(str(cluster_groups[g]) for g in nearest))))
    by_name = {}
    for group in sorted(cluster_groups):
        by_name.setdefault(str(cluster_groups[group]), []).append(group)
    for name, named in sorted(by_name.items()):
        unrelated = [g for g in named
                     if not any(o != g and (hosts_of[g] <= hosts_of[o] or hosts_of[o] <= hosts_of[g]) for o in named)]
        if len(named) > 1 and len(unrelated) > 1:
            fabric.errors.append(FabricError(name, "", "cluster_name", (
                "is set by groups %s; a cluster is one group: rename the cluster_name of all but one, "
                "or put the nodes under one group that sets it" % ", ".join(unrelated))))


def report_duplicates(fabric, nodes, variable, key, facet=NAME):
    """Values used by two nodes; `key` gives a node's value, or a tuple of them (one per family)."""
    first = {}
    for node in sorted(nodes, key=lambda n: n.host):
        values = key(node)
        for value in values if isinstance(values, tuple) else (values,):
            if value in first:
                fabric.errors.append(FabricError(
                    node.cluster, node.host, variable, "%s is also used by node %s (cluster %s)"
                    % (value, first[value].host, first[value].cluster), facet))
            else:
                first[value] = node


def family_problems(fabric, facet, handled):
    """The facet's clusters and nodes in an address family its role does not handle (`handled`:
    the families it does, 4 and 6), each named where it is set."""
    missing = [v for v in (4, 6) if v not in handled]
    if not missing:
        return []
    why = "%s does not handle %s yet; leave this cluster out of group %s or give it %s only" % (
        facet, " or ".join(NAMES[v] for v in missing), fabric.groups.get(facet, facet),
        " and ".join(NAMES[v] for v in handled))
    found = []
    for name in facet_clusters(fabric, facet):
        cluster, nodes = fabric.clusters[name], fabric.facet_nodes(facet)
        for variable, cidrs in (("cluster_pod_cidr", cluster.pod_cidrs), ("cluster_service_cidr", cluster.service_cidrs)):
            if set(families(cidrs)) - set(handled):
                found.append(FabricError(name, "", variable, "%s: %s" % (listed(cidrs), why), facet))
        for node in (n for n in nodes if n.cluster == name):
            if family(node.ip) not in handled:
                found.append(FabricError(name, node.host, "node_ip", "%s, the primary address, is %s: %s" % (
                    node.ip, NAMES[family(node.ip)], why), facet))
    return found


def facet_clusters(fabric, facet):
    """The clusters with a node in the facet's group."""
    return sorted({n.cluster for n in fabric.facet_nodes(facet)})


def facet_cluster_settings(fabric, cluster, facet):
    """The facet's settings of the cluster's first node (cluster-wide values agree, or the facet
    reports it)."""
    return next(fabric.facets[facet][n.host] for n in fabric.cluster_nodes(cluster) if n.host in fabric.facets[facet])


def flagged_nodes(fabric, cluster, facet, flag):
    """The cluster's nodes whose facet settings have `flag` set (e.g. route_reflector), in host order."""
    settings = fabric.facets.get(facet, {})
    return [n for n in fabric.cluster_nodes(cluster) if n.host in settings and getattr(settings[n.host], flag)]


def checked_clusters(fabric, facet, cni, cni_reason, group_reason):
    """(cluster, its nodes of the facet, their settings) per cluster of the facet, after reporting
    a cluster_cni other than `cni` and the cluster's nodes left out of the facet's group."""
    group = fabric.groups.get(facet, facet)
    members = set(fabric.members.get(facet, []))
    for name in facet_clusters(fabric, facet):
        nodes = [n for n in fabric.cluster_nodes(name) if n.host in fabric.facets[facet]]
        if fabric.clusters[name].cni != cni:
            fabric.errors.append(FabricError(name, nodes[0].host, "cluster_cni", "is %s; %s (cluster_cni: %s)"
                                             % (fabric.clusters[name].cni, cni_reason, cni), facet))
        left_out = [n.host for n in fabric.cluster_nodes(name) if n.host not in members]
        if left_out:
            fabric.errors.append(FabricError(name, left_out[0], group, "nodes %s of the cluster are not in group %s; %s"
                                             % (", ".join(left_out), group, group_reason), facet))
        yield name, nodes, facet_cluster_settings(fabric, name, facet)


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
    fabric.clusters = dict((n, Cluster(values[0], tuple(values[1]), tuple(values[2]), *values[3:]))
                           for n, values in doc["clusters"].items())
    fabric.nodes = dict((h, Node(h, values[1], tuple(values[2]), values[3], tuple(values[4]), values[5],
                                 tuple(values[6]))) for h, values in doc["nodes"].items())
    fabric.facets = dict((facet, dict((h, settings_from_dict(facet, s)) for h, s in per_host.items()))
                         for facet, per_host in doc["facets"].items())
    fabric.errors = [FabricError(*e) for e in doc["errors"]]
    return fabric
