# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The calico_bgp_rr facet (seeds 000, 001, 004): Calico BGP with route reflectors, external
(ToR) peers, the routing mode of the pool, and the routers and outside clients around it.

Nodes are the hosts of the facet's group; the ToR routers and the outside clients are hosts of
their own groups (`bgp_routers`, `bgp_clients`), read into facets of those names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Tuple

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.protocols import ROUTE_PROTOCOLS

from ..addresses import NAMES, family
from ..errors import FabricError
from ..fabric import (checked_clusters, facet_cluster_settings, facet_clusters, family_address_problems, flagged_nodes,
                      report_disagreement)
from ..peers import MAX_AS, password_of
from ..reader import dns_name, mappings, named

NAME = "calico_bgp_rr"
# IPv4, IPv6 or both: a family's sessions, routes and pool go over the nodes' addresses of that family
# (confd's bird.cfg and bird6.cfg, two BIRDs).
FAMILIES = (4, 6)
MODES = ("bgp", "ipip", "ipip-crosssubnet", "vxlan", "vxlan-crosssubnet")
# (ipipMode, vxlanMode) of the IPPool per mode.
POOL_MODES = {"bgp": ("Never", "Never"), "ipip": ("Always", "Never"), "ipip-crosssubnet": ("CrossSubnet", "Never"),
              "vxlan": ("Never", "Always"), "vxlan-crosssubnet": ("Never", "CrossSubnet")}
PEER_SELECTIONS = ("route_reflectors", "all")
SINGLE_RR_VARIABLE = "calico_bgp_rr_accept_single_rr"
UNDERLAY_VARIABLE = "calico_bgp_underlay_routes_pods"
VARIABLES = {
    "calico_bgp_as": 64512, "calico_bgp_mode": "bgp", "calico_bgp_route_reflector": False,
    SINGLE_RR_VARIABLE: False, UNDERLAY_VARIABLE: False, "calico_bgp_nat_outgoing": True, "calico_bgp_pool": "default-ipv4-ippool",
    "calico_bgp_pool_v6": "default-ipv6-ippool",
    "calico_namespace": "kube-system", "calico_bgp_password_secret": "bgp-passwords",
}
# The label and the annotation Calico's Kubernetes datastore keeps a node's BGP fields in.
RR_LABEL = "route-reflector"
RR_PEER_NAME = "peer-with-route-reflectors"
RR_CLUSTER_ID_ANNOTATION = "projectcalico.org/RouteReflectorClusterID"
IPV6_ADDRESS_ANNOTATION = "projectcalico.org/IPv6Address"
# Bridge routes on nodes (and client routes, tor) are the collection's BGP-side routes.
CLIENT_ROUTE_PROTOCOL = ROUTE_PROTOCOLS["nodenet_bgp"]
PEER_KEYS = ("ip", "as", "password_file", "password_var", "peers", "name", "keep_next_hop")


@dataclass(frozen=True)
class BgpSettings:
    as_number: int
    mode: str
    route_reflector: bool
    rr_cluster_id: str          # "" unless the node is a route reflector
    accept_single_rr: bool
    nat_outgoing: bool
    pool: str
    pool_v6: str                # the IPv6 pool (a cluster with IPv6 pods)
    peers: Tuple[dict, ...]     # external peers: {name, ip, as, peers, keep_next_hop, password_file? | password_var?}
    password_secret: str        # the Kubernetes Secret Calico reads the passwords from
    namespace: str
    underlay_routes_pods: bool  # bgp mode across subnets: the routers learn the blocks


SETTINGS = BgpSettings


