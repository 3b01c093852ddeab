# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One kube-router node's plan: its CNI files, the peers and routes kube-router must give it
(kube-router's own peering rules, network_routes_controller and bgp_peers), and what the
kube-proxy cleanup reads."""

from __future__ import annotations

from ..addresses import family
from .model import NAME, reflectors
from .resources import node_cni


def expected_peers(fabric, host):
    """[{ip, asn, kind}]: an RR client peers only with the RRs; an RR, or any node without RRs,
    with every other node of the cluster whose primary address is of its family; every node with
    the peer routers. Each session is over the primary addresses and carries every family."""
    node = fabric.nodes[host]
    s = fabric.facets[NAME][host]
    rrs = set(n.host for n in reflectors(fabric, node.cluster))
    peers = []
    for other in fabric.cluster_nodes(node.cluster):
        if other.host == host or (rrs and host not in rrs and other.host not in rrs) or family(other.ip) != family(node.ip):
            continue
        kind = "route reflector" if other.host in rrs else ("rr client" if rrs else "node")
        peers.append({"ip": other.ip, "asn": s.cluster_asn, "kind": kind, "node": other.host})
    peers += [{"ip": p["ip"], "asn": p["asn"], "kind": "peer router", "node": ""} for p in s.peers]
    return peers


def expected_routes(fabric, host):
    """Every other node's pod CIDRs, each via its address of the CIDR's family on the node's subnet
    of that family (an overlay tunnel, always with overlay-type full, or a router carries the
    others: any gateway)."""
    node = fabric.nodes[host]
    s = fabric.facets[NAME][host]
    routes = []
    for other in fabric.cluster_nodes(node.cluster):
        if other.host == host or not s.switch("advertise_pod_cidr"):
            continue
        for cidr in other.pod_cidrs:
            version = family(cidr)
            same = other.subnet_of(version) == node.subnet_of(version)
            # kube-router tunnels to every node with overlay-type full, and across subnets with subnet
            tunnel = s.switch("overlay") and (s.overlay_type == "full" or not same)
            routes.append({"dst": cidr, "via": None if tunnel or not same else other.ip_of(version), "node": other.host})
    return routes


def node_plan(fabric, host):
    node = fabric.nodes[host]
    s = fabric.facets[NAME][host]
    cluster = fabric.clusters[node.cluster]
    router = s.switch("run_router")
    return {
        "cluster": node.cluster,
        "applied": cluster.api,
        "cni": node_cni(fabric, host),
        "replace_kube_proxy": s.replace_kube_proxy,
        # kube-router's own IPVS services share the service CIDR and the NodePorts: while it serves
        # Services, only those on kube-ipvs0 are kube-proxy's.
        "cleanup": ({"service_cidrs": [], "nodeport_range": ""} if s.switch("run_service_proxy")
                    else {"service_cidrs": list(cluster.service_cidrs), "nodeport_range": "30000-32767"}),
        "verify": {"sessions": expected_peers(fabric, host) if router else [],
                   "routes": expected_routes(fabric, host) if router else [],
                   "router": router, "families": list(cluster.families)},
    }
