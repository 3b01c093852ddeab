# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vxlan_mesh facet (seed 002): its variables, checks, and one node's desired state."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Optional

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.protocols import ROUTE_PROTOCOLS

from ..addresses import contains, ip_int, net_range, overlaps
from .allocate import derive_vxlan_ip, derive_vxlan_mac
from ..errors import FabricError
from ..fabric import MIN_IPV4_MTU, report_disagreement, report_duplicates

NAME = "vxlan_mesh"
VXLAN_OVERHEAD = 50
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
    subnet: str
    mtu: int
    direct_routing: bool
    ip: Optional[str] = None   # the node's address on the device (explicit, or derived in check)
    mac: Optional[str] = None
    verify_sample: Optional[int] = None  # peers checked per cluster after the apply; None: all


SETTINGS = MeshSettings


def read(reader, node_mtu):
    """One mesh node's settings, or None when a value is bad (the reader has the errors).
    `node_mtu` is what the core facet read (None when it was bad)."""
    device = reader.ifname("vxlan_mesh_device")
    vni = reader.integer("vxlan_mesh_vni", 1, 16777215)
    port = reader.integer("vxlan_mesh_port", 1, 65535)
    subnet = reader.network("vxlan_mesh_subnet")
    direct = reader.boolean("vxlan_mesh_direct_routing")
    mtu = None
    if node_mtu is not None:
        room = node_mtu - VXLAN_OVERHEAD
        if room < MIN_IPV4_MTU:
            reader.error("node_mtu", "%d leaves no room for the %d-byte vxlan overhead (needs >= %d)"
                         % (node_mtu, VXLAN_OVERHEAD, MIN_IPV4_MTU + VXLAN_OVERHEAD))
        elif not reader.is_set("vxlan_mesh_mtu"):
            mtu = room  # unset (or set empty): the largest that fits
        else:
            mtu = reader.integer("vxlan_mesh_mtu", MIN_IPV4_MTU, 65535, required=False)
            if mtu is not None and mtu > room:
                reader.error("vxlan_mesh_mtu", "%d leaves no room for the %d-byte vxlan overhead "
                             "on node_mtu %d (at most %d)" % (mtu, VXLAN_OVERHEAD, node_mtu, room))
                mtu = None
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
    ip = reader.address("vxlan_mesh_ip", required=False)
    mac = reader.mac("vxlan_mesh_mac")
    if None in (device, vni, port, subnet, mtu) or len(reader.errors) > before:
        return None  # a bad explicit vxlan value must not fall back to a derived one
    first, last = net_range(subnet)
    if last - first < 3:
        reader.error("vxlan_mesh_subnet", "%s is too small for a mesh" % subnet)
        return None
    return MeshSettings(device, vni, port, subnet, mtu, direct, ip, mac, sample)


def verify_sample(reader):
    """`all` (None), or how many peers of each cluster a node pings after the apply."""
    if str(reader.raw("vxlan_mesh_verify_sample")).strip() == "all":
        return None
    return reader.integer("vxlan_mesh_verify_sample", 1, 65535)


def check(fabric):
    """Derive missing vxlan IPs and MACs (explicit values win), then check across nodes."""
    settings = fabric.facets.get(NAME, {})
    for node in fabric.facet_nodes(NAME):
        mesh = settings[node.host]
        ip = mesh.ip or derive_vxlan_ip(node.ip, mesh.subnet)
        if ip is None:
            fabric.errors.append(FabricError(
                node.cluster, node.host, "vxlan_mesh_ip",
                "deriving it from node_ip %s gives the network or broadcast address of "
                "vxlan_mesh_subnet %s; set vxlan_mesh_ip explicitly" % (node.ip, mesh.subnet), NAME))
            del settings[node.host]
            continue
        settings[node.host] = replace(mesh, ip=ip, mac=mesh.mac or derive_vxlan_mac(ip))
    nodes = fabric.facet_nodes(NAME)
    for node in nodes:
        mesh = settings[node.host]
        first, last = net_range(mesh.subnet)
        if not contains(mesh.subnet, mesh.ip):
            fabric.errors.append(FabricError(node.cluster, node.host, "vxlan_mesh_ip", "%s is outside "
                                             "vxlan_mesh_subnet %s" % (mesh.ip, mesh.subnet), NAME))
        elif ip_int(mesh.ip) in (first, last):
            fabric.errors.append(FabricError(node.cluster, node.host, "vxlan_mesh_ip", "%s is the network or "
                                             "broadcast address of %s" % (mesh.ip, mesh.subnet), NAME))
    for node in nodes[:1]:  # the subnet is the same on every node (checked below)
        subnet = settings[node.host].subnet
        for cluster in fabric.clusters.values():
            for variable, net in (("cluster_pod_cidr", cluster.pod_cidr),
                                  ("cluster_service_cidr", cluster.service_cidr)):
                if overlaps(subnet, net):
                    fabric.errors.append(FabricError(
                        node.cluster, node.host, "vxlan_mesh_subnet", "%s overlaps %s %s of cluster %s"
                        % (subnet, variable, net, cluster.name), NAME))
    check_underlay(fabric, nodes, settings)
    report_duplicates(fabric, nodes, "vxlan_mesh_ip", lambda n: settings[n.host].ip, NAME)
    report_duplicates(fabric, nodes, "vxlan_mesh_mac", lambda n: settings[n.host].mac, NAME)
    # Every endpoint must agree on what goes on the wire.
    for variable, attr in (("vxlan_mesh_vni", "vni"), ("vxlan_mesh_port", "port"),
                           ("vxlan_mesh_subnet", "subnet")):
        report_disagreement(fabric, nodes, variable, lambda n, a=attr: getattr(settings[n.host], a), NAME)