def read(reader, node_mtu):
    as_number = reader.integer("calico_bgp_as", 1, MAX_AS)
    mode = reader.choice("calico_bgp_mode", MODES)
    is_rr = reader.boolean("calico_bgp_route_reflector")
    cluster_id = ""
    if is_rr:
        if reader.is_set("calico_bgp_rr_cluster_id"):
            cluster_id = reader.address("calico_bgp_rr_cluster_id")
            if cluster_id is None:
                reader.errors[-1] = FabricError(reader.cluster, reader.host, "calico_bgp_rr_cluster_id", (
                    "%r is not an IPv4 address; BIRD and Calico take a route reflector cluster ID in "
                    "dotted-quad form (redundant RRs may share one, e.g. 244.0.0.1, or use their own IP)"
                    % (reader.vars.get("calico_bgp_rr_cluster_id"),)), NAME)
        else:
            cluster_id = own_ip(reader)  # seed 004: each RR's own IP
            if cluster_id == "":
                reader.error("calico_bgp_rr_cluster_id", (
                    "must be set: the node is a route reflector without an IPv4 address, and BIRD takes a "
                    "cluster ID in dotted-quad form (redundant RRs may share one, e.g. 244.0.0.1)"))
                cluster_id = None
    single = reader.boolean(SINGLE_RR_VARIABLE)
    nat = reader.boolean("calico_bgp_nat_outgoing")
    pool = named(reader, "calico_bgp_pool", "an IPPool")
    pool_v6 = named(reader, "calico_bgp_pool_v6", "an IPPool")
    namespace = named(reader, "calico_namespace", "a namespace")
    secret = reader.raw("calico_bgp_password_secret")
    if secret is not None and not dns_name(str(secret)):
        reader.error("calico_bgp_password_secret", "%r must be a DNS-1123 name; it names a Secret" % (secret,))
        secret = None
    peers = read_peers(reader, as_number)
    # Kept even with bad values (None), so the checks across nodes still run and every problem
    # is reported at once; a model with problems never reaches a plan.
    return BgpSettings(as_number, mode, is_rr, cluster_id, single, nat, pool and str(pool), pool_v6 and str(pool_v6), peers,
                       secret and str(secret), namespace and str(namespace), reader.boolean(UNDERLAY_VARIABLE))


def own_ip(reader):
    """The node's IPv4 node_ip; "" when it has none, None when node_ip is not valid (the core
    reports it)."""
    from ..addresses import of_family
    from ..reader import VarReader
    quiet = VarReader(reader.host, reader.vars, [], {}, reader.cluster)
    ips = quiet.per_family("node_ip", quiet.address)
    return None if ips is None else (of_family(ips, 4) or "")


def read_peers(reader, cluster_as):
    peers = []
    for where, item, sub in mappings(reader, "calico_bgp_peers", PEER_KEYS,
                                     "{ip, as, password_file? or password_var?, peers?, name?}", tolerated=("password",)):
        password = password_of(reader, where, item)
        ip = sub.address(where + ".ip", versions=(4, 6))
        as_number = sub.integer(where + ".as", 1, MAX_AS)
        selection = sub.choice(where + ".peers", PEER_SELECTIONS) if "peers" in item else "route_reflectors"
        keep = sub.boolean(where + ".keep_next_hop") if "keep_next_hop" in item else False
        name = item.get("name") or (peer_name(ip) if ip else None)
        if name is not None and not dns_name(str(name)):
            reader.error(where + ".name", "%r must be a DNS-1123 name; it names the BGPPeer" % (name,))
            name = None
        elif name == RR_PEER_NAME:
            reader.error(where + ".name", "%s is the BGPPeer that peers every node with the route reflectors; "
                         "name this peer otherwise" % name)
            name = None
        if as_number is not None and cluster_as is not None and as_number == cluster_as:
            reader.error(where + ".as", "%d is the cluster's own AS (calico_bgp_as): an external peer is eBGP, "
                         "with the router's own AS; to add an in-cluster route reflector set "
                         "calico_bgp_route_reflector on that node instead" % as_number)
            as_number = None
        if ip is None:
            continue  # nothing else can be checked about a peer without an address
        name = name or peer_name(ip)
        peer = {"name": str(name), "ip": ip, "as": as_number, "peers": selection, "keep_next_hop": keep}
        peer.update(password)
        peers.append(peer)
    return tuple(peers)


