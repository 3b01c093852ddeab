# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes side of calico_bgp_rr, per cluster and per step of the outage-free order.

- as: the cluster's AS in BGPConfiguration `default`, first (an external peer checks it);
- reflectors: the route-reflector label and cluster-ID annotation on the RR Nodes (Calico's
  Kubernetes datastore keeps a node's BGP fields as annotations on the Kubernetes Node);
- peers: the Secret holding peer passwords (with the Role that lets calico-node read it), and
  the BGPPeers: every node to the RRs, and the external (ToR) peers;
- config: BGPConfiguration `default` (AS, the node-to-node mesh), the IPPool's modes and
  natOutgoing, calico-config's calico_backend, and calico-node's ipip/vxlan env.

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
from .model import NAME, POOL_MODES, RR_CLUSTER_ID_ANNOTATION, RR_LABEL, RR_PEER_NAME, cluster_settings, clusters, reflectors

LABELS = owners.LABELS
CALICO_API = "crd.projectcalico.org/v1"
RR_SELECTOR = "%s == 'true'" % RR_LABEL
STEPS = ("as", "reflectors", "peers", "config")
# Where the order waits for the nodes: each has read its sessions (and bridges where any changes),
# its new sessions are Established, and it has exactly the expected sessions and routes.
GATES = ("bridged", "sessions_up", "settled")
PRUNE = {"peers": owners.prune(CALICO_API, "BGPPeer")}


def manifests(fabric, step, topology=None, secrets=None):
    """[{cluster, kubeconfig, manifests, prune?}] of one step, for every cluster of the group (or
    only those whose target `topology` is "mesh" or "reflectors"). `secrets`: the run's values of
    the peers' password_var."""
    render = {"as": as_number, "reflectors": reflector_nodes, "peers": partial(peers, secrets=secrets),
              "config": config}[step]
    result = []
    for name in clusters(fabric):
        if topology is not None and (topology == "reflectors") != bool(reflectors(fabric, name)):
            continue
        item = dict(api_access(fabric.clusters[name]), cluster=name, manifests=render(fabric, name))
        if step in PRUNE:
            item["prune"] = PRUNE[step]
        result.append(item)
    return result


def as_number(fabric, cluster):
    """The cluster's AS alone, set before any new session is expected (an external peer checks
    it); applied by a field manager of its own, so it never releases the mesh switch."""
    return [{"apiVersion": CALICO_API, "kind": "BGPConfiguration", "metadata": {"name": "default"},
             "spec": {"asNumber": cluster_settings(fabric, cluster).as_number}}]


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


def config(fabric, cluster):
    settings = cluster_settings(fabric, cluster)
    ipip, vxlan = POOL_MODES[settings.mode]
    mesh = not reflectors(fabric, cluster)
    return [
        {"apiVersion": CALICO_API, "kind": "BGPConfiguration", "metadata": {"name": "default"},
         "spec": {"logSeverityScreen": "Info", "nodeToNodeMeshEnabled": mesh, "asNumber": settings.as_number}},
        # Only the fields we set: the pool's cidr, blockSize and selector stay the owner's.
        {"apiVersion": CALICO_API, "kind": "IPPool", "metadata": {"name": settings.pool},
         "spec": {"ipipMode": ipip, "vxlanMode": vxlan, "natOutgoing": settings.nat_outgoing}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calico-config", "namespace": settings.namespace},
         "data": {"calico_backend": "bird"}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "calico-node", "namespace": settings.namespace},
         "spec": {"template": {"spec": {"containers": [{"name": "calico-node", "env": node_env(ipip, vxlan)}]}}}},
    ]


def node_env(ipip, vxlan):
    """calico-node's switches: felix's ipip device, and the modes of a pool it would create."""
    return [{"name": "CALICO_IPV4POOL_IPIP", "value": ipip},
            {"name": "CALICO_IPV4POOL_VXLAN", "value": vxlan},
            {"name": "FELIX_IPINIPENABLED", "value": "false" if ipip == "Never" else "true"},
            {"name": "FELIX_VXLANENABLED", "value": "false" if vxlan == "Never" else "true"}]


def has_secrets(items):
    return any(m["kind"] == "Secret" for item in items for m in item["manifests"])


def cluster_checks(fabric, state="present", options=None):
    """Every node of the inventory is a Node of its cluster (the role labels Nodes; it never creates one)."""
    return [steps.step(i, "check", "the Nodes", check=steps.named(checks.missing),
                       read={"nodes": {"api_version": "v1", "kind": "Node"}},
                       expect={"nodes": [n.host for n in fabric.cluster_nodes(i["cluster"])]},
                       hint=" (inventory host names must be the Kubernetes node names)")
            for i in manifests(fabric, "reflectors")]


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
