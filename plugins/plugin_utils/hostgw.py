# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flannel/canal host-gw (seed 000): one route per other node of the cluster, via its node_ip.

host-gw needs every node of the cluster on one L2 segment, and platforms that bind MAC and
IP to a port (clouds, OpenStack port security) drop its frames; both are checked here, before
any node is touched.
"""

from __future__ import annotations

import json

from netaddr import IPAddress

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.protocols import ROUTE_PROTOCOLS

from .errors import FabricError
from .mesh import by_destination

HOSTGW_CNIS = ("flannel", "canal")
PLATFORMS = ("baremetal", "vm", "cloud", "openstack")
GUARDED_PLATFORMS = ("cloud", "openstack")
ACK_VARIABLE = "flannel_hostgw_accept_platform_risk"
DEFAULTS = {"cluster_platform": "baremetal", "flannel_vni": 1, "flannel_namespace": "kube-flannel",
            ACK_VARIABLE: False}
HOSTGW_ROUTE_PROTOCOL = ROUTE_PROTOCOLS["nodenet_hostgw"]

PLATFORM_RISK = (
    "host-gw sends pod traffic as plain IP frames between nodes: the source IP is a pod's, the MAC "
    "is the node's. A %s platform checks that every frame's MAC/IP pair is one it assigned to the "
    "port (AWS/GCP/Azure source/destination checks and IP forwarding settings, OpenStack port "
    "security), so it drops them and pods on different nodes cannot reach each other; flannel's "
    "docs and seed 000 say the same. Disable those checks for the pod CIDRs (allowed address pairs, "
    "source/dest check off, IP forwarding on) and set %s: true for this cluster, or keep vxlan.")


def setting(hostvars, host, name):
    value = hostvars[host].get(name)
    return DEFAULTS.get(name) if value in (None, "") else value


def as_bool(value):
    return value is True or str(value).strip().lower() in ("true", "yes", "on", "1")


def device_name(hostvars, host):
    return "flannel.%d" % int(setting(hostvars, host, "flannel_vni"))


def problems(fabric, hostvars, groups, group="flannel_hostgw"):
    """Every reason host-gw cannot be switched on for the clusters of `group`."""
    errors = []
    members = set(groups.get(group) or [])
    clusters = sorted({fabric.nodes[h].cluster for h in members if h in fabric.nodes})
    for name in clusters:
        cluster = fabric.clusters[name]
        nodes = fabric.cluster_nodes(name)
        first = nodes[0].host
        if cluster.cni not in HOSTGW_CNIS:
            errors.append(FabricError(name, first, "cluster_cni", "is %s; host-gw is a flannel backend "
                                      "(flannel or canal)" % cluster.cni))
        left_out = [n.host for n in nodes if n.host not in members]
        if left_out:
            errors.append(FabricError(name, left_out[0], group, "nodes %s of the cluster are not in group "
                                      "%s; host-gw needs a route on every node" % (", ".join(left_out), group)))
        subnets = {}
        for node in nodes:
            subnets.setdefault(str(node.subnet), []).append(node.host)
        if len(subnets) > 1:
            main = max(sorted(subnets), key=lambda s: len(subnets[s]))
            for subnet, hosts in sorted(subnets.items()):
                if subnet == main:
                    continue
                for host in hosts:
                    errors.append(FabricError(
                        name, host, "node_subnet",
                        "%s is not %s, the L2 segment of %s; host-gw needs every node of the cluster on "
                        "one L2 subnet (nodes by subnet: %s). Keep flannel's vxlan backend, or join the "
                        "nodes with vxlan_mesh and vxlan_mesh_direct_routing, which routes peers on the "
                        "same subnet directly and the rest over vxlan"
                        % (subnet, main, ", ".join(subnets[main]),
                           "; ".join("%s: %s" % (s, ", ".join(h)) for s, h in sorted(subnets.items())))))
        for node in nodes:
            platform = setting(hostvars, node.host, "cluster_platform")
            if platform not in PLATFORMS:
                errors.append(FabricError(name, node.host, "cluster_platform", "%r is not one of %s"
                                          % (platform, ", ".join(PLATFORMS))))
            elif platform in GUARDED_PLATFORMS and not as_bool(setting(hostvars, node.host, ACK_VARIABLE)):
                errors.append(FabricError(name, node.host, "cluster_platform",
                                          "is %s: refusing host-gw. " % platform
                                          + PLATFORM_RISK % (platform, ACK_VARIABLE)))
            try:
                vni = int(setting(hostvars, node.host, "flannel_vni"))
            except (TypeError, ValueError):
                vni = -1
            if not 0 <= vni <= 16777215:
                errors.append(FabricError(name, node.host, "flannel_vni", "%r is not a VNI"
                                          % setting(hostvars, node.host, "flannel_vni")))
    return errors


def node_state(fabric, hostvars, host, retire=False):
    """Reconcile arguments for one node: the host-gw routes, replacing flannel.N's."""
    node = fabric.nodes[host]
    flannel = device_name(hostvars, host)
    routes = []
    for peer in fabric.cluster_nodes(node.cluster):
        if peer.host != host:
            routes += [{"dst": str(cidr), "via": str(peer.ip), "dev": node.interface, "onlink": False}
                       for cidr in peer.pod_cidrs]
    return {
        "routes": by_destination(routes),
        "route_protocol": HOSTGW_ROUTE_PROTOCOL,
        # flanneld's vxlan routes to the same destinations are replaced; once flanneld itself runs
        # host-gw, its identical routes count as ours, so nothing fights it.
        "replace_foreign_on": [flannel],
        "foreign_identical_satisfies": True,
        "retire_devices": [flannel] if retire else [],
        # No encapsulation: pods can use the underlay's full MTU.
        "pod_mtu": node.mtu,
        # flannel puts each node's cni0 on the first address of its pod CIDR (the lab's pod too).
        "probe_targets": [str(IPAddress(cidr.first + 1)) for peer in fabric.cluster_nodes(node.cluster)
                          if peer.host != host for cidr in peer.pod_cidrs],
    }