def peer_name(ip):
    """A BGPPeer's default name: its address with dots and colons as dashes."""
    return "peer-%s" % ip.replace(".", "-").replace(":", "-").strip("-")


def prepare(fabric):
    """Nothing to share: the tables below are small and per cluster."""


# The facet's clusters, a cluster's settings, its route reflector nodes (in host order).
clusters = partial(facet_clusters, facet=NAME)
api_clusters = clusters  # the BGP objects
cluster_settings = partial(facet_cluster_settings, facet=NAME)
reflectors = partial(flagged_nodes, facet=NAME, flag="route_reflector")


def error(fabric, cluster, host, variable, message, facet=NAME):
    fabric.errors.append(FabricError(cluster, host, variable, message, facet))


def check(fabric):
    """Every reason the clusters of the group cannot be set up (their routers and clients: tor)."""
    node_ips = dict((ip, n) for n in fabric.nodes.values() for ip in n.ips)
    for name, nodes, settings in checked_clusters(fabric, NAME, "calico", "calico_bgp_rr configures Calico's BGP",
                                                  "every node of a cluster takes part in its BGP topology"):
        first = nodes[0]

        def get(n):
            return fabric.facets[NAME][n.host]

        for variable, attr in (("calico_bgp_as", "as_number"), ("calico_bgp_mode", "mode"),
                               ("calico_bgp_nat_outgoing", "nat_outgoing"), ("calico_bgp_pool", "pool"),
                               ("calico_bgp_pool_v6", "pool_v6"), ("calico_bgp_peers", "peers"), ("calico_bgp_password_secret", "password_secret"),
                               ("calico_namespace", "namespace"), (SINGLE_RR_VARIABLE, "accept_single_rr"),
                               (UNDERLAY_VARIABLE, "underlay_routes_pods")):
            report_disagreement(fabric, nodes, variable, lambda n, a=attr: peer_view(getattr(get(n), a)), NAME)
        rrs = reflectors(fabric, name)
        if len(rrs) == 1 and not settings.accept_single_rr:
            error(fabric, name, rrs[0].host, "calico_bgp_route_reflector", (
                "is the only route reflector of the cluster: when it goes down every node loses every "
                "route (calico issue 9259). Make a second node a route reflector, or set %s: true "
                "to accept that" % SINGLE_RR_VARIABLE))
        for peer in settings.peers:
            where = "calico_bgp_peers[%s]" % peer["name"]
            if peer["ip"] in node_ips:
                other = node_ips[peer["ip"]]
                error(fabric, name, first.host, where + ".ip", "%s is node %s (cluster %s); an external peer is a "
                      "router outside the cluster (nodes peer through the mesh or the route reflectors)"
                      % (peer["ip"], other.host, other.cluster))
            if family(peer["ip"]) not in fabric.clusters[name].families:
                error(fabric, name, first.host, where + ".ip", "%s is an %s peer but the cluster has no %s pods "
                      "(cluster_pod_cidr): BIRD peers in a family only to carry that family's pod routes"
                      % (peer["ip"], NAMES[family(peer["ip"])], NAMES[family(peer["ip"])]))
            if peer["peers"] == "route_reflectors" and not rrs:
                error(fabric, name, first.host, where + ".peers", "is route_reflectors but the cluster has no route "
                      "reflector; set calico_bgp_route_reflector on two nodes, or peers: all")
        seen = {}
        for peer in settings.peers:
            for key in ("ip", "name"):
                if peer[key] in seen.get(key, {}):
                    error(fabric, name, first.host, "calico_bgp_peers[%s].%s" % (peer["name"], key),
                          "%s is given twice" % peer[key])
                seen.setdefault(key, {})[peer[key]] = peer
        if not settings.nat_outgoing and not settings.peers:
            error(fabric, name, first.host, "calico_bgp_nat_outgoing", (
                "is false (direct pod access, seed 004) but calico_bgp_peers is empty: nothing outside the "
                "cluster learns a route to the pool, so pods lose every reply from outside. Add the ToR as "
                "a peer, or keep natOutgoing"))
        elif not settings.nat_outgoing:
            for version in fabric.clusters[name].families:
                if not any(family(p["ip"]) == version for p in settings.peers):
                    error(fabric, name, first.host, "calico_bgp_nat_outgoing", (
                        "is false (direct pod access, seed 004) but no peer in calico_bgp_peers is %s: nothing "
                        "outside the cluster learns a route to the %s pool, so those pods lose every reply from "
                        "outside. Add the ToR's %s address as a peer, or keep natOutgoing"
                        % (NAMES[version], NAMES[version], NAMES[version])))
        fabric.errors.extend(family_address_problems(fabric, name, nodes, NAME, "Calico peers and routes them"))
        for version in fabric.clusters[name].families:
            if unencapsulated(settings.mode, version) and not settings.underlay_routes_pods:
                check_one_subnet(fabric, name, nodes, settings.mode, version)


