# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vxlan_mesh facet (seed 002): its variables, checks, and one node's desired state."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Optional, Tuple

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.protocols import ROUTE_PROTOCOLS

from ..addresses import NAMES, contains, families, family, ip_int, net_range, of_family, overlaps
from .allocate import derive_vxlan_ip, derive_vxlan_mac
from ..errors import FabricError
from ..fabric import MIN_IPV4_MTU, MIN_IPV6_MTU, listed, report_disagreement, report_duplicates

NAME = "vxlan_mesh"
FAMILIES = (4, 6)
# Bytes vxlan adds to an inner frame, by underlay family (outer IP header 20 or 40, UDP 8, vxlan
# 8, inner Ethernet 14).
VXLAN_OVERHEAD = {4: 50, 6: 70}
UNDERLAYS = {"ipv4": 4, "ipv6": 6}
VARIABLES = {
    "vxlan_mesh_device": "vxlan-mesh",
    "vxlan_mesh_vni": 10001,
    "vxlan_mesh_port": 4789,
    "vxlan_mesh_direct_routing": False,
    "vxlan_mesh_verify_sample": "all",
}
MESH_ROUTE_PROTOCOL = ROUTE_PROTOCOLS["nodenet_mesh"]
# Device names that belong to a CNI, a container runtime or the kernel: (pattern, owner). A name
# ending in '*' is a prefix.
FOREIGN_DEVICES = (
    ("flannel.*", "flanneld's vxlan device"), ("flannel-wg*", "flanneld's wireguard device"),
    ("vxlan.calico", "Calico's vxlan device"), ("vxlan-v6.calico", "Calico's IPv6 vxlan device"),
    ("tunl0", "the kernel's ipip device (Calico ipip)"), ("cali*", "Calico's pod interfaces"),
    ("kube-*", "kube-router and kube-proxy (kube-bridge, kube-ipvs0, kube-dummy-if)"),
    ("cilium_*", "Cilium"), ("docker*", "Docker"), ("cni*", "the CNI bridge plugin (cni0)"),
    ("lo", "the loopback device"), ("veth*", "container veth pairs"), ("weave*", "Weave Net"),
    ("vxlan_sys_*", "Open vSwitch"), ("genev_sys_*", "Open vSwitch"), ("nodelocaldns", "NodeLocal DNSCache"),
)
FLANNEL_VXLAN_PORT = 8472  # flanneld's default, the kernel's historic vxlan port
CALICO_VXLAN = (4096, 4789)  # Calico's vxlan VNI and port (vxlan.calico and vxlan-v6.calico)


def foreign_owner(name):
    """Who owns a device of this name, or None."""
    for pattern, owner in FOREIGN_DEVICES:
        if name == pattern or (pattern.endswith("*") and name.startswith(pattern[:-1])):
            return owner
    return None


def cni_vxlan(reader):
    """(VNI, port, what) pairs the node's CNI already uses for its own vxlan device."""
    cni = reader.vars.get("cluster_cni")
    if cni in ("flannel", "canal"):
        vni = reader.raw("flannel_vni", required=False)
        try:
            return [(int(vni), FLANNEL_VXLAN_PORT, "flanneld's flannel.%s (flannel_vni)" % vni)]
        except (TypeError, ValueError):
            return []  # the host-gw facet names a bad flannel_vni
    if cni == "calico":
        return [CALICO_VXLAN + ("Calico's vxlan.calico",)]
    return []


@dataclass(frozen=True)
class MeshSettings:
    device: str
    vni: int
    port: int
    subnets: Tuple[str, ...]   # the overlay's subnet per family, the primary first
    mtu: Optional[int]         # explicit, or fitted to the underlay in check
    direct_routing: bool
    ips: Tuple[str, ...] = ()  # the node's addresses on the device: explicit ones, then (check) one per family it meshes
    mac: Optional[str] = None
    verify_sample: Optional[int] = None  # peers checked per cluster after the apply; None: all
    underlay: Optional[int] = None  # the underlay's family: explicit, or chosen in check

    def __post_init__(self):
        for name in ("subnets", "ips"):  # a loaded document gives lists
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def ip(self):
        """The primary address on the device."""
        return self.ips[0] if self.ips else None

    @property
    def subnet(self):
        return self.subnets[0]

    def ip_of(self, version):
        return of_family(self.ips, version)

    def subnet_of(self, version):
        return of_family(self.subnets, version)


