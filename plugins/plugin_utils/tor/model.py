# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosts around the clusters: ToR routers (group bgp_routers, FRR's bgpd) and outside clients
(group bgp_clients), read from groups of their own and never nodes; and the peers' password
variables (password_var), resolved in the run (resolve). A router serves every
cluster, of either BGP facet (calico_bgp_rr, kube_router_install), that names its address as a
peer; this facet reads both, and neither of them reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from ..calico_bgp_rr import model as bgp
from ..kube_router_install import model as kube_router
from ..addresses import contains, of_family
from ..errors import FabricError
from ..fabric import Underlay, facet_cluster_settings, underlay_subnets
from ..peers import MAX_AS, password_text_problem

ROUTERS = "bgp_routers"
CLIENTS = "bgp_clients"
GROUPS = (ROUTERS, CLIENTS)
VARIABLES = {"bgp_client_interface": "eth0", "bgp_router_interface": "eth0"}


@dataclass(frozen=True)
class RouterSettings(Underlay):
    """A ToR/router host running FRR's bgpd, peering with the nodes of every cluster that names
    one of its addresses in calico_bgp_peers (an IPv6 address: its IPv6 sessions)."""
    ips: Tuple[str, ...]
    as_number: int
    router_id: str
    subnets: Tuple[str, ...]
    interface: str


@dataclass(frozen=True)
class ClientSettings(Underlay):
    """A host outside the clusters that reaches pods through a router (seed 004's static route),
    in each family it and its router both have."""
    ips: Tuple[str, ...]
    subnets: Tuple[str, ...]
    interface: str
    router: str                 # the router host
    clusters: Tuple[str, ...]   # empty: every cluster the router peers with


def addresses(reader, prefix):
    """(ips, subnets) per family of an outside host (`<prefix>ip`, `<prefix>subnet`), as a node's
    node_ip and node_subnet; (None, None) with the problems recorded."""
    ips = reader.per_family(prefix + "ip", reader.address)
    subnets = reader.per_family(prefix + "subnet", reader.network)
    if ips is None or subnets is None:
        return None, None
    subnets = underlay_subnets(reader, ips, subnets, prefix + "ip", prefix + "subnet")
    return (ips, subnets) if subnets else (None, None)


def read_router(reader):
    ips, subnets = addresses(reader, "bgp_router_")
    as_number = reader.integer("bgp_router_as", 1, MAX_AS)
    router_id = reader.address("bgp_router_id", required=False) or (of_family(ips, 4) if ips else None)
    if ips and router_id is None and not reader.is_set("bgp_router_id"):
        reader.error("bgp_router_id", "must be set: the router has no IPv4 address, and a BGP router ID is "
                     "an IPv4 address")
    interface = reader.ifname("bgp_router_interface")
    if None in (ips, as_number, router_id, subnets, interface):
        return None
    return RouterSettings(ips, as_number, router_id, subnets, interface)


def read_client(reader):
    ips, subnets = addresses(reader, "bgp_client_")
    interface = reader.ifname("bgp_client_interface")
    router = reader.raw("bgp_client_router")
    clusters = reader.raw("bgp_client_clusters", required=False) or []
    if isinstance(clusters, str) or not isinstance(clusters, (list, tuple)):
        reader.error("bgp_client_clusters", "must be a list of cluster names, got %r" % (clusters,))
        clusters = None
    if None in (ips, subnets, interface, router, clusters):
        return None
    return ClientSettings(ips, subnets, interface, str(router), tuple(str(c) for c in clusters))


EXTRA_READERS = {ROUTERS: read_router, CLIENTS: read_client}
EXTRA_SETTINGS = {ROUTERS: RouterSettings, CLIENTS: ClientSettings}


def peers_of_router(fabric, router):
    """[(cluster, peering)] of every cluster that names the router's address as a peer, in
    calico_bgp_peers or kube_router_peers (each facet's router_peerings)."""
    return bgp.router_peerings(fabric, router) + kube_router.router_peerings(fabric, router)


def error(fabric, cluster, host, variable, message, facet):
    fabric.errors.append(FabricError(cluster, host, variable, message, facet))


def check(fabric):
    """Every reason the routers and clients cannot be set up."""
    node_ips = dict((ip, n) for n in fabric.nodes.values() for ip in n.ips)
    check_routers(fabric, node_ips)
    check_clients(fabric, node_ips)


