# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flannel_hostgw facet (seed 000): switch flanneld from vxlan to host-gw without losing a packet.

flanneld itself programs host-gw: each node routes every other node's pod CIDR via its node_ip.
The facet only bridges the switch. Before flanneld restarts, every node gets two routes of ours
per peer, the halves of the peer's pod CIDR via its node_ip: more specific than flanneld's route,
so they carry the traffic whatever flanneld's route says while it replaces vxlan with host-gw
(delete, then add). flanneld never sees them, as it only looks at routes to the whole pod CIDR.
Each half hands over to flanneld's own host-gw route to the whole CIDR: once that route is in the
table, the half goes, and flannel's vxlan device with it.

host-gw needs every node of the cluster on one L2 segment, and platforms that bind MAC and
IP to a port (clouds, OpenStack port security) drop its frames; both are checked here, before
any node is touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.protocols import ROUTE_PROTOCOLS

from ..addresses import NAMES, family, first_address, ip_text, net_range
from ..errors import FabricError
from ..cluster import objects, owners, steps
from ..fabric import api_access, pod_cidrs_problems
from ..node.reconcile import APPLIED

NAME = "flannel_hostgw"
FAMILIES = (4, 6)
HOSTGW_CNIS = ("flannel", "canal")
PLATFORMS = ("baremetal", "vm", "cloud", "openstack")
GUARDED_PLATFORMS = ("cloud", "openstack")
ACK_VARIABLE = "flannel_hostgw_accept_platform_risk"
VARIABLES = {"cluster_platform": "baremetal", "flannel_vni": 1, "flannel_namespace": "kube-flannel",
             ACK_VARIABLE: False}
HOSTGW_ROUTE_PROTOCOL = ROUTE_PROTOCOLS["nodenet_hostgw"]
# net-conf.json's keys that say the cluster's families: written from cluster_pod_cidr.
FAMILY_KEYS = ("Network", "EnableIPv4", "EnableIPv6", "IPv6Network")

PLATFORM_RISK = (
    "host-gw sends pod traffic as plain IP frames between nodes: the source IP is a pod's, the MAC "
    "is the node's. A %s platform checks that every frame's MAC/IP pair is one it assigned to the "
    "port (AWS/GCP/Azure source/destination checks and IP forwarding settings, OpenStack port "
    "security), so it drops them and pods on different nodes cannot reach each other; flannel's "
    "docs and seed 000 say the same. Disable those checks for the pod CIDRs (allowed address pairs, "
    "source/dest check off, IP forwarding on) and set %s: true for this cluster, or keep vxlan.")


@dataclass(frozen=True)
class HostgwSettings:
    platform: str
    accept_platform_risk: bool
    vni: int
    namespace: str
    netconf_extra: dict

    @property
    def device(self):
        """flanneld's IPv4 vxlan device, which host-gw replaces."""
        return "flannel.%d" % self.vni

    def devices(self, versions):
        """flanneld's vxlan devices of these families: flannel.N, flannel-v6.N."""
        return ["flannel.%d" % self.vni if v == 4 else "flannel-v6.%d" % self.vni for v in versions]


SETTINGS = HostgwSettings


def read(reader, node_mtu):
    platform = reader.choice("cluster_platform", PLATFORMS)
    accept = reader.boolean(ACK_VARIABLE)
    vni = reader.integer("flannel_vni", 0, 16777215)
    namespace = reader.raw("flannel_namespace")
    extra = reader.mapping("flannel_netconf_extra")
    if platform in GUARDED_PLATFORMS and not accept:
        reader.error("cluster_platform", "is %s: refusing host-gw. " % platform
                     + PLATFORM_RISK % (platform, ACK_VARIABLE))
    if None in (platform, vni, namespace):
        return None
    return HostgwSettings(platform, accept, vni, str(namespace), extra)


def prepare(fabric):
    """Nothing to share: a host-gw plan only lists the node's own cluster."""


def clusters(fabric):
    """Clusters with a node in the facet's group."""
    return sorted({fabric.nodes[h].cluster for h in fabric.members.get(NAME, []) if h in fabric.nodes})


api_clusters = clusters  # net-conf.json, flanneld's restart, its Nodes