SETTINGS = MeshSettings


def read(reader, node_mtu):
    """One mesh node's settings, or None when a value is bad (the reader has the errors). What
    depends on the other nodes (the underlay's family, the MTU that fits it, derived addresses)
    is settled in check()."""
    device = reader.ifname("vxlan_mesh_device")
    vni = reader.integer("vxlan_mesh_vni", 1, 16777215)
    port = reader.integer("vxlan_mesh_port", 1, 65535)
    subnets = reader.per_family("vxlan_mesh_subnet", reader.network)
    direct = reader.boolean("vxlan_mesh_direct_routing")
    mtu = reader.integer("vxlan_mesh_mtu", MIN_IPV4_MTU, 65535, required=False) if reader.is_set("vxlan_mesh_mtu") \
        else None
    underlay = reader.choice("vxlan_mesh_underlay", tuple(UNDERLAYS), required=False)
    if device is not None and foreign_owner(device):
        reader.error("vxlan_mesh_device", "%s is the name of %s; the mesh never takes over a device it does "
                     "not own: choose another name (the default is %s)"
                     % (device, foreign_owner(device), VARIABLES["vxlan_mesh_device"]))
        device = None
    if vni is not None and port is not None:
        for other_vni, other_port, what in cni_vxlan(reader):
            if (vni, port) == (other_vni, other_port):
                reader.error("vxlan_mesh_vni", "VNI %d on port %d is what %s uses on this node, and the kernel "
                             "allows one device per VNI and port: change vxlan_mesh_vni or vxlan_mesh_port"
                             % (vni, port, what))
                vni = None
    sample = verify_sample(reader)
    before = len(reader.errors)
    ips = reader.per_family("vxlan_mesh_ip", reader.address, required=False) or ()
    mac = reader.mac("vxlan_mesh_mac")
    if None in (device, vni, port, subnets, node_mtu) or len(reader.errors) > before:
        return None  # a bad explicit vxlan value must not fall back to a derived one
    for subnet in subnets:
        first, last = net_range(subnet)
        if last - first < 3:
            reader.error("vxlan_mesh_subnet", "%s is too small for a mesh" % subnet)
            return None
    for ip in ips:
        if of_family(subnets, family(ip)) is None:
            reader.error("vxlan_mesh_ip", "%s is %s, but vxlan_mesh_subnet %s has no %s subnet" % (
                ip, NAMES[family(ip)], listed(subnets), NAMES[family(ip)]))
            return None
    return MeshSettings(device, vni, port, subnets, mtu, direct, ips, mac, sample, UNDERLAYS.get(underlay))


def verify_sample(reader):
    """`all` (None), or how many peers of each cluster a node pings after the apply."""
    if str(reader.raw("vxlan_mesh_verify_sample")).strip() == "all":
        return None
    return reader.integer("vxlan_mesh_verify_sample", 1, 65535)


