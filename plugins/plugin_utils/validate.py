# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks across clusters and nodes, and the one entry point: load()."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

from . import fabric as model
from .allocate import derive_vxlan_ip, derive_vxlan_mac, format_mac
from .errors import FabricError, FabricInvalid


def load(hostvars, groups, mesh_group="vxlan_mesh"):
    """Build, allocate and validate the fabric; raise FabricInvalid with every problem."""
    fabric = model.build(hostvars, groups, mesh_group)
    check_clusters(fabric)
    check_nodes(fabric)
    allocate_mesh(fabric)
    check_mesh(fabric)
    if fabric.errors:
        raise FabricInvalid(fabric.errors)
    return fabric


def problems(hostvars, groups, mesh_group="vxlan_mesh"):
    """Every problem as a string; empty when the fabric is valid."""
    try:
        load(hostvars, groups, mesh_group)
    except FabricInvalid as exc:
        return [str(e) for e in exc.errors]
    return []


def check_clusters(fabric):
    ranges = []
    for cluster in fabric.clusters.values():
        ranges.append((cluster, "cluster_pod_cidr", cluster.pod_cidr))
        ranges.append((cluster, "cluster_service_cidr", cluster.service_cidr))
    for (c1, v1, n1), (c2, v2, n2) in combinations(ranges, 2):
        if overlaps(n1, n2):
            fabric.errors.append(FabricError(
                c2.name, "", v2, "%s overlaps %s %s of cluster %s" % (n2, v1, n1, c1.name)))


def check_nodes(fabric):
    for node in fabric.nodes.values():
        cluster = fabric.clusters.get(node.cluster)
        if cluster is None:
            continue
        for cidr in node.pod_cidrs:
            if cidr not in cluster.pod_cidr:
                fabric.errors.append(FabricError(
                    node.cluster, node.host, "node_pod_cidrs",
                    "%s is outside cluster_pod_cidr %s" % (cidr, cluster.pod_cidr)))
    owned = [(n, c) for n in fabric.nodes.values() for c in n.pod_cidrs]
    for (n1, c1), (n2, c2) in combinations(owned, 2):
        if overlaps(c1, c2):
            fabric.errors.append(FabricError(
                n2.cluster, n2.host, "node_pod_cidrs",
                "%s overlaps %s of node %s" % (c2, c1, n1.host)))
    report_duplicates(fabric, fabric.nodes.values(), "node_ip", lambda n: n.ip)


def allocate_mesh(fabric):
    """Fill in derived vxlan IPs and MACs; explicit values win."""
    for host in fabric.mesh_hosts:
        node = fabric.nodes.get(host)
        if node is None or node.mesh is None:
            continue
        vxlan_ip = node.vxlan_ip
        if vxlan_ip is None:
            vxlan_ip = derive_vxlan_ip(node.ip, node.mesh.subnet)
            if vxlan_ip is None:
                fabric.errors.append(FabricError(
                    node.cluster, host, "vxlan_mesh_ip",
                    "deriving it from node_ip %s gives the network or broadcast address of "
                    "vxlan_mesh_subnet %s; set vxlan_mesh_ip explicitly" % (node.ip, node.mesh.subnet)))
                continue
        mac = node.vxlan_mac or derive_vxlan_mac(vxlan_ip)
        fabric.nodes[host] = replace(node, vxlan_ip=vxlan_ip, vxlan_mac=mac)


def check_mesh(fabric):
    nodes = [n for n in fabric.mesh_nodes() if n.vxlan_ip is not None]
    for node in nodes:
        subnet = node.mesh.subnet
        if node.vxlan_ip not in subnet:
            fabric.errors.append(FabricError(
                node.cluster, node.host, "vxlan_mesh_ip",
                "%s is outside vxlan_mesh_subnet %s" % (node.vxlan_ip, subnet)))
        elif node.vxlan_ip in (subnet.network, subnet.broadcast):
            fabric.errors.append(FabricError(
                node.cluster, node.host, "vxlan_mesh_ip",
                "%s is the network or broadcast address of %s" % (node.vxlan_ip, subnet)))
    for node in nodes[:1]:  # the subnet is the same on every node (checked below)
        for cluster in fabric.clusters.values():
            for variable, net in (("cluster_pod_cidr", cluster.pod_cidr),
                                  ("cluster_service_cidr", cluster.service_cidr)):
                if overlaps(node.mesh.subnet, net):
                    fabric.errors.append(FabricError(
                        node.cluster, node.host, "vxlan_mesh_subnet", "%s overlaps %s %s of cluster %s"
                        % (node.mesh.subnet, variable, net, cluster.name)))
    report_duplicates(fabric, nodes, "vxlan_mesh_ip", lambda n: n.vxlan_ip)
    report_duplicates(fabric, nodes, "vxlan_mesh_mac", lambda n: format_mac(n.vxlan_mac))
    # Every endpoint must agree on what goes on the wire.
    for variable, attr in (("vxlan_mesh_vni", "vni"), ("vxlan_mesh_port", "port"),
                           ("vxlan_mesh_subnet", "subnet")):
        report_disagreement(fabric, fabric.mesh_nodes(), variable, lambda n, a=attr: getattr(n.mesh, a))


def report_duplicates(fabric, nodes, variable, key):
    first = {}
    for node in sorted(nodes, key=lambda n: n.host):
        value = key(node)
        if value in first:
            fabric.errors.append(FabricError(
                node.cluster, node.host, variable,
                "%s is also used by node %s (cluster %s)"
                % (value, first[value].host, first[value].cluster)))
        else:
            first[value] = node


def report_disagreement(fabric, nodes, variable, key):
    nodes = sorted(nodes, key=lambda n: n.host)
    for node in nodes[1:]:
        if key(node) != key(nodes[0]):
            fabric.errors.append(FabricError(
                node.cluster, node.host, variable,
                "%s differs from %s on node %s; every mesh node must use the same value"
                % (key(node), key(nodes[0]), nodes[0].host)))


def overlaps(a, b):
    return a.first <= b.last and b.first <= a.last