def check_underlay(fabric, nodes, settings):
    """The mesh against the underlay: its subnet against every node_subnet (derived vxlan IPs
    would equal node IPs), and its device against every node's underlay interface."""
    interfaces = {}
    for node in sorted(fabric.nodes.values(), key=lambda n: n.host):
        interfaces.setdefault(node.interface, node)
    subnets = sorted(set(n.subnet for n in fabric.nodes.values()))
    for node in nodes:
        mesh = settings[node.host]
        for subnet in subnets:
            if overlaps(mesh.subnet, subnet):
                fabric.errors.append(FabricError(
                    node.cluster, node.host, "vxlan_mesh_subnet", "%s overlaps node_subnet %s, an underlay "
                    "subnet: vxlan IPs would clash with node IPs; pick a range outside every node subnet"
                    % (mesh.subnet, subnet), NAME))
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
    """[(host, cluster, node_ip as int, vxlan IP, neighbor, fdb, route heads via vxlan, direct route
    heads)] for every mesh node, in host order; route heads are (rank, text) pairs."""
    texts = fabric.__dict__.get("_mesh_texts")
    if texts is None:
        settings, rank = fabric.facets.get(NAME, {}), fabric.pod_rank()
        texts = []
        for peer in fabric.facet_nodes(NAME):
            mesh = settings[peer.host]
            texts.append((
                peer.host, peer.cluster, ip_int(peer.ip), mesh.ip,
                JSON.encode({"ip": mesh.ip, "mac": mesh.mac}),
                JSON.encode({"mac": mesh.mac, "dst": peer.ip}),
                [(rank[c], '{"dst":%s,"via":%s,"dev":' % (JSON.encode(c), JSON.encode(mesh.ip))) for c in peer.pod_cidrs],
                [(rank[c], '{"dst":%s,"via":%s,"dev":' % (JSON.encode(c), JSON.encode(peer.ip))) for c in peer.pod_cidrs]))
        fabric.__dict__["_mesh_texts"] = texts
    return texts


def state_text(fabric, host):
    """(the node's desired state as compact JSON text, the peers' vxlan IPs, the route count)."""
    node = fabric.nodes.get(host)
    mesh = fabric.settings(NAME, host) if node is not None else None
    if mesh is None:
        raise KeyError("%s is not a node of the vxlan mesh" % host)
    peers = [p for p in peer_texts(fabric) if p[0] != host]
    first, last = net_range(node.subnet)
    vxlan_tail = JSON.encode(mesh.device) + ',"onlink":true}'
    direct_tail = JSON.encode(node.interface) + ',"onlink":false}'
    direct = mesh.direct_routing
    routes = []
    for _host, cluster, ip, _vxlan_ip, _neighbor, _fdb, via_vxlan, via_node in peers:
        if cluster == node.cluster:
            continue
        if direct and first <= ip <= last:
            routes += [(r, head + direct_tail) for r, head in via_node]
        else:
            routes += [(r, head + vxlan_tail) for r, head in via_vxlan]
    routes.sort()
    return '{"device":%s,"neighbors":[%s],"fdb":[%s],"routes":[%s],"route_protocol":%d}' % (
        JSON.encode(device(node, mesh)), ",".join(p[4] for p in peers), ",".join(p[5] for p in peers),
        ",".join(text for _rank, text in routes), MESH_ROUTE_PROTOCOL), [p[3] for p in peers], len(routes)


def node_plan(fabric, host):
    """{reconcile, verify, report} for one mesh node: `reconcile` is the desired state as one JSON
    string, and `verify.targets` one comma-separated string, which a list option accepts (Ansible
    handles one string per host far faster than a thousand items)."""
    text, targets, routes = state_text(fabric, host)
    sample = fabric.settings(NAME, host).verify_sample
    return {
        "reconcile": text,
        "verify": {"targets": ",".join(targets if sample is None else sampled_targets(fabric, host, sample))},
        "report": {"device": fabric.settings(NAME, host).device, "peers": len(targets), "routes": routes},
    }


def sampled_targets(fabric, host, sample):
    """`sample` peers of each cluster (fewer where it has fewer), the vxlan IPs to ping. Node i of
    its cluster takes the peers from position i * sample on, in host order, so the nodes of one
    cluster together ping every node of another once they hold as many samples as it has nodes."""
    node = fabric.nodes[host]
    mates = [p.host for p in fabric.facet_nodes(NAME) if p.cluster == node.cluster]
    start = mates.index(host) * sample
    by_cluster = {}
    for peer, cluster, _ip, vxlan_ip, _neighbor, _fdb, _via, _direct in peer_texts(fabric):
        if peer != host:
            by_cluster.setdefault(cluster, []).append(vxlan_ip)
    targets = []
    for cluster in sorted(by_cluster):
        ips = by_cluster[cluster]
        if sample >= len(ips):
            targets += ips
        else:
            targets += [ips[(start + k) % len(ips)] for k in range(sample)]
    return targets


def device(node, mesh):
    return {
        "name": mesh.device,
        "kind": "vxlan",
        "vni": mesh.vni,
        "port": mesh.port,
        "local": node.ip,
        "underlay": node.interface,
        "learning": False,
        "mtu": mesh.mtu,
        "mac": mesh.mac,
        "address": "%s/%s" % (mesh.ip, mesh.subnet.partition("/")[2]),
    }