def check(fabric):
    """Settle each node's underlay family, MTU and addresses (explicit values win), then check
    across nodes."""
    settings = fabric.facets.get(NAME, {})
    nodes = fabric.facet_nodes(NAME)
    for node in nodes[:1]:  # the subnets are the same on every node (checked below)
        check_families(fabric, nodes, settings[node.host].subnets, node)
    underlay = underlay_family(fabric, nodes, settings)
    for node in nodes:
        mesh = settings[node.host]
        fitted = fit(fabric, node, mesh, underlay)
        if fitted is None:
            del settings[node.host]
        else:
            settings[node.host] = fitted
    nodes = fabric.facet_nodes(NAME)
    for node in nodes:
        mesh = settings[node.host]
        for ip in mesh.ips:
            subnet = mesh.subnet_of(family(ip))
            first, last = net_range(subnet)
            if not contains(subnet, ip):
                fabric.errors.append(FabricError(node.cluster, node.host, "vxlan_mesh_ip", "%s is outside "
                                                 "vxlan_mesh_subnet %s" % (ip, subnet), NAME))
            elif ip_int(ip) == first or (family(ip) == 4 and ip_int(ip) == last):
                fabric.errors.append(FabricError(node.cluster, node.host, "vxlan_mesh_ip", "%s is the network or "
                                                 "broadcast address of %s" % (ip, subnet), NAME))
    for node in nodes[:1]:
        for subnet in settings[node.host].subnets:
            for cluster in fabric.clusters.values():
                for variable, nets in (("cluster_pod_cidr", cluster.pod_cidrs),
                                       ("cluster_service_cidr", cluster.service_cidrs)):
                    for net in nets:
                        if overlaps(subnet, net):
                            fabric.errors.append(FabricError(
                                node.cluster, node.host, "vxlan_mesh_subnet", "%s overlaps %s %s of cluster %s"
                                % (subnet, variable, net, cluster.name), NAME))
    check_underlay(fabric, nodes, settings)
    report_duplicates(fabric, nodes, "vxlan_mesh_ip", lambda n: settings[n.host].ips, NAME)
    report_duplicates(fabric, nodes, "vxlan_mesh_mac", lambda n: settings[n.host].mac, NAME)
    # Every endpoint must agree on what goes on the wire.
    for variable, attr in (("vxlan_mesh_vni", "vni"), ("vxlan_mesh_port", "port"),
                           ("vxlan_mesh_subnet", "subnets")):
        report_disagreement(fabric, nodes, variable, lambda n, a=attr: listed(getattr(settings[n.host], a)), NAME)


def underlay_family(fabric, nodes, settings):
    """The family the vxlan packets travel in: vxlan_mesh_underlay, else IPv4 where every mesh node
    has an IPv4 node_ip, else IPv6 where every one has an IPv6 one. None (reported) when the nodes
    share none, or a node lacks the family asked for."""
    asked = sorted(set(settings[n.host].underlay for n in nodes) - {None})
    if len(asked) > 1:
        report_disagreement(fabric, [n for n in nodes if settings[n.host].underlay], "vxlan_mesh_underlay",
                            lambda n: "ipv%d" % settings[n.host].underlay, NAME)
        return None
    if asked:
        version = asked[0]
        lacking = [n for n in nodes if n.ip_of(version) is None]
        for node in lacking:
            fabric.errors.append(FabricError(node.cluster, node.host, "node_ip", "has no %s address, and "
                                             "vxlan_mesh_underlay is ipv%d: every mesh node needs one" % (
                                                 NAMES[version], version), NAME))
        return None if lacking else version
    if all(n.ip_of(4) for n in nodes):
        return 4
    # Not chosen silently: a node without IPv4 joining an IPv4 mesh would move every node's device
    # to IPv6 (each one recreated).
    without = dict((v, [n.host for n in nodes if n.ip_of(v) is None]) for v in (4, 6))
    for node in nodes:
        if node.ip_of(4) is None:
            fabric.errors.append(FabricError(node.cluster, node.host, "node_ip", (
                "%s has no IPv4 address, so the mesh cannot travel over IPv4; %s" % (listed(node.ips), (
                    "set vxlan_mesh_underlay: ipv6 for an IPv6 underlay (every mesh node has an IPv6 node_ip)"
                    if not without[6] else "nor can it over IPv6: %s have no IPv6 node_ip. Give every mesh node "
                    "an address in one family" % ", ".join(without[6])))), NAME))
    return None


