# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One node's desired vxlan mesh state (seed 002), in the reconcile module's terms."""

from __future__ import annotations

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.protocols import ROUTE_PROTOCOLS

from netaddr import IPNetwork

from .allocate import format_mac

MESH_ROUTE_PROTOCOL = ROUTE_PROTOCOLS["nodenet_mesh"]


def node_state(fabric, host):
    """Device, neighbors, FDB entries and routes for one mesh node."""
    node = fabric.nodes.get(host)
    if node is None or node.mesh is None:
        raise KeyError("%s is not a node of the vxlan mesh" % host)
    peers = [p for p in fabric.mesh_nodes() if p.host != host]
    return {
        "device": device(node),
        "neighbors": [{"ip": str(p.vxlan_ip), "mac": format_mac(p.vxlan_mac)} for p in peers],
        "fdb": [{"mac": format_mac(p.vxlan_mac), "dst": str(p.ip)} for p in peers],
        "routes": routes(node, peers),
        "route_protocol": MESH_ROUTE_PROTOCOL,
    }


def device(node):
    mesh = node.mesh
    return {
        "name": mesh.device,
        "kind": "vxlan",
        "vni": mesh.vni,
        "port": mesh.port,
        "local": str(node.ip),
        "underlay": node.interface,
        "learning": False,
        "mtu": mesh.mtu,
        "mac": format_mac(node.vxlan_mac),
        "address": "%s/%d" % (node.vxlan_ip, mesh.subnet.prefixlen),
    }


def routes(node, peers):
    """Other clusters' node pod CIDRs: via the peer's vxlan IP, or directly when allowed."""
    result = []
    for peer in peers:
        if peer.cluster == node.cluster:
            continue  # the cluster's own CNI routes its own pods
        direct = node.mesh.direct_routing and peer.ip in node.subnet
        for cidr in peer.pod_cidrs:
            if direct:
                result.append({"dst": str(cidr), "via": str(peer.ip), "dev": node.interface,
                               "onlink": False})
            else:
                result.append({"dst": str(cidr), "via": str(peer.vxlan_ip), "dev": node.mesh.device,
                               "onlink": True})
    return by_destination(result)


def by_destination(routes):
    """Routes in address order (not string order: 10.9.0.0 before 10.10.0.0)."""
    return sorted(routes, key=lambda r: (IPNetwork(r["dst"]).first, IPNetwork(r["dst"]).prefixlen))
