"""Calico's confd as the oracle of calico_bgp_rr's expected session table: every checkpoint of
confd's own test suite (read from the pinned calico module) whose objects the facet can express is
turned into the inventory that makes those objects, and the facet's table for the node under test
must be the sessions of confd's compiled bird.cfg, peer by peer (bird_config.FIELDS). A
checkpoint the facet cannot express is skipped with the reason."""
import os
import sys
import tempfile

import pytest
from helpers import ROOT

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import model as bgp
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import plan as bgp_sessions

sys.path.insert(0, str(ROOT / "tools"))
from nnlab import bird_config, calico_selector, confd_cases  # noqa: E402

# What the facet has no variable for, per object: the reason it cannot express a case using it.
UNEXPRESSED = {
    "BGPConfiguration": {"listenPort": "a BGP listen port", "nodeMeshPassword": "a node-to-node mesh password",
                         "nodeMeshMaxRestartTime": "a mesh graceful restart time", "bindMode": "a bind mode"},
    "BGPPeer": {"node": "a peering of one named node", "ttlSecurity": "TTL security", "sourceAddress": "a source address",
                "maxRestartTime": "a peer's graceful restart time", "reachableBy": "reachableBy",
                "numAllowedLocalASNumbers": "allow local as", "filters": "BGP filters"},
}
DEFAULT_AS = 64512


class NotExpressed(Exception):
    pass


def calico_nodes(objects):
    """{name: (ip, prefix, labels, bgp)} of the nodes with an IPv4 address."""
    found = {}
    for name, node in sorted(objects.nodes.items()):
        address = node["bgp"].get("ipv4Address")
        if address:
            ip, _, prefix = address.partition("/")
            found[name] = (ip, int(prefix or 32), node["labels"], node["bgp"])
    return found


def selected(selector, nodes):
    return set(n for n, (_, _, labels, _) in nodes.items() if calico_selector.parse(selector)(labels))


