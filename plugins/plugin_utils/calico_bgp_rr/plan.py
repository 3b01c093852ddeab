# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The BGP sessions each node's calico-node should have, as Calico's confd derives them.

- A node with a route-reflector cluster ID ignores the node-to-node mesh, and the other nodes'
  mesh skips it.
- A BGPPeer with a nodeSelector gives every selected node a "node specific" session to each
  peer it names (peerIP, or every node its peerSelector matches but the node itself), and the
  peer node the session back.
- Sessions are named as BIRD's protocols are (Mesh_<ip>, Node_<ip>, with `.` or `:` as `_`), which
  is also how `calicoctl node status` tells their type.
- Each family has its own sessions, between the nodes' addresses of that family (confd's bird.cfg
  and bird6.cfg, run by two BIRDs); an external peer is in its address's family.
"""

from __future__ import annotations

from ..addresses import family, ip_key
from ..peers import has_password
from .model import CLIENT_ROUTE_PROTOCOL, NAME, cluster_settings, reflectors, unencapsulated

BRIDGE_PROTOCOL = CLIENT_ROUTE_PROTOCOL  # nodenet_bgp: bridge routes on nodes, client routes on clients
BRIDGE_METRIC = 4000
MESH = "node-to-node mesh"
SPECIFIC = "node specific"


def protocol_name(kind, ip):
    return "%s_%s" % ("Mesh" if kind == MESH else "Node", ip.replace(".", "_").replace(":", "_"))


def expected(fabric, host, mesh=None, with_reflectors=True, with_peers=True):
    """[{ip, family, type, name, peer, port, as, local_as, rr_cluster_id, password, ttl_security, multihop,
    passive, restart_time, next_hop_keep, source, allow_local_as}] for one node, each session as confd's bird.cfg defines
    it. `mesh` None: the target (off when the cluster has route reflectors);
    `with_reflectors`/`with_peers`: whether the RR labels and the BGPPeers are in place (the steps
    of a migration)."""
    node = fabric.nodes[host]
    settings = cluster_settings(fabric, node.cluster)
    rrs = list(reflectors(fabric, node.cluster)) if with_reflectors else []
    cluster_ids = dict((n.host, fabric.facets[NAME][n.host].rr_cluster_id) for n in rrs)
    mine = cluster_ids.get(host, "")
    if mesh is None:
        mesh = not reflectors(fabric, node.cluster)
    local_as = settings.as_number
    sessions = {}

    def add(ip, kind, peer, as_number, cluster_id="", password=False, keep=False):
        """confd's template: `rr client` toward an iBGP peer of another cluster ID when this node
        is a route reflector; the mesh's higher address waits passively (compared as strings);
        `next hop keep` only toward eBGP peers."""
        version = family(ip)
        own = node.ip_of(version)
        sessions.setdefault(ip, {
            "ip": ip, "family": version, "type": kind, "name": protocol_name(kind, ip), "peer": peer, "port": None,
            "as": as_number,
            "local_as": local_as,
            "rr_cluster_id": mine if mine and as_number == local_as and cluster_id != mine else None,
            "password": password, "ttl_security": False, "multihop": "any",
            "passive": kind == MESH and ip > own, "restart_time": None,
            "next_hop_keep": keep and as_number != local_as, "source": own, "allow_local_as": None})

    versions = fabric.clusters[node.cluster].families

    if with_peers:
        if rrs:
            others = [n for n in fabric.cluster_nodes(node.cluster) if n.host != host]
            for other in others:
                if other.host in cluster_ids or host in cluster_ids:  # to each RR, and an RR back to every node
                    for version in versions:
                        add(other.ip_of(version), SPECIFIC, other.host, local_as, cluster_ids.get(other.host, ""))
        for peer in settings.peers:
            selected = host in cluster_ids if peer["peers"] == "route_reflectors" else True
            if selected:
                add(peer["ip"], SPECIFIC, peer["name"], peer["as"], password=has_password(peer),
                    keep=peer["keep_next_hop"])
    if mesh and host not in cluster_ids:
        for other in fabric.cluster_nodes(node.cluster):
            if other.host != host and other.host not in cluster_ids:
                for version in versions:
                    add(other.ip_of(version), MESH, other.host, local_as)
    return sorted(sessions.values(), key=lambda s: ip_key(s["ip"]))


def scope(fabric, host):
    """The addresses the expected table speaks for: the cluster's nodes and its external peers."""
    node = fabric.nodes[host]
    return sorted(set(ip for n in fabric.cluster_nodes(node.cluster) for ip in n.ips) |
                  set(p["ip"] for p in cluster_settings(fabric, node.cluster).peers), key=ip_key)


def block_routes(fabric, host):
    """[{dst, via}]: every other node's pod blocks as BIRD programs them (proto bird): via the
    node's address of the block's family (over tunl0 in ipip modes); unencapsulated across subnets
    via whatever gateway reaches it (None: any). In vxlan modes felix programs them, not BIRD: none
    to check."""
    node = fabric.nodes[host]
    mode = cluster_settings(fabric, node.cluster).mode
    if mode.startswith("vxlan"):
        return []

    def via(other, version):
        same = other.subnet_of(version) == node.subnet_of(version)
        return other.ip_of(version) if same or not unencapsulated(mode, version) else None

    return [{"dst": cidr, "via": via(other, family(cidr))}
            for other in fabric.cluster_nodes(node.cluster) if other.host != host for cidr in other.pod_cidrs]


def bridge_state(fabric, host, present=True):
    """Reconcile arguments for the bridge routes that carry pod traffic while BGP sessions are
    replaced (a node with a new cluster ID leaves the mesh before its new sessions are up): every
    other node's pod CIDRs via its node IP, for nodes on the node's own subnet, at a metric below
    BIRD's (32), so BIRD's routes win whenever they exist. Never saved for boot."""
    node = fabric.nodes[host]
    routes = [{"dst": cidr, "via": other.ip_of(family(cidr)), "dev": node.interface, "onlink": False}
              for other in fabric.cluster_nodes(node.cluster) if other.host != host for cidr in other.pod_cidrs
              if other.subnet_of(family(cidr)) == node.subnet_of(family(cidr))] if present else []
    return {"routes": routes, "route_protocol": BRIDGE_PROTOCOL, "route_metric": BRIDGE_METRIC, "use_nexthops": False}


def node_plan(fabric, host):
    """For one node: the sessions and routes to verify, the sessions to wait for before the mesh
    goes off, and the bridge routes (on and off) as reconcile documents."""
    import json
    fabric.settings(NAME, host)
    node = fabric.nodes[host]
    sessions = expected(fabric, host)
    return {
        # Without a kubeconfig the objects are only rendered: nothing to wait for.
        "applied": fabric.clusters[node.cluster].api,
        "verify": {"sessions": sessions, "routes": block_routes(fabric, host), "scope": scope(fabric, host),
                   "families": list(fabric.clusters[node.cluster].families)},
        # After the peers are applied (mesh as it is): the sessions the target adds must be up.
        "peers_up": [s for s in sessions if s["type"] != MESH],
        "reflectors": bool(reflectors(fabric, node.cluster)),
        "bridge": json.dumps(bridge_state(fabric, host)),
        "bridge_off": json.dumps(bridge_state(fabric, host, present=False)),
    }
