# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes side of calico_bgp_rr, per cluster and per step of the outage-free order.

- as: the cluster's AS in BGPConfiguration `default`, first (an external peer checks it);
- addresses: each Node's IPv6 BGP address (annotation projectcalico.org/IPv6Address), where the
  cluster has IPv6 pods, before any IPv6 session is expected;
- reflectors: the route-reflector label and cluster-ID annotation on the RR Nodes (Calico's
  Kubernetes datastore keeps a node's BGP fields as annotations on the Kubernetes Node);
- peers: the Secret holding peer passwords (with the Role that lets calico-node read it), and
  the BGPPeers: every node to the RRs, and the external (ToR) peers;
- config: BGPConfiguration `default` (AS, the node-to-node mesh), the IPPools' modes and
  natOutgoing (one per family), calico-config's calico_backend, and calico-node's ipip/vxlan env
  (and its IPv6 address detection, where the cluster has IPv6).

Every object is applied server-side with field manager nodenet.fabric, so only the fields
rendered here are ours; a field we stop rendering is released (and dropped when no one else
owns it). BGPPeers are ours by label and pruned when no manifest names them; the password Secret
stays (a key of a removed peer too: server-side apply of stringData never drops one).
"""

from __future__ import annotations

from functools import partial

from ..cluster import checks, owners, steps
from ..fabric import api_access
from ..peers import has_password, peer_password
from .model import (IPV6_ADDRESS_ANNOTATION, NAME, POOL_MODES, RR_CLUSTER_ID_ANNOTATION, RR_LABEL, RR_PEER_NAME,
                    cluster_settings, clusters, reflectors)

LABELS = owners.LABELS
CALICO_API = "crd.projectcalico.org/v1"
RR_SELECTOR = "%s == 'true'" % RR_LABEL
STEPS = ("as", "addresses", "reflectors", "peers", "config")
# Where the order waits for the nodes: each has read its sessions (and bridges where any changes),
# its new sessions are Established, and it has exactly the expected sessions and routes.
GATES = ("bridged", "sessions_up", "settled")
PRUNE = {"peers": owners.prune(CALICO_API, "BGPPeer")}


def manifests(fabric, step, topology=None, secrets=None):
    """[{cluster, kubeconfig, manifests, prune?}] of one step, for every cluster of the group (or
    only those whose target `topology` is "mesh" or "reflectors"). `secrets`: the run's values of
    the peers' password_var."""
    render = {"as": as_number, "addresses": node_addresses, "reflectors": reflector_nodes,
              "peers": partial(peers, secrets=secrets), "config": config}[step]
    result = []
    for name in clusters(fabric):
        if topology is not None and (topology == "reflectors") != bool(reflectors(fabric, name)):
            continue
        objects = render(fabric, name)
        if not objects and step == "addresses":
            continue
        item = dict(api_access(fabric.clusters[name]), cluster=name, manifests=objects)
        if step in PRUNE:
            item["prune"] = PRUNE[step]
        result.append(item)
    return result


def as_number(fabric, cluster):
    """The cluster's AS alone, set before any new session is expected (an external peer checks
    it); applied by a field manager of its own, so it never releases the mesh switch."""
    return [{"apiVersion": CALICO_API, "kind": "BGPConfiguration", "metadata": {"name": "default"},
             "spec": {"asNumber": cluster_settings(fabric, cluster).as_number}}]


def node_addresses(fabric, cluster):
    """Each Node's IPv6 BGP address, as calico-node writes it when it detects one (address/prefix
    of its subnet), where the cluster has IPv6 pods: BIRD's IPv6 sessions go between these. Its
    own field manager, so the route-reflector step never releases it."""
    if 6 not in fabric.clusters[cluster].families:
        return []
    return [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": node.host, "annotations": {
        IPV6_ADDRESS_ANNOTATION: "%s/%s" % (node.ip_of(6), node.subnet_of(6).split("/")[1])}}}
        for node in fabric.cluster_nodes(cluster)]