def peers_of(objects, nodes, rrs, secrets_dir):
    """The facet's calico_bgp_peers for the case's BGPPeers, and whether they hold the RR peering."""
    peers, rr_peering = [], False
    for name, spec in objects.of_kind("BGPPeer").items():
        used = [UNEXPRESSED["BGPPeer"][k] for k in spec if k in UNEXPRESSED["BGPPeer"]]
        if used:
            raise NotExpressed("BGPPeer %s uses %s" % (name, ", ".join(used)))
        if not spec.get("nodeSelector"):
            raise NotExpressed("BGPPeer %s is global (no nodeSelector): the facet's peers select nodes" % name)
        local = selected(spec["nodeSelector"], nodes)
        if spec.get("peerSelector"):
            # The facet's one node-to-node peering: every node with the route reflectors (confd
            # makes every peering symmetric, so the pairs of nodes are what count).
            if not rrs or pairs(local, selected(spec["peerSelector"], nodes)) != pairs(set(nodes), rrs):
                raise NotExpressed("BGPPeer %s peers nodes other than every node with the route reflectors" % name)
            rr_peering = True
            continue
        ip, port = confd_cases_peer(spec["peerIP"])
        if ":" in ip:
            continue  # an IPv6 peer: bird6.cfg's, not bird.cfg's
        if port:
            raise NotExpressed("BGPPeer %s names a port" % name)
        if local == set(nodes):
            which = "all"
        elif local == rrs:
            which = "route_reflectors"
        else:
            raise NotExpressed("BGPPeer %s selects some nodes, neither all nor the route reflectors" % name)
        peer = {"name": name, "ip": ip, "as": int(spec.get("asNumber") or DEFAULT_AS), "peers": which,
                "keep_next_hop": bool(spec.get("keepOriginalNextHop"))}
        ref = (spec.get("password") or {}).get("secretKeyRef")
        if ref:
            value = objects.secrets.get(ref["name"], {}).get(ref["key"])
            if value is None:
                raise NotExpressed("BGPPeer %s names a password its Secret does not hold (the role always "
                                   "writes the Secret it names)" % name)
            peer["password_file"] = os.path.join(secrets_dir, name)
            fd = os.open(peer["password_file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(value)
        peers.append(peer)
    return peers, rr_peering


def pairs(local, remote):
    return set(frozenset((a, b)) for a in local for b in remote if a != b)


def confd_cases_peer(text):
    from nnlab.calico_node import split_peer_ip
    return split_peer_ip(text)


def inventory_for(objects, node, secrets_dir):
    """(hostvars, groups, mesh) of the inventory whose calico_bgp_rr objects are the case's."""
    config = objects.calico.get(("BGPConfiguration", "default"), {})
    used = [UNEXPRESSED["BGPConfiguration"][k] for k in config if k in UNEXPRESSED["BGPConfiguration"]]
    used += ["a node's own BGPConfiguration"] * any(k == "BGPConfiguration" and n != "default" for k, n in objects.calico)
    if used:
        raise NotExpressed("BGPConfiguration uses %s" % ", ".join(sorted(set(used))))
    nodes = calico_nodes(objects)
    if node not in nodes:
        raise NotExpressed("%s has no IPv4 address: the facet's nodes always have one" % node)
    if any(bgp_fields.get("asNumber") for _, _, _, bgp_fields in nodes.values()):
        raise NotExpressed("a node has an AS number of its own: the facet gives a cluster one AS")
    as_number = int(config.get("asNumber") or DEFAULT_AS)
    rrs = set(n for n, (_, _, _, f) in nodes.items() if f.get("routeReflectorClusterID"))
    peers, rr_peering = peers_of(objects, nodes, rrs, secrets_dir)
    if rrs and not rr_peering:
        raise NotExpressed("route reflectors without the peering of every node with them")
    hostvars, index = {}, 0
    for name, (ip, prefix, _, fields) in nodes.items():
        index += 1
        subnet = "%s/%d" % (ip, prefix)
        hostvars[name] = {
            "cluster_name": "confd", "cluster_pod_cidr": "100.64.0.0/16", "cluster_service_cidr": "100.96.0.0/16",
            "cluster_cni": "calico", "node_ip": ip, "node_subnet": network(subnet), "node_pod_cidrs": ["100.64.%d.0/26" % index],
            "calico_bgp_as": as_number, "calico_bgp_peers": peers, bgp.SINGLE_RR_VARIABLE: True}
        if name in rrs:
            hostvars[name].update(calico_bgp_route_reflector=True, calico_bgp_rr_cluster_id=fields["routeReflectorClusterID"])
    groups = {"all": sorted(hostvars), "confd": sorted(hostvars), bgp.NAME: sorted(hostvars)}
    return hostvars, groups, config.get("nodeToNodeMeshEnabled", True) is not False


def network(cidr):
    import ipaddress
    return str(ipaddress.ip_interface(cidr).network)


CHECKPOINTS = [(case, check, objects) for case in confd_cases.cases() if not case.unsupported
               for check, objects in confd_cases.checkpoints(case) if confd_cases.compiled(check)]


def expressed(case, objects, folder):
    """The facet's table for the case's node, or the reason the facet cannot express the case."""
    try:
        hostvars, groups, mesh = inventory_for(objects, case.node, folder)
    except NotExpressed as exc:
        return None, str(exc)
    fabric = model.read(hostvars, groups)
    problems = fabric.problems([bgp.NAME])
    assert not problems, [str(p) for p in problems]
    return dict((s["name"], s) for s in bgp_sessions.expected(fabric, case.node, mesh=mesh)), None


@pytest.mark.parametrize("case, check, objects", CHECKPOINTS, ids=["%s@%s" % (c.name, k) for c, k, _ in CHECKPOINTS])
def test_the_facet_expects_the_sessions_confd_renders(case, check, objects):
    with tempfile.TemporaryDirectory() as folder:
        table, reason = expressed(case, objects, folder)
    if table is None:
        pytest.skip("the facet cannot express it: %s" % reason)
    found = bird_config.differences(bird_config.sessions(confd_cases.compiled(check)), table)
    assert not found, "\n".join(found)


def test_every_family_the_facet_speaks_for_is_compared():
    """The mesh, route reflectors (with the mesh on and off) and external peers (to the route
    reflectors, with next hop keep) are compared; a translation or facet change that stops
    expressing one of them fails here rather than becoming a silent skip."""
    with tempfile.TemporaryDirectory() as folder:
        compared = set(check for case, check, objects in CHECKPOINTS if expressed(case, objects, folder)[0] is not None)
    for check in ("mesh/ipip-always", "mesh/route-reflector-mesh-enabled", "explicit_peering/route_reflector",
                  "explicit_peering/keepnexthop"):
        assert check in compared, sorted(compared)