def check(fabric):
    """Every reason host-gw cannot be switched on for the clusters of the group."""
    group = fabric.groups.get(NAME, NAME)
    members = set(fabric.members.get(NAME, []))
    for name in clusters(fabric):
        cluster = fabric.clusters[name]
        nodes = fabric.cluster_nodes(name)
        if cluster.cni not in HOSTGW_CNIS:
            fabric.errors.append(FabricError(name, nodes[0].host, "cluster_cni", "is %s; host-gw is a flannel "
                                             "backend (flannel or canal)" % cluster.cni, NAME))
        left_out = [n.host for n in nodes if n.host not in members]
        if left_out:
            fabric.errors.append(FabricError(name, left_out[0], group, "nodes %s of the cluster are not in group "
                                             "%s; host-gw needs a route on every node" % (", ".join(left_out), group),
                                             NAME))
        for node in nodes:  # each family of the cluster: the core checks it
            fabric.errors.extend(pod_cidrs_problems(fabric, node, NAME))
            for cidr in node.pod_cidrs:
                if cidr.endswith(("/32", "/128")):
                    fabric.errors.append(FabricError(
                        name, node.host, "node_pod_cidrs", "%s is a single address; the switch bridges a pod CIDR "
                        "with its two halves, so it needs a shorter prefix" % cidr, NAME))
        for version in cluster.families:
            check_segment(fabric, name, nodes, version)
        check_family_keys(fabric, cluster, nodes)


def family_keys(cluster):
    """net-conf.json's keys of the cluster's families: Network for its IPv4 range, EnableIPv6 and
    IPv6Network for its IPv6 one, EnableIPv4 false without an IPv4 one."""
    keys = {"Network": cluster.pod_cidr_of(4)} if cluster.pod_cidr_of(4) else {"EnableIPv4": False}
    if cluster.pod_cidr_of(6):
        keys.update(EnableIPv6=True, IPv6Network=cluster.pod_cidr_of(6))
    return keys


def check_family_keys(fabric, cluster, nodes):
    """flannel_netconf_extra may repeat a family key, never contradict cluster_pod_cidr."""
    wanted = dict({"EnableIPv4": True, "EnableIPv6": False}, **family_keys(cluster))
    settings = fabric.facets.get(NAME, {})
    for node in nodes:
        extra = settings[node.host].netconf_extra if node.host in settings else {}
        for key in sorted(k for k in extra if k in FAMILY_KEYS and extra[k] not in (None, "", wanted.get(k))):
            says = ("has no %s range" % ("IPv6" if key == "IPv6Network" else "IPv4") if wanted.get(key) is None
                    else "says %s" % json.dumps(wanted[key]))
            fabric.errors.append(FabricError(cluster.name, node.host, "flannel_netconf_extra", (
                "sets %s to %s, but cluster_pod_cidr %s %s; the role writes the families' keys of net-conf.json "
                "from cluster_pod_cidr: leave %s out" % (key, json.dumps(extra[key]), ",".join(cluster.pod_cidrs),
                                                         says, key)), NAME))


def check_segment(fabric, name, nodes, version):
    """host-gw routes a family's pods via each peer's node_ip of that family, on one L2 segment."""
    lacking = [n.host for n in nodes if n.ip_of(version) is None]
    for host in lacking:
        fabric.errors.append(FabricError(name, host, "node_ip", (
            "has no %s address, and cluster %s's pods are %s: host-gw routes them via each node's %s node_ip; give "
            "every node of the cluster one" % (NAMES[version], name, NAMES[version], NAMES[version])), NAME))
    if lacking:
        return
    subnets = {}
    for node in nodes:
        subnets.setdefault(node.subnet_of(version), []).append(node.host)
    if len(subnets) < 2:
        return
    main = max(sorted(subnets), key=lambda s: len(subnets[s]))
    by_subnet = "; ".join("%s: %s" % (s, ", ".join(h)) for s, h in sorted(subnets.items()))
    for subnet, hosts in sorted(subnets.items()):
        if subnet == main:
            continue
        for host in hosts:
            fabric.errors.append(FabricError(
                name, host, "node_subnet",
                "%s is not %s, the L2 segment of %s; host-gw needs every node of the cluster on "
                "one L2 subnet (nodes by subnet: %s). Keep flannel's vxlan backend, or join the "
                "nodes with vxlan_mesh and vxlan_mesh_direct_routing, which routes peers on the "
                "same subnet directly and the rest over vxlan"
                % (subnet, main, ", ".join(subnets[main]), by_subnet), NAME))


# --- one node's plan --------------------------------------------------------------------