def netconf(fabric, hostvars, cluster):
    """flannel's net-conf.json with the host-gw backend."""
    host = fabric.cluster_nodes(cluster)[0].host
    conf = {"Network": str(fabric.clusters[cluster].pod_cidr), "Backend": {"Type": "host-gw"}}
    extra = hostvars[host].get("flannel_netconf_extra") or {}
    conf.update(dict((k, v) for k, v in extra.items() if k not in ("Network", "Backend")))
    return json.dumps(conf, sort_keys=True)


def configmaps(fabric, hostvars, groups, group="flannel_hostgw"):
    """[{cluster, kubeconfig, manifests, daemonset}]: kube-flannel-cfg (flannel) or canal-config
    (canal), and the DaemonSet whose flanneld reads it.

    Only the net-conf.json key is rendered: server-side apply then takes over that one field
    and keeps the ConfigMap's other keys (cni-conf.json, canal_iface, ...)."""
    members = set(groups.get(group) or [])
    result = []
    for name in sorted({fabric.nodes[h].cluster for h in members if h in fabric.nodes}):
        cluster = fabric.clusters[name]
        host = fabric.cluster_nodes(name)[0].host
        if cluster.cni == "canal":
            meta = {"name": "canal-config", "namespace": "kube-system"}
            daemonset = {"name": "canal", "namespace": "kube-system"}
        else:
            meta = {"name": "kube-flannel-cfg", "namespace": setting(hostvars, host, "flannel_namespace")}
            daemonset = {"name": "kube-flannel-ds", "namespace": meta["namespace"]}
        meta["labels"] = {"app.kubernetes.io/managed-by": "nodenet.fabric"}
        manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                    "data": {"net-conf.json": netconf(fabric, hostvars, name)}}
        result.append({"cluster": name, "kubeconfig": cluster.kubeconfig, "manifests": [manifest],
                       "daemonset": daemonset})
    return result