def fit(fabric, node, mesh, underlay):
    """The node's settings with the underlay family, the MTU fitted to it and an address on the
    device per family its cluster's pods have; None (reported) when they do not fit."""
    if underlay is None:
        return None
    problems = len(fabric.errors)

    def problem(variable, message):
        fabric.errors.append(FabricError(node.cluster, node.host, variable, message, NAME))
    cluster = fabric.clusters[node.cluster]
    meshed = [v for v in families(mesh.subnets) if v in cluster.families]
    if not meshed:
        return None  # no mesh subnet of its pods' families: check_families says so
    overhead = VXLAN_OVERHEAD[underlay]
    room = node.mtu - overhead
    least = MIN_IPV6_MTU if 6 in meshed else MIN_IPV4_MTU
    mtu = mesh.mtu if mesh.mtu is not None else room
    if room < least:
        problem("node_mtu", "%d leaves no room for the %d-byte vxlan overhead over %s (needs >= %d%s)" % (
            node.mtu, overhead, NAMES[underlay], least + overhead, ", for IPv6 inside" if least == MIN_IPV6_MTU else ""))
    elif mtu > room:
        problem("vxlan_mesh_mtu", "%d leaves no room for the %d-byte vxlan overhead over %s on node_mtu %d (at most "
                "%d)" % (mtu, overhead, NAMES[underlay], node.mtu, room))
    elif mtu < least:
        problem("vxlan_mesh_mtu", "%d is under %d, the least a link carrying IPv6 may have, and the device carries "
                "the cluster's IPv6 pods" % (mtu, least))
    ips = []
    for version in meshed:
        ip = mesh.ip_of(version) or derive_vxlan_ip(node.ip_of(version) or node.ip, mesh.subnet_of(version))
        if ip is None:
            problem("vxlan_mesh_ip", "deriving it from node_ip %s gives the network or broadcast address of "
                    "vxlan_mesh_subnet %s; set vxlan_mesh_ip explicitly" % (
                        node.ip_of(version) or node.ip, mesh.subnet_of(version)))
        ips.append(ip)
    for ip in mesh.ips:
        if family(ip) not in meshed:
            problem("vxlan_mesh_ip", "%s is %s, but cluster %s has no %s pods; the node meshes %s only" % (
                ip, NAMES[family(ip)], node.cluster, NAMES[family(ip)], " and ".join(NAMES[v] for v in meshed)))
    if len(fabric.errors) > problems:
        return None
    return replace(mesh, ips=tuple(ips), mtu=mtu, underlay=underlay, mac=mesh.mac or derive_vxlan_mac(ips[0]))


def check_families(fabric, nodes, subnets, first):
    """Each family of the meshed clusters' pods needs a mesh subnet, and each mesh subnet a cluster
    whose pods it carries."""
    pods = {}
    for node in nodes:
        for version in fabric.clusters[node.cluster].families:
            pods.setdefault(version, [])
            if node.cluster not in pods[version]:
                pods[version].append(node.cluster)
    for version, clusters in sorted(pods.items()):
        if of_family(subnets, version) is not None:
            continue
        for cluster in clusters:
            fabric.errors.append(FabricError(cluster, "", "vxlan_mesh_subnet", (
                "%s has no %s subnet, and cluster %s's pods are %s (cluster_pod_cidr %s): add an %s subnet to "
                "vxlan_mesh_subnet, or leave the cluster out of group %s" % (
                    listed(subnets), NAMES[version], cluster, NAMES[version],
                    listed(fabric.clusters[cluster].pod_cidrs), NAMES[version], fabric.groups.get(NAME, NAME))), NAME))
    for subnet in subnets:
        if family(subnet) not in pods:
            fabric.errors.append(FabricError(first.cluster, first.host, "vxlan_mesh_subnet", (
                "%s is %s, but no cluster of the mesh has %s pods; leave it out" % (
                    subnet, NAMES[family(subnet)], NAMES[family(subnet)])), NAME))