def reflector_nodes(fabric, cluster):
    """Every node of the cluster: an RR with its label and cluster ID, any other with neither,
    which releases them when the node stops being an RR."""
    rrs = dict((n.host, fabric.facets[NAME][n.host].rr_cluster_id) for n in reflectors(fabric, cluster))
    objects = []
    for node in fabric.cluster_nodes(cluster):
        meta = {"name": node.host}
        if node.host in rrs:
            meta["labels"] = {RR_LABEL: "true"}
            meta["annotations"] = {RR_CLUSTER_ID_ANNOTATION: rrs[node.host]}
        objects.append({"apiVersion": "v1", "kind": "Node", "metadata": meta})
    return objects


def peers(fabric, cluster, secrets=None):
    settings = cluster_settings(fabric, cluster)
    objects = []
    passwords = dict((p["name"], peer_password(p, secrets)) for p in settings.peers if has_password(p))
    if passwords:
        objects += password_secret(settings, passwords)
    if reflectors(fabric, cluster):
        objects.append(bgp_peer(RR_PEER_NAME, {"nodeSelector": "all()", "peerSelector": RR_SELECTOR}))
    for peer in settings.peers:
        spec = {"peerIP": peer["ip"], "asNumber": peer["as"],
                "nodeSelector": RR_SELECTOR if peer["peers"] == "route_reflectors" else "all()"}
        if peer["keep_next_hop"]:
            spec["keepOriginalNextHop"] = True
        if has_password(peer):
            spec["password"] = {"secretKeyRef": {"name": settings.password_secret, "key": peer["name"]}}
        objects.append(bgp_peer(peer["name"], spec))
    return objects


def bgp_peer(name, spec):
    return {"apiVersion": CALICO_API, "kind": "BGPPeer", "metadata": {"name": name, "labels": dict(LABELS)},
            "spec": spec}


def password_secret(settings, secrets):
    """The Secret (one key per peer) and the Role/RoleBinding Calico documents for calico-node to
    read it."""
    meta = {"name": settings.password_secret, "namespace": settings.namespace, "labels": dict(LABELS)}
    role = {"name": "%s-reader" % settings.password_secret, "namespace": settings.namespace, "labels": dict(LABELS)}
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "stringData": secrets},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": role,
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [settings.password_secret],
                    "verbs": ["watch", "list", "get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": dict(role),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["name"]},
         "subjects": [{"kind": "ServiceAccount", "name": "calico-node", "namespace": settings.namespace}]},
    ]


def pool_names(fabric, cluster):
    """{family: the IPPool's name} of the cluster's pod families."""
    settings = cluster_settings(fabric, cluster)
    return dict((v, settings.pool if v == 4 else settings.pool_v6) for v in fabric.clusters[cluster].families)


def pool_modes(mode, version):
    """(ipipMode, vxlanMode) of the family's pool: IPIP carries IPv4 only."""
    ipip, vxlan = POOL_MODES[mode]
    return ("Never", vxlan) if version == 6 else (ipip, vxlan)


def config(fabric, cluster):
    settings = cluster_settings(fabric, cluster)
    mesh = not reflectors(fabric, cluster)
    pools = []
    for version, name in sorted(pool_names(fabric, cluster).items()):
        ipip, vxlan = pool_modes(settings.mode, version)
        # Only the fields we set: the pool's cidr, blockSize and selector stay the owner's.
        pools.append({"apiVersion": CALICO_API, "kind": "IPPool", "metadata": {"name": name},
                      "spec": {"ipipMode": ipip, "vxlanMode": vxlan, "natOutgoing": settings.nat_outgoing}})
    env = node_env(*POOL_MODES[settings.mode]) + ipv6_env(fabric, cluster)
    return [
        {"apiVersion": CALICO_API, "kind": "BGPConfiguration", "metadata": {"name": "default"},
         "spec": {"logSeverityScreen": "Info", "nodeToNodeMeshEnabled": mesh, "asNumber": settings.as_number}},
    ] + pools + [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calico-config", "namespace": settings.namespace},
         "data": {"calico_backend": "bird"}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "calico-node", "namespace": settings.namespace},
         "spec": {"template": {"spec": {"containers": [{"name": "calico-node", "env": env}]}}}},
    ]