def check_routers(fabric, node_ips):
    routers = fabric.facets.get(ROUTERS, {})
    report_duplicates_of(fabric, routers, "bgp_router_ip", ROUTERS)
    for host, router in sorted(routers.items()):
        for ip in router.ips:
            if ip in node_ips:
                error(fabric, "", host, "bgp_router_ip", "%s is node %s's address" % (ip, node_ips[ip].host), ROUTERS)
        peering = peers_of_router(fabric, router)
        if not peering:
            error(fabric, "", host, "bgp_router_ip", "%s is no cluster's external peer: add {ip: %s, as: %d} to "
                  "calico_bgp_peers (or {ip: %s, asn: %d} to kube_router_peers) of the clusters it serves"
                  % (router.ip, router.ip, router.as_number, router.ip, router.as_number), ROUTERS)
        for cluster, peer in peering:
            if peer["as"] is not None and peer["as"] != router.as_number:
                error(fabric, cluster, host, "bgp_router_as", "%d differs from AS %d that cluster %s's "
                      "%s gives for %s" % (router.as_number, peer["as"], cluster, peer["variable"], peer["ip"]),
                      ROUTERS)


def check_clients(fabric, node_ips):
    routers = fabric.facets.get(ROUTERS, {})
    for host, client in sorted(fabric.facets.get(CLIENTS, {}).items()):
        router = routers.get(client.router)
        if router is None and client.router in fabric.members.get(ROUTERS, []):
            continue  # the router's own variables are wrong: reported on the router
        if router is None:
            error(fabric, "", host, "bgp_client_router", "%s is not a host of group %s" % (
                client.router, fabric.groups.get(ROUTERS, ROUTERS)), CLIENTS)
            continue
        shared = [v for v in client.families if router.ip_of(v)]
        if not shared:
            error(fabric, "", host, "bgp_client_ip", "has no address family of router %s's addresses (%s): the "
                  "client's routes to the pods go via the router" % (client.router, ", ".join(router.ips)), CLIENTS)
        for version in shared:
            if not contains(client.subnet_of(version), router.ip_of(version)):
                error(fabric, "", host, "bgp_client_subnet", "%s does not hold router %s's address %s: the client's "
                      "route to the pods goes via the router, which must be on its subnet"
                      % (client.subnet_of(version), client.router, router.ip_of(version)), CLIENTS)
        for ip in client.ips:
            if ip in node_ips:
                error(fabric, "", host, "bgp_client_ip", "%s is node %s's address" % (ip, node_ips[ip].host), CLIENTS)
        served = [c for c, _peering in peers_of_router(fabric, router)]
        for name in client.clusters:
            if name not in served:
                error(fabric, "", host, "bgp_client_clusters", "%s is not a cluster router %s peers with (%s)" % (
                    name, client.router, ", ".join(served) or "none"), CLIENTS)


def report_duplicates_of(fabric, settings, variable, facet):
    first = {}
    for host, item in sorted(settings.items()):
        for ip in item.ips:
            if ip in first:
                error(fabric, "", host, variable, "%s is also used by %s" % (ip, first[ip]), facet)
            first.setdefault(ip, host)


def resolve(fabric, hostvars):
    """({variable: value}, [FabricError]) of every password_var, read from the first node of each
    cluster that names it. A problem names the cluster and the variable, never the value."""
    values, problems = {}, []
    for variable, clusters in sorted(password_vars(fabric).items()):
        for cluster, facet in sorted(clusters):
            first = next((n.host for n in fabric.cluster_nodes(cluster) if n.host in hostvars), None)
            value = hostvars[first].get(variable) if first is not None else None
            where = "password_var %s" % variable
            if value is None:
                problems.append(FabricError(cluster, "", where, "is not defined in the run: define it (a vaulted "
                                            "variable, or an extra variable of the job's credential)", facet))
                continue
            text = value if isinstance(value, str) else str(value)  # a vaulted value decrypts to text
            problem = password_text_problem(text)
            if problem:
                problems.append(FabricError(cluster, "", where, problem, facet))
            elif variable in values and values[variable] != text:
                problems.append(FabricError(cluster, "", where, "differs from its value for another cluster; "
                                            "give each password its own variable", facet))
            else:
                values[variable] = text
    return values, problems


def password_vars(fabric):
    """{variable: [(cluster, facet) whose peers name it]} over every cluster of both BGP facets."""
    found = {}
    for facet, names in ((bgp.NAME, bgp.clusters(fabric)), (kube_router.NAME, kube_router.clusters(fabric))):
        for name in names:
            for peer in facet_cluster_settings(fabric, name, facet).peers:
                if peer.get("password_var") and (name, facet) not in found.get(peer["password_var"], []):
                    found.setdefault(peer["password_var"], []).append((name, facet))
    return found