def check_underlay(fabric, nodes, settings):
    """The mesh against the underlay: its subnet against every node_subnet (derived vxlan IPs
    would equal node IPs), and its device against every node's underlay interface."""
    interfaces = {}
    for node in sorted(fabric.nodes.values(), key=lambda n: n.host):
        interfaces.setdefault(node.interface, node)
    subnets = sorted(set(s for n in fabric.nodes.values() for s in n.subnets))
    for node in nodes:
        mesh = settings[node.host]
        for subnet in subnets:
            for own in mesh.subnets:
                if overlaps(own, subnet):
                    fabric.errors.append(FabricError(
                        node.cluster, node.host, "vxlan_mesh_subnet", "%s overlaps node_subnet %s, an underlay "
                        "subnet: vxlan IPs would clash with node IPs; pick a range outside every node subnet"
                        % (own, subnet), NAME))
        other = interfaces.get(mesh.device)
        if other is not None:
            fabric.errors.append(FabricError(
                node.cluster, node.host, "vxlan_mesh_device", "%s is the underlay interface (node_interface) of "
                "node %s; the mesh never takes over a device it does not own: choose another name"
                % (mesh.device, other.host), NAME))


# --- one node's plan --------------------------------------------------------------------

def node_state(fabric, host):
    """The reconcile arguments for one mesh node: device, ARP, FDB and routes (node_plan's
    `reconcile`, decoded)."""
    return json.loads(node_plan(fabric, host)["reconcile"])


# --- the plan as JSON text ----------------------------------------------------------------
# A plan holds an entry per peer, and a peer's entries are the same text in every node's plan,
# so they are rendered once per loaded model and joined per node. A unit test holds the result
# against a plain reference built entry by entry.

JSON = json.JSONEncoder(separators=(",", ":"))


def api_clusters(fabric):
    """The clusters whose API the role calls: the calico clusters of the mesh (their IPPools)."""
    return sorted({n.cluster for n in fabric.facet_nodes(NAME) if fabric.clusters[n.cluster].cni == "calico"})


def prepare(fabric):
    peer_texts(fabric)


def peer_texts(fabric):
    """[Peer] for every mesh node, in host order: its texts in every node's plan."""
    texts = fabric.__dict__.get("_mesh_texts")
    if texts is None:
        settings, rank = fabric.facets.get(NAME, {}), fabric.pod_rank()
        texts = []
        for peer in fabric.facet_nodes(NAME):
            mesh = settings[peer.host]
            texts.append(Peer(
                peer.host, peer.cluster, peer, mesh.ips,
                [(family(ip), JSON.encode({"ip": ip, "mac": mesh.mac})) for ip in mesh.ips],
                JSON.encode({"mac": mesh.mac, "dst": peer.ip_of(mesh.underlay)}),
                [(rank[c], family(c), '{"dst":%s,"via":%s,"dev":' % (JSON.encode(c), JSON.encode(mesh.ip_of(family(c)))))
                 for c in peer.pod_cidrs],
                [(rank[c], family(c), '{"dst":%s,"via":%s,"dev":' % (JSON.encode(c), JSON.encode(peer.ip_of(family(c)))))
                 for c in peer.pod_cidrs],
                dict((family(ip), ip_int(ip)) for ip in peer.ips)))
        fabric.__dict__["_mesh_texts"] = texts
    return texts


class Peer(tuple):
    """A mesh node as every other node's plan holds it: host, cluster, the core node, its addresses
    on the device, its neighbor entries [(family, text)] (in the order of its addresses), its FDB
    entry, its route heads via the device and via its node_ip (direct routing) [(rank, family,
    text)], and its node_ip per family as an integer (direct routing's subnet test)."""
    __slots__ = ()
    FIELDS = ("host", "cluster", "node", "ips", "neighbors", "fdb", "via_vxlan", "via_node", "underlay")

    def __new__(cls, *values):
        return tuple.__new__(cls, values)


for _index, _field in enumerate(Peer.FIELDS):
    setattr(Peer, _field, property(lambda self, i=_index: self[i]))


