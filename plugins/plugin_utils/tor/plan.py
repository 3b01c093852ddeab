# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The world around the clusters: the ToR routers' BGP (FRR) and the outside clients' routes.

A router gets, per cluster that names its address in calico_bgp_peers or kube_router_peers, a
neighbor for every node that peers with it (Calico: the RRs, or all nodes; kube-router: all
nodes, which is how it treats --peer-router-ips) with the cluster's AS, accepting the cluster's
pool (any block inside it) in each family the session carries (Calico: the peer address's;
kube-router: every family of the cluster, IPv6 over the IPv4 session) and sending nothing back. Ours on the router: neighbors whose
description starts with `nodenet.fabric`, and prefix-lists and route-maps named NODENET-*.
"""

from __future__ import annotations

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.protocols import ROUTE_PROTOCOLS

from ..addresses import family, first_address
from ..peers import has_password, peer_password
from .model import CLIENTS, ROUTERS, peers_of_router

DESCRIPTION = "nodenet.fabric"


def policy_names(cluster, version=4):
    """(accept, send): the cluster's accept prefix-list and route-map are per family (an IPv6
    prefix-list is matched by `match ipv6`); sending nothing is one route-map for both."""
    return "NODENET-%s-IN%s" % (cluster, "6" if version == 6 else ""), "NODENET-%s-OUT" % cluster


def router_state(fabric, host, with_passwords=True, secrets=None):
    """The frr_bgp module's arguments for one router host. Without `with_passwords` (a report) no
    password file is read and the neighbors carry none. `secrets`: the run's values of the peers'
    password_var."""
    router = fabric.settings(ROUTERS, host)
    neighbors, prefix_lists, route_maps, secret = [], [], [], False
    for cluster, peer in peers_of_router(fabric, router):
        version = family(peer["ip"])
        accept, send = policy_names(cluster, version)
        for carried in peer["families"]:
            name = policy_names(cluster, carried)[0]
            if name not in [p["name"] for p in prefix_lists]:
                prefix_lists.append({"name": name, "prefixes": [fabric.clusters[cluster].pod_cidr_of(carried)]})
                route_maps.append({"name": name, "action": "permit", "match": name})
        if send not in [r["name"] for r in route_maps]:
            route_maps.append({"name": send, "action": "deny"})
        for node in peer["nodes"]:
            neighbor = {"ip": node.ip_of(version), "remote_as": peer["cluster_as"], "in": accept, "out": send,
                        "description": "%s %s %s" % (DESCRIPTION, cluster, node.host),
                        "multihop": node.subnet_of(version) != router.subnet_of(version)}
            if version == 4 and 6 in peer["families"]:
                neighbor["in6"] = policy_names(cluster, 6)[0]  # one session carries both (kube-router)
            if has_password(peer):
                secret = True
                if with_passwords:
                    neighbor["password"] = peer_password(peer, secrets)
            neighbors.append(neighbor)
    return {"asn": router.as_number, "router_id": router.router_id, "neighbors": neighbors,
            "prefix_lists": prefix_lists, "route_maps": route_maps,
            "secret": secret}  # tasks hide themselves only then


def client_state(fabric, host):
    """Reconcile arguments for one outside client: a route to each served cluster's pod range
    via its router, in each family the router peers with the cluster in and the client has,
    with the collection's own route protocol."""
    client = fabric.settings(CLIENTS, host)
    router = fabric.settings(ROUTERS, client.router)
    served = sorted(set((c, v) for c, peering in peers_of_router(fabric, router) for v in peering["families"]
                        if not client.clusters or c in client.clusters))
    routes = [{"dst": fabric.clusters[c].pod_cidr_of(v), "via": router.ip_of(v), "dev": client.interface,
               "onlink": False} for c, v in served if client.ip_of(v) and router.ip_of(v)]
    return {"routes": routes, "route_protocol": ROUTE_PROTOCOLS["nodenet_bgp"], "use_nexthops": False}


def client_targets(fabric, host):
    """The first address of every pod CIDR of the clusters the client reaches (the lab's pods)."""
    state = client_state(fabric, host)
    wanted = set(r["dst"] for r in state["routes"])
    return [first_address(cidr) for name, cluster in sorted(fabric.clusters.items())
            if set(cluster.pod_cidrs) & wanted for node in fabric.cluster_nodes(name) for cidr in node.pod_cidrs
            if cluster.pod_cidr_of(family(cidr)) in wanted]