def node_state(fabric, host, retire=False, wait=0, restarted=True):
    """Reconcile arguments for one node: per peer pod CIDR, its two halves via the peer's
    node_ip, each handing over to flanneld's host-gw route to the whole CIDR. With `retire`,
    flannel.N goes too once every successor route is there, waiting up to `wait` seconds where
    this run restarted flanneld (`restarted`, and the cluster has a kubeconfig); elsewhere it
    does not wait, and the bridge and flannel.N stay until flanneld runs host-gw."""
    node = fabric.nodes[host]
    if not (restarted and fabric.clusters[node.cluster].api):
        wait = 0
    flannel = fabric.settings(NAME, host).devices(fabric.clusters[node.cluster].families)
    rank = fabric.pod_rank()
    routes = []
    for peer in peers(fabric, node):
        for cidr in sorted(peer.pod_cidrs, key=rank.get):
            via = peer.ip_of(family(cidr))
            successor = {"dst": cidr, "via": via, "dev": node.interface}
            routes += [{"dst": half, "via": via, "dev": node.interface, "onlink": False, "handover": successor}
                       for half in halves(cidr)]
    return {
        "routes": routes,
        "route_protocol": HOSTGW_ROUTE_PROTOCOL,
        "retire_devices": flannel if retire else [],
        "handover_wait": int(wait) if retire else 0,
    }


def halves(cidr):
    """The two CIDRs one bit longer that make up `cidr`."""
    first, last = net_range(cidr)
    length = int(cidr.partition("/")[2]) + 1
    middle = first + (last - first + 1) // 2
    return ["%s/%d" % (ip_text(first, family(cidr)), length), "%s/%d" % (ip_text(middle, family(cidr)), length)]


def node_plan(fabric, host, retire=False, wait=0, restarted=True):
    """{reconcile, verify, report} for one node."""
    node = fabric.nodes[host]
    interfaces = (node.interface, fabric.settings(NAME, host).device)
    return {
        "reconcile": node_state(fabric, host, retire, wait, restarted),
        # Reverse-path filtering of the underlay and flannel's device (with `all`, which wins when
        # higher), read with `grep -H '' <files>` (path:value per line; a missing flannel.N prints nothing).
        "preflight": {"rp_filter": ["grep", "-H", ""] + ["/proc/sys/net/ipv4/conf/%s/rp_filter" % i
                                                         for i in ("all",) + interfaces]},
        # flannel puts each node's cni0 on the first address of its pod CIDR (the lab's pod too).
        "verify": {"targets": ",".join(first_address(cidr) for peer in peers(fabric, node) for cidr in peer.pod_cidrs)},
        # No encapsulation: pods can use the underlay's full MTU.
        "report": {"pod_mtu": node.mtu},
    }


def peers(fabric, node):
    return [p for p in fabric.cluster_nodes(node.cluster) if p.host != node.host]


def cluster_settings(fabric, cluster):
    """The cluster's settings, as its first node in the group has them."""
    return next(fabric.facets[NAME][n.host] for n in fabric.cluster_nodes(cluster) if n.host in fabric.facets[NAME])


def netconf(fabric, cluster):
    """flannel's net-conf.json with the host-gw backend, in the cluster's families: Network for its
    IPv4 range, EnableIPv6 and IPv6Network for its IPv6 one (so a dual-stack cluster stays one),
    EnableIPv4 false without an IPv4 one."""
    conf = family_keys(fabric.clusters[cluster])
    conf["Backend"] = {"Type": "host-gw"}
    extra = cluster_settings(fabric, cluster).netconf_extra
    conf.update(dict((k, v) for k, v in extra.items() if k not in conf))
    return json.dumps(conf, sort_keys=True)


def configmaps(fabric):
    """[{cluster, kubeconfig, manifests, daemonset}]: kube-flannel-cfg (flannel) or canal-config
    (canal), and the DaemonSet whose flanneld reads it.

    Only the net-conf.json key is rendered: server-side apply then takes over that one field
    and keeps the ConfigMap's other keys (cni-conf.json, canal_iface, ...)."""
    result = []
    for name in clusters(fabric):
        cluster = fabric.clusters[name]
        if cluster.cni == "canal":
            meta = {"name": "canal-config", "namespace": "kube-system"}
            daemonset = {"name": "canal", "namespace": "kube-system"}
        else:
            meta = {"name": "kube-flannel-cfg", "namespace": cluster_settings(fabric, name).namespace}
            daemonset = {"name": "kube-flannel-ds", "namespace": meta["namespace"]}
        meta["labels"] = dict(owners.LABELS)
        manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                    "data": {"net-conf.json": netconf(fabric, name)}}
        result.append({"cluster": name, **api_access(cluster), "manifests": [manifest],
                       "daemonset": daemonset,
                       "nodes": dict((n.host, list(n.ips)) for n in fabric.cluster_nodes(name))})
    return result


ANNOTATIONS = "flannel.alpha.coreos.com/"
BACKEND_ANNOTATION = ANNOTATIONS + "backend-type"
PUBLIC_IP_ANNOTATION = ANNOTATIONS + "public-ip"
# The address flanneld announces, per family.
PUBLIC_IP_ANNOTATIONS = {4: PUBLIC_IP_ANNOTATION, 6: ANNOTATIONS + "public-ipv6"}