def state_text(fabric, host):
    """(the node's desired state as compact JSON text, the peers' addresses on the device it
    pings, the route count). A node meshes the families of its own pods: it holds a peer's
    neighbor entries and routes of those families only."""
    node = fabric.nodes.get(host)
    mesh = fabric.settings(NAME, host) if node is not None else None
    if mesh is None:
        raise KeyError("%s is not a node of the vxlan mesh" % host)
    peers = [p for p in peer_texts(fabric) if p[0] != host]
    meshed = set(map(family, mesh.ips))
    vxlan_tail = JSON.encode(mesh.device) + ',"onlink":true}'
    direct_tail = JSON.encode(node.interface) + ',"onlink":false}'
    direct = dict((v, net_range(node.subnet_of(v))) for v in meshed if mesh.direct_routing and node.subnet_of(v))
    routes, neighbors, targets = [], [], []
    for _host, cluster, _peer, ips, peer_neighbors, _fdb, via_vxlan, via_node, underlay in peers:  # hot loop
        neighbors += [text for version, text in peer_neighbors if version in meshed]
        targets += [ip for ip, (version, _text) in zip(ips, peer_neighbors) if version in meshed]
        if cluster == node.cluster:
            continue
        for (rank, version, head), (_rank, _version, direct_head) in zip(via_vxlan, via_node):
            if version not in meshed:
                continue
            if version in direct and direct[version][0] <= underlay.get(version, -1) <= direct[version][1]:
                routes.append((rank, direct_head + direct_tail))
            else:
                routes.append((rank, head + vxlan_tail))
    routes.sort()
    return '{"device":%s,"neighbors":[%s],"fdb":[%s],"routes":[%s],"route_protocol":%d}' % (
        JSON.encode(device(node, mesh)), ",".join(neighbors), ",".join(p[5] for p in peers),
        ",".join(text for _rank, text in routes), MESH_ROUTE_PROTOCOL), targets, len(routes)


def node_plan(fabric, host):
    """{reconcile, verify, report} for one mesh node: `reconcile` is the desired state as one JSON
    string, and `verify.targets` one comma-separated string, which a list option accepts (Ansible
    handles one string per host far faster than a thousand items)."""
    text, targets, routes = state_text(fabric, host)
    sample = fabric.settings(NAME, host).verify_sample
    return {
        "reconcile": text,
        "verify": {"targets": ",".join(targets if sample is None else sampled_targets(fabric, host, sample))},
        "report": {"device": fabric.settings(NAME, host).device, "peers": len(fabric.facet_nodes(NAME)) - 1,
                   "routes": routes},
    }


def sampled_targets(fabric, host, sample):
    """`sample` peers of each cluster (fewer where it has fewer), their addresses on the device to
    ping (one per family both mesh). Node i of its cluster takes the peers from position
    i * sample on, in host order, so the nodes of one cluster together ping every node of another
    once they hold as many samples as it has nodes."""
    node = fabric.nodes[host]
    meshed = set(map(family, fabric.settings(NAME, host).ips))
    mates = [p.host for p in fabric.facet_nodes(NAME) if p.cluster == node.cluster]
    start = mates.index(host) * sample
    by_cluster = {}
    for peer in peer_texts(fabric):
        if peer.host != host:
            by_cluster.setdefault(peer.cluster, []).append([ip for ip in peer.ips if family(ip) in meshed])
    targets = []
    for cluster in sorted(by_cluster):
        ips = by_cluster[cluster]
        if sample >= len(ips):
            picked = ips
        else:
            picked = [ips[(start + k) % len(ips)] for k in range(sample)]
        targets += [ip for peer_ips in picked for ip in peer_ips]
    return targets


def device(node, mesh):
    return {
        "name": mesh.device,
        "kind": "vxlan",
        "vni": mesh.vni,
        "port": mesh.port,
        "local": node.ip_of(mesh.underlay),
        "underlay": node.interface,
        "learning": False,
        "mtu": mesh.mtu,
        "mac": mesh.mac,
        "address": one_or_list(["%s/%s" % (ip, mesh.subnet_of(family(ip)).partition("/")[2]) for ip in mesh.ips]),
    }


def one_or_list(values):
    """One value as itself (a single-family plan reads as it always has), more as a list."""
    return values[0] if len(values) == 1 else values