def unencapsulated(mode, version):
    """Whether a family's pod routes go unencapsulated via the nodes' addresses: bgp mode, and
    IPv6 in the ipip modes (Calico's IPv6 pools take no IPIP)."""
    return mode == "bgp" or (version == 6 and mode.startswith("ipip"))


def check_one_subnet(fabric, cluster, nodes, mode, version):
    subnets = sorted(set(n.subnet_of(version) for n in nodes if n.subnet_of(version)))
    if len(subnets) < 2:
        return
    by_subnet = "; ".join("%s: %s" % (s, ", ".join(n.host for n in nodes if n.subnet_of(version) == s))
                          for s in subnets)
    how = ("is bgp, which routes pods unencapsulated via node IPs" if version == 4 else
           "is %s, and IPv6 pods are routed unencapsulated via the nodes' IPv6 addresses (Calico's IPv6 pools take "
           "no IPIP)" % mode)
    error(fabric, cluster, nodes[0].host, "calico_bgp_mode", (
        "%s, but the nodes are on %d subnets (%s) and the routers between them do not know the pod blocks. "
        "Use %s, or set %s: true when the underlay learns the blocks (every node peers with its ToR)"
        % (how, len(subnets), by_subnet,
           "ipip-crosssubnet or vxlan-crosssubnet" if version == 4 else "vxlan or vxlan-crosssubnet",
           UNDERLAY_VARIABLE)))


def peer_view(value):
    """What report_disagreement compares and prints (peers as plain lists)."""
    if isinstance(value, (tuple, list)):
        return [dict(p) for p in value]
    return value


def router_peerings(fabric, router):
    """[(cluster, peering)] of every cluster that names the router's address in calico_bgp_peers
    (tor.peers_of_router adds kube_router_peers'). A peering is {ip, as (the AS the cluster expects of the
    router, or None), cluster_as, families (those its sessions carry), nodes (those that peer with the
    router), password_file, variable}."""
    found = []
    for name in clusters(fabric):
        settings = cluster_settings(fabric, name)
        for peer in settings.peers:
            if peer["ip"] in router.ips:
                nodes = reflectors(fabric, name) if peer["peers"] == "route_reflectors" else [
                    n for n in fabric.cluster_nodes(name) if n.host in fabric.facets[NAME]]
                found.append((name, {"ip": peer["ip"], "as": peer["as"], "cluster_as": settings.as_number,
                                     "families": (family(peer["ip"]),),
                                     "nodes": nodes, "password_file": peer.get("password_file"),
                                     "password_var": peer.get("password_var"), "variable": "calico_bgp_peers"}))
    return found
