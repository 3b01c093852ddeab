"""Calico's confd as the oracle of calico_bgp_rr's expected session table: every checkpoint of
confd's own test suite (read from the pinned calico module) whose objects the facet can express is
turned into the inventory that makes those objects, and the facet's table for the node under test
must be the sessions of confd's compiled bird.cfg, peer by peer (bird_config.FIELDS), and where
every node has an IPv6 address, its IPv6 sessions those of bird6.cfg. A checkpoint the facet
cannot express is skipped with the reason."""
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
    """{name: (ip, prefix, labels, bgp)} of the nodes with an IPv4 address (bgp: the v3 Node's BGP
    fields, its ipv6Address among them)."""
    found = {}
    for name, node in sorted(objects.nodes.items()):
        address = node["bgp"].get("ipv4Address")
        if address:
            ip, _, prefix = address.partition("/")
            found[name] = (ip, int(prefix or 32), node["labels"], node["bgp"])
    return found


def selected(selector, nodes):
    return set(n for n, (_, _, labels, _) in nodes.items() if calico_selector.parse(selector)(labels))


def peers_of(objects, nodes, rrs, secrets_dir, ipv6=False):
    """The facet's calico_bgp_peers for the case's BGPPeers (IPv6 ones with `ipv6`), and whether
    they hold the RR peering."""
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
        if ":" in ip and not ipv6:
            continue  # an IPv6 peer of a case the facet meshes in IPv4 only
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


def inventory_for(objects, node, secrets_dir, with_ipv6=True):
    """(hostvars, groups, mesh, ipv6) of the inventory whose calico_bgp_rr objects are the case's;
    `ipv6`: in both families (every node has an IPv6 address, and `with_ipv6`)."""
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
    ipv6 = with_ipv6 and all(f.get("ipv6Address") for _, _, _, f in nodes.values())  # the facet's nodes have every family
    peers, rr_peering = peers_of(objects, nodes, rrs, secrets_dir, ipv6)
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
        if ipv6:
            address = fields["ipv6Address"]
            hostvars[name].update(
                cluster_pod_cidr="100.64.0.0/16,fd64::/48", node_ip="%s,%s" % (ip, address.split("/")[0]),
                node_subnet="%s,%s" % (network(subnet), network(address if "/" in address else address + "/128")),
                node_pod_cidrs=["100.64.%d.0/26" % index, "fd64:0:0:%x::/122" % index])
        if name in rrs:
            hostvars[name].update(calico_bgp_route_reflector=True, calico_bgp_rr_cluster_id=fields["routeReflectorClusterID"])
    groups = {"all": sorted(hostvars), "confd": sorted(hostvars), bgp.NAME: sorted(hostvars)}
    return hostvars, groups, config.get("nodeToNodeMeshEnabled", True) is not False, ipv6


def network(cidr):
    import ipaddress
    return str(ipaddress.ip_interface(cidr).network)


CHECKPOINTS = [(case, check, objects) for case in confd_cases.cases() if not case.unsupported
               for check, objects in confd_cases.checkpoints(case) if confd_cases.compiled(check)]
IPV6_COMPARED = []  # the checkpoints whose IPv6 sessions were compared with bird6.cfg


def expressed(case, objects, folder):
    """(the facet's table for the case's node, None, whether it is in both families), or (None,
    the reason the facet cannot express the case, False). A case whose IPv6 side the facet cannot
    express is compared in IPv4."""
    try:
        hostvars, groups, mesh, ipv6 = inventory_for(objects, case.node, folder)
    except NotExpressed as exc:
        try:
            hostvars, groups, mesh, ipv6 = inventory_for(objects, case.node, folder, with_ipv6=False)
        except NotExpressed:
            return None, str(exc), False
    fabric = model.read(hostvars, groups)
    problems = fabric.problems([bgp.NAME])
    assert not problems, [str(p) for p in problems]
    return bgp_sessions.expected(fabric, case.node, mesh=mesh), None, ipv6


def by_name(table, version):
    return dict((s["name"], s) for s in table if s["family"] == version)


@pytest.mark.parametrize("case, check, objects", CHECKPOINTS, ids=["%s@%s" % (c.name, k) for c, k, _ in CHECKPOINTS])
def test_the_facet_expects_the_sessions_confd_renders(case, check, objects):
    with tempfile.TemporaryDirectory() as folder:
        table, reason, ipv6 = expressed(case, objects, folder)
    if table is None:
        pytest.skip("the facet cannot express it: %s" % reason)
    found = bird_config.differences(bird_config.sessions(confd_cases.compiled(check)), by_name(table, 4))
    if ipv6:
        found += ["IPv6: %s" % line for line in bird_config.differences(
            bird_config.sessions(confd_cases.compiled(check, 6) or ""), by_name(table, 6))]
        IPV6_COMPARED.append(check)
    assert not found, "\n".join(found)


def test_every_family_the_facet_speaks_for_is_compared():
    """The mesh, route reflectors (with the mesh on and off) and external peers (to the route
    reflectors, with next hop keep) are compared, and the mesh in IPv6 too; a translation or
    facet change that stops expressing one of them fails here rather than becoming a silent skip."""
    with tempfile.TemporaryDirectory() as folder:
        results = [(check, expressed(case, objects, folder)) for case, check, objects in CHECKPOINTS]
    compared = set(check for check, (table, _reason, _ipv6) in results if table is not None)
    for check in ("mesh/ipip-always", "mesh/route-reflector-mesh-enabled", "explicit_peering/route_reflector",
                  "explicit_peering/keepnexthop"):
        assert check in compared, sorted(compared)
    in_ipv6 = set(check for check, (_table, _reason, ipv6) in results if ipv6)
    print("compared in both families: %s" % ", ".join(sorted(in_ipv6)))
    for check in ("mesh/static-routes", "mesh/vxlan-always"):  # the mesh's IPv6 sessions (bird6.cfg)
        assert check in in_ipv6, sorted(in_ipv6)
