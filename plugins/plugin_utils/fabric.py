# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fabric model: clusters and nodes read from an ordinary Ansible inventory.

Clusters are groups that set ``cluster_name``; nodes are their hosts. A node's
values come only from inventory data (``hostvars`` and ``groups``), never from
gathered facts or from which hosts are in the play, so ``--limit`` cannot
change what any node gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from netaddr import EUI, AddrFormatError, IPAddress, IPNetwork

from .errors import FabricError

CNIS = ("calico", "canal", "flannel", "kube-router")
VXLAN_OVERHEAD = 50
MIN_IPV4_MTU = 68

# Defaults of the fabric variables. They live in the model, not in role
# defaults, because a node's plan reads the variables of every other node.
DEFAULTS = {
    "node_interface": "eth0",
    "node_mtu": 1500,
    "vxlan_mesh_device": "vxlan-mesh",
    "vxlan_mesh_vni": 10001,
    "vxlan_mesh_port": 4789,
    "vxlan_mesh_direct_routing": False,
}


@dataclass(frozen=True)
class Cluster:
    name: str
    pod_cidr: IPNetwork
    service_cidr: IPNetwork
    cni: str
    kubeconfig: Optional[str] = None  # controller path; set => manifests are applied


@dataclass(frozen=True)
class MeshSettings:
    device: str
    vni: int
    port: int
    subnet: IPNetwork
    mtu: int
    direct_routing: bool


@dataclass(frozen=True)
class Node:
    host: str
    cluster: str
    ip: IPAddress
    interface: str
    subnet: IPNetwork
    mtu: int
    pod_cidrs: Tuple[IPNetwork, ...]
    # Mesh values; None when the node is not in the mesh or a value was invalid.
    mesh: Optional[MeshSettings] = None
    vxlan_ip: Optional[IPAddress] = None
    vxlan_mac: Optional[EUI] = None


@dataclass
class Fabric:
    clusters: Dict[str, Cluster] = field(default_factory=dict)
    nodes: Dict[str, Node] = field(default_factory=dict)
    mesh_hosts: List[str] = field(default_factory=list)
    errors: List[FabricError] = field(default_factory=list)

    def cluster_nodes(self, cluster):
        return [n for h, n in sorted(self.nodes.items()) if n.cluster == cluster]

    def mesh_nodes(self):
        return [self.nodes[h] for h in self.mesh_hosts if h in self.nodes]


class VarReader:
    """Reads one host's variables, recording a FabricError for each bad value."""

    def __init__(self, host, hostvars, errors):
        self.host = host
        self.vars = hostvars
        self.errors = errors
        self.cluster = str(hostvars.get("cluster_name") or "")

    def error(self, variable, message):
        self.errors.append(FabricError(self.cluster, self.host, variable, message))

    def raw(self, name, required=True):
        value = self.vars.get(name, DEFAULTS.get(name))
        if value is None or value == "":
            if required:
                self.error(name, "is required but not set")
            return None
        return value

    def network(self, name, required=True, value=None):
        value = self.raw(name, required) if value is None else value
        if value is None:
            return None
        try:
            net = IPNetwork(str(value), flags=0)
        except (AddrFormatError, ValueError, TypeError):
            self.error(name, "%r is not a CIDR" % (value,))
            return None
        if net.version != 4 or "/" not in str(value):
            self.error(name, "%r is not an IPv4 CIDR (address/prefix)" % (value,))
            return None
        if net.ip != net.network:
            self.error(name, "%s has host bits set; did you mean %s?" % (value, net.cidr))
            return None
        return net

    def address(self, name, required=True):
        value = self.raw(name, required)
        if value is None:
            return None
        try:
            ip = IPAddress(str(value), flags=0)
        except (AddrFormatError, ValueError, TypeError):
            self.error(name, "%r is not an IPv4 address" % (value,))
            return None
        if ip.version != 4 or str(ip) != str(value).strip():
            self.error(name, "%r is not an IPv4 address" % (value,))
            return None
        return ip

    def integer(self, name, low, high, required=True):
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool):
            self.error(name, "%r is not an integer" % (value,))
            return None
        try:
            number = int(str(value).strip(), 10)
        except ValueError:
            self.error(name, "%r is not an integer" % (value,))
            return None
        if not low <= number <= high:
            self.error(name, "%d is outside %d..%d" % (number, low, high))
            return None
        return number

    def boolean(self, name):
        value = self.raw(name, required=False)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0", "none"):
            return False
        self.error(name, "%r is not a boolean" % (value,))
        return False

    def mac(self, name):
        value = self.raw(name, required=False)
        if value is None:
            return None
        text = str(value).strip()
        try:
            mac = EUI(text)
        except (AddrFormatError, ValueError, TypeError):
            mac = None
        if mac is None or mac.version != 48 or len(text) != 17:
            self.error(name, "%r is not a MAC address like 0a:58:b3:11:01:15" % (value,))
            return None
        problem = mac_problem(mac)
        if problem:
            self.error(name, "%s is %s; a unicast address is required" % (text, problem))
            return None
        return mac

    def ifname(self, name):
        value = self.raw(name)
        if value is None:
            return None
        problem = ifname_problem(value)
        if problem:
            self.error(name, "%r %s" % (value, problem))
            return None
        return str(value)


def mac_problem(mac):
    """Why a MAC cannot be a vxlan endpoint address, or None."""
    value = int(mac)
    if value == 0:
        return "all-zero"
    if value == 0xFFFFFFFFFFFF:
        return "the broadcast address"
    if (value >> 40) & 1:
        return "a multicast address"
    return None