def annotations(node):
    return (node.get("metadata") or {}).get("annotations") or {}


def node_problems(step, found):
    """What a cluster's API says that the switch cannot work with, checked before any node
    changes: a node of the inventory that is no Node of its cluster, and a flanneld that announces
    another address than the node's node_ip (its host-gw routes would go via that address, so the
    bridge routes, via node_ip, would never be handed over)."""
    problems = []
    found = dict((n["metadata"]["name"], n) for n in found["nodes"] or [])
    for host, ips in sorted(step["nodes"].items()):
        node = found.get(host)
        if node is None:
            problems.append("cluster %s, node %s: not a Node of the cluster's API; flanneld routes only "
                            "the pods of registered Nodes (host names must be Node names)" % (step["cluster"], host))
            continue
        for ip in ips:
            annotation = PUBLIC_IP_ANNOTATIONS[family(ip)]
            announced = annotations(node).get(annotation)
            if announced and announced != ip:
                values = (step["cluster"], host, announced, annotation, ip, announced)
                problems.append("cluster %s, node %s: flanneld announces %s (annotation %s) but node_ip is %s; "
                                "its host-gw routes would go via %s: set node_ip to it, or make flanneld use "
                                "node_ip (--iface or --public-ip)" % values)
    return problems


def must_restart(step, found, changed):
    """flanneld restarts now where net-conf.json changed, or where a node says its flanneld runs
    another backend than host-gw (flanneld writes it on its Node when it starts); never while its
    DaemonSet is still rolling out (restarting it again would start the rollout over)."""
    if found["daemonset"] is None:
        return True  # the restart names it as missing
    if not objects.daemonset_ready(found["daemonset"]):
        return False
    nodes = dict((n["metadata"]["name"], n) for n in found["nodes"] or [])
    other = [h for h in step["nodes"] if annotations(nodes.get(h, {})).get(BACKEND_ANNOTATION) != "host-gw"]
    return "net-conf.json" in changed or bool(other)


NODES = {"api_version": "v1", "kind": "Node"}


def daemonset(item):
    return objects.ref("apps/v1", "DaemonSet", item["daemonset"]["name"], item["daemonset"]["namespace"])


def cluster_checks(fabric, state="present", options=None):
    """Each cluster's Nodes, read before any node changes (node_problems); nothing to check for a removal."""
    if state != "present":
        return []
    return [steps.step(i, "check", "flanneld's Nodes", check=steps.named(node_problems), read={"nodes": NODES},
                       nodes=i["nodes"]) for i in configmaps(fabric)]


def cluster_steps(fabric, state="present", secrets=None, options=None):
    """Once every node has its bridge routes: net-conf.json with Backend host-gw (only that key is forced: the ConfigMap's other keys
    stay), then, with `restart_flanneld`, flanneld restarted where it must and every rollout
    waited for, so that the retire play finds flanneld's routes."""
    items = configmaps(fabric)
    order = [steps.gate(APPLIED)] + steps.apply(items, "net-conf.json", file="flannel-hostgw.yml", force=True)
    if (options or {}).get("restart_flanneld", True):
        for item in items:
            ds = item["daemonset"]
            read = {"nodes": NODES, "daemonset": dict(api_version="apps/v1", kind="DaemonSet", **ds)}
            order.append(steps.step(item, "restart", "flanneld restarted", objects=[daemonset(item)],
                                    only_if=steps.named(must_restart), read=read, nodes=item["nodes"]))
        order += [steps.step(i, "wait", "flanneld rolled out", objects=[daemonset(i)], until="ready") for i in items]
    return order + [steps.gate("switched")]  # the nodes hand over to flanneld after it


def rp_filter_problem(host, read):
    """Why strict reverse-path filtering (1) breaks the switch on this node, or "": during the
    bridge play a peer still on vxlan sends over flannel.N while this node answers over the
    underlay, and each side drops what arrives on the other interface. `read` is the
    output of the node_plan's preflight.rp_filter command (a missing flannel.N prints nothing)."""
    values = {}
    for line in (read or "").splitlines():
        path, _sep, value = line.rpartition(":")
        if path and value.strip().isdigit():
            values[path.split("/")[-2]] = int(value)
    strict = sorted(i for i, v in values.items() if i != "all" and max(v, values.get("all", 0)) == 1)
    if not strict:
        return ""
    return ("node %s: strict reverse-path filtering (rp_filter 1) on %s: while peers are still on vxlan, "
            "their packets arrive on the device this node does not route back through, and are dropped; set "
            "net.ipv4.conf.all.rp_filter and net.ipv4.conf.<device>.rp_filter to 2 (loose, systemd's default) "
            "for the switch" % (host, ", ".join(strict)))