def node_env(ipip, vxlan):
    """calico-node's switches: felix's ipip device, and the modes of a pool it would create."""
    return [{"name": "CALICO_IPV4POOL_IPIP", "value": ipip},
            {"name": "CALICO_IPV4POOL_VXLAN", "value": vxlan},
            {"name": "FELIX_IPINIPENABLED", "value": "false" if ipip == "Never" else "true"},
            {"name": "FELIX_VXLANENABLED", "value": "false" if vxlan == "Never" else "true"}]


def ipv6_env(fabric, cluster):
    """Where the cluster has IPv6: calico-node detects the node's IPv6 address in the nodes' IPv6
    subnets (the address node_addresses writes, again at each restart) and felix handles IPv6;
    without IPv4, BIRD's router ID is derived from the node name."""
    if 6 not in fabric.clusters[cluster].families:
        return []
    subnets = sorted(set(n.subnet_of(6) for n in fabric.cluster_nodes(cluster)))
    env = [{"name": "IP6", "value": "autodetect"},
           {"name": "IP6_AUTODETECTION_METHOD", "value": "cidr=" + ",".join(subnets)},
           {"name": "FELIX_IPV6SUPPORT", "value": "true"}]
    if 4 not in fabric.clusters[cluster].families:
        env += [{"name": "IP", "value": "none"}, {"name": "CALICO_ROUTER_ID", "value": "hash"}]
    return env


def has_secrets(items):
    return any(m["kind"] == "Secret" for item in items for m in item["manifests"])


def cluster_checks(fabric, state="present", options=None):
    """Every node of the inventory is a Node of its cluster, and each family's IPPool exists (the
    role labels Nodes and sets a pool's modes; it never creates either)."""
    found = []
    for item in manifests(fabric, "reflectors"):
        found.append(steps.step(item, "check", "the Nodes", check=steps.named(checks.missing),
                                read={"nodes": {"api_version": "v1", "kind": "Node"}},
                                expect={"nodes": [n.host for n in fabric.cluster_nodes(item["cluster"])]},
                                hint=" (inventory host names must be the Kubernetes node names)"))
        found.append(steps.step(item, "check", "the IPPools", check=steps.named(checks.missing),
                                read={"pools": {"api_version": CALICO_API, "kind": "IPPool"}},
                                expect={"pools": sorted(pool_names(fabric, item["cluster"]).values())},
                                hint=" (calico_bgp_pool, calico_bgp_pool_v6: the pools' names)"))
    return found


def cluster_steps(fabric, state="present", secrets=None, options=None):
    """The order that loses nothing. The cluster's AS first (its own field manager: it never
    releases the mesh switch). Back to the mesh: the mesh on first (BGPConfiguration, pool
    modes), the external peers moved to every node, and only after the gate (every node's
    sessions Established) the route reflectors released. To route reflectors: the RRs labelled,
    the BGPPeers applied (ours no longer named pruned), and only after the gate the mesh off."""
    bridged, sessions_up, settled = GATES
    return ([steps.gate(bridged)]
            + steps.apply(manifests(fabric, "as"), "AS number", file="calico-bgp-as.yml", force=True,
                          field_manager="nodenet.fabric-as")
            + steps.apply(manifests(fabric, "addresses"), "IPv6 addresses", file="calico-bgp-addresses.yml",
                          force=True, field_manager="nodenet.fabric-addresses")
            + steps.apply(manifests(fabric, "config", "mesh"), "mesh on", file="calico-bgp-config.yml", force=True)
            + steps.apply(manifests(fabric, "peers", "mesh", secrets), "peers (mesh)", file="calico-bgp-peers.yml",
                          secret=True)
            + steps.apply(manifests(fabric, "reflectors", "reflectors"), "reflectors",
                          file="calico-bgp-reflectors.yml")
            + steps.apply(manifests(fabric, "peers", "reflectors", secrets), "peers (reflectors)",
                          file="calico-bgp-peers.yml", secret=True)
            + [steps.gate(sessions_up)]
            + steps.apply(manifests(fabric, "reflectors", "mesh"), "reflectors released",
                          file="calico-bgp-reflectors.yml")
            + steps.apply(manifests(fabric, "config", "reflectors"), "mesh off", file="calico-bgp-config.yml",
                          force=True)
            + [steps.gate(settled)])