def ifname_problem(name):
    """Why the kernel would refuse an interface name (dev_valid_name), or None."""
    if not isinstance(name, str):
        return "is not a string"
    if name in ("", ".", ".."):
        return "is not a valid interface name"
    if len(name.encode()) > 15:
        return "is longer than 15 characters, the kernel limit (IFNAMSIZ)"
    if "/" in name or ":" in name:
        return "contains '/' or ':', which the kernel refuses"
    if any(c.isspace() for c in name):
        return "contains whitespace or a newline, which the kernel refuses"
    return None


def read_cluster(reader):
    """The cluster as this host sees it (group vars merged into host vars)."""
    name = reader.raw("cluster_name")
    pod = reader.network("cluster_pod_cidr")
    service = reader.network("cluster_service_cidr")
    cni = reader.raw("cluster_cni")
    if cni is not None and cni not in CNIS:
        reader.error("cluster_cni", "%r is not one of %s" % (cni, ", ".join(CNIS)))
        cni = None
    if name is not None and not is_dns_label(str(name)):
        reader.error("cluster_name", "%r must be a DNS-1123 label (lower-case letters, digits, '-'); "
                     "it names Kubernetes resources" % (name,))
        name = None
    kubeconfig = reader.raw("cluster_kubeconfig", required=False)
    if None in (name, pod, service, cni):
        return None
    return Cluster(str(name), pod, service, cni, str(kubeconfig) if kubeconfig else None)


def is_dns_label(text):
    return (0 < len(text) <= 50 and text[0].isalnum() and text[-1].isalnum()
            and all(c.islower() or c.isdigit() or c == "-" for c in text))


def read_node(reader, in_mesh):
    ip = reader.address("node_ip")
    interface = reader.ifname("node_interface")
    subnet = reader.network("node_subnet")
    mtu = reader.integer("node_mtu", MIN_IPV4_MTU, 65535)
    if ip is not None and subnet is not None:
        if ip not in subnet:
            reader.error("node_ip", "%s is outside node_subnet %s" % (ip, subnet))
        elif subnet.size > 2 and ip in (subnet.network, subnet.broadcast):
            reader.error("node_ip", "%s is the network or broadcast address of node_subnet %s" % (ip, subnet))
    pod_cidrs = read_pod_cidrs(reader)
    mesh = read_mesh_settings(reader, mtu) if in_mesh else None
    before = len(reader.errors)
    vxlan_ip = reader.address("vxlan_mesh_ip", required=False) if in_mesh else None
    vxlan_mac = reader.mac("vxlan_mesh_mac") if in_mesh else None
    if None in (ip, interface, subnet, mtu, pod_cidrs) or (in_mesh and mesh is None):
        return None
    if len(reader.errors) > before:
        return None  # a bad explicit vxlan value must not fall back to a derived one
    return Node(reader.host, reader.cluster, ip, interface, subnet, mtu, pod_cidrs,
                mesh, vxlan_ip, vxlan_mac)


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


def read_mesh_settings(reader, node_mtu):
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
        else:
            mtu = reader.integer("vxlan_mesh_mtu", MIN_IPV4_MTU, 65535, required=False)
            if reader.vars.get("vxlan_mesh_mtu") in (None, ""):
                mtu = room  # unset (or set empty): the largest that fits
            elif mtu is not None and mtu > room:
                reader.error("vxlan_mesh_mtu", "%d leaves no room for the %d-byte vxlan overhead "
                             "on node_mtu %d (at most %d)" % (mtu, VXLAN_OVERHEAD, node_mtu, room))
                mtu = None
    if None in (device, vni, port, subnet, mtu):
        return None
    if subnet.size < 4:
        reader.error("vxlan_mesh_subnet", "%s is too small for a mesh" % subnet)
        return None
    return MeshSettings(device, vni, port, subnet, mtu, direct)


def build(hostvars, groups, mesh_group="vxlan_mesh"):
    """Read every cluster host of the inventory. Errors are collected, not raised."""
    fabric = Fabric()
    mesh_hosts = set(groups.get(mesh_group) or [])
    seen_clusters = {}
    for host in sorted(hostvars):
        hv = hostvars[host]
        if "cluster_name" not in hv and host not in mesh_hosts:
            continue  # not a Kubernetes node: localhost, routers, ...
        reader = VarReader(host, hv, fabric.errors)
        before = len(fabric.errors)
        cluster = read_cluster(reader)
        if cluster is not None:
            first_host, first = seen_clusters.setdefault(cluster.name, (host, cluster))
            for variable, attr in CLUSTER_FIELDS:
                if getattr(first, attr) != getattr(cluster, attr):
                    reader.error(variable, "%s differs from %s on node %s of the same cluster; set "
                                 "cluster variables on the cluster group"
                                 % (getattr(cluster, attr), getattr(first, attr), first_host))
            fabric.clusters.setdefault(cluster.name, cluster)
        node = read_node(reader, host in mesh_hosts)
        if node is not None and cluster is not None:
            fabric.nodes[host] = node
        elif len(fabric.errors) == before:  # never drop a node silently
            reader.error("node", "could not be read (no other problem was found)")
    fabric.mesh_hosts = sorted(mesh_hosts & set(hostvars))
    return fabric


CLUSTER_FIELDS = (("cluster_pod_cidr", "pod_cidr"), ("cluster_service_cidr", "service_cidr"),
                  ("cluster_cni", "cni"), ("cluster_kubeconfig", "kubeconfig"))
