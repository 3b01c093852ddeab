# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The namespace lab built from any fabric inventory (see docs/lab.md).

- one namespace per node, named as the inventory host, whose `node_interface`
  holds each `node_ip` (one per family) and whose default route of each family
  points at the router;
- one router namespace (`nnlab-router`) holding a bridge per underlay segment (the
  node subnets of both families that share nodes), so nodes of one subnet share L2
  and other subnets are routed (L3), in both families;
- one pod stand-in namespace per node, `<host>-pod`, joined to its node by a
  veth pair, holding the first address of each node pod CIDR, with the node as
  its gateway (169.254.1.1 and fe80::1 on the node side, as Calico sets them up);
- flannel and canal clusters run the real flanneld (tools/lab starts it through
  the kubelet stand-in), which programs its vxlan backend, so a switch to host-gw
  can be rehearsed.
The lab's own routes carry protocol static, so they never mix with the boot
routes flanneld's netlink library writes.
This module only computes the commands; tools/lab runs them. It is lab code: it ships
with the checkout, not in the collection.
"""

from __future__ import annotations

from ansible_collections.nodenet.fabric.plugins.plugin_utils.flannel_hostgw import model as hostgw
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import model as tor
from ansible_collections.nodenet.fabric.plugins.plugin_utils.addresses import (
    family, families, first_address, ip_text, net_key, net_range)

ROUTER = "nnlab-router"
POD_GATEWAY = {4: "169.254.1.1", 6: "fe80::1"}
NODE_POD_LINK = "nnlab-pod"  # the node side of the pod veth
HOST_BITS = {4: 32, 6: 128}
GATEWAY_BITS = {4: 32, 6: 64}  # fe80::1 is link-local: the link's /64


def pod_namespace(host):
    return "%s-pod" % host


def pod_ips(node):
    return [first_address(cidr) for cidr in node.pod_cidrs]


def gateway(subnet):
    """The router's address in an underlay subnet: its last usable address."""
    return ip_text(net_range(subnet)[1] - 1, family(subnet))


def nodad(address):
    """An IPv6 address is unique in the lab by construction: no duplicate address detection."""
    return " nodad" if ":" in address else ""


def segments(hosts):
    """{subnet: segment index}: subnets that share a host (a node's IPv4 and IPv6 subnet) are one L2
    segment, one bridge of the router. `hosts` gives each host's subnets."""
    index, merged = {}, []
    for subnets in hosts:
        found = sorted(set(index[s] for s in subnets if s in index))
        group = set(subnets).union(*(merged[i] for i in found)) if found else set(subnets)
        for i in found:
            merged[i] = set()
        merged.append(group)
        for subnet in group:
            index[subnet] = len(merged) - 1
    ordered = sorted((sorted(g, key=net_key) for g in merged if g), key=lambda g: net_key(g[0]))
    return dict((subnet, i) for i, group in enumerate(ordered) for subnet in group)


def prefix(subnet):
    return int(subnet.partition("/")[2])


def outside_hosts(fabric):
    """[(host, ips, subnets, interface)] of the routers and clients around the clusters
    (calico_bgp_rr), their addresses and subnets one per family."""
    hosts = []
    for facet in (tor.ROUTERS, tor.CLIENTS):
        for host, settings in sorted(fabric.facets.get(facet, {}).items()):
            hosts.append((host, settings.ips, settings.subnets, settings.interface))
    return hosts


def topology(fabric):
    """{"namespaces": [...], "commands": {namespace: [ip -batch lines]}, "sysctls": {...}, "errors": [...]}."""
    nodes = sorted(fabric.nodes.values(), key=lambda n: n.host)
    around = outside_hosts(fabric)
    segment = segments([n.subnets for n in nodes] + [o[2] for o in around])
    subnets = sorted(segment, key=net_key)
    errors = []
    used = dict((ip, n.host) for n in nodes for ip in n.ips)
    used.update((ip, o[0]) for o in around for ip in o[1])
    router = ["link add nnbr%d type bridge" % i for i in sorted(set(segment.values()))]
    for subnet in subnets:
        gw = gateway(subnet)
        if gw in used:
            errors.append("node %s uses %s, the lab router's address in %s" % (used[gw], gw, subnet))
        router.append("address add %s/%d dev nnbr%d%s" % (gw, prefix(subnet), segment[subnet], nodad(gw)))
    router += ["link set dev nnbr%d up" % i for i in sorted(set(segment.values()))]
    commands = {ROUTER: router}
    outside = []  # links created in the router namespace and moved into a node namespace
    for index, node in enumerate(nodes):
        bridge = "nnbr%d" % segment[node.subnet]
        port = "nnport%d" % index
        commands[ROUTER] += [
            "link add %s mtu %d type veth peer name nnup%d mtu %d" % (port, node.mtu, index, node.mtu),
            "link set dev nnup%d netns %s" % (index, node.host),
            "link set dev %s master %s up" % (port, bridge),
        ]
        outside.append(node.host)
        pods = pod_ips(node)
        pod_families = families(pods)
        commands[node.host] = [
            "link set dev lo up",
            "link set dev nnup%d name %s" % (index, node.interface),
        ] + ["address add %s/%d dev %s%s" % (ip, prefix(subnet), node.interface, nodad(ip))
             for ip, subnet in zip(node.ips, node.subnets)] + [
            "link set dev %s up" % node.interface,
        ] + ["route add default via %s dev %s proto static" % (gateway(subnet), node.interface)
             for subnet in node.subnets] + [
            "link add %s type veth peer name eth0 netns %s" % (NODE_POD_LINK, pod_namespace(node.host)),
        ] + ["address add %s/%d dev %s%s" % (POD_GATEWAY[v], GATEWAY_BITS[v], NODE_POD_LINK, nodad(POD_GATEWAY[v]))
             for v in pod_families] + [
            "link set dev %s up" % NODE_POD_LINK,
        ] + ["route add %s/%d dev %s proto static" % (ip, HOST_BITS[family(ip)], NODE_POD_LINK) for ip in pods]
        commands[pod_namespace(node.host)] = [
            "link set dev lo up",
            "link set dev eth0 up",
        ] + ["address add %s/%d dev eth0%s" % (ip, HOST_BITS[family(ip)], nodad(ip)) for ip in pods] + (
            ["route add %s dev eth0 scope link" % POD_GATEWAY[4]] if 4 in pod_families else []
        ) + ["route add default via %s dev eth0" % POD_GATEWAY[v] for v in pod_families]
    for index, (host, ips, subnets, interface) in enumerate(around, len(nodes)):
        commands[ROUTER] += [
            "link add nnport%d type veth peer name nnup%d" % (index, index),
            "link set dev nnup%d netns %s" % (index, host),
            "link set dev nnport%d master nnbr%d up" % (index, segment[subnets[0]]),
        ]
        commands[host] = [
            "link set dev lo up",
            "link set dev nnup%d name %s" % (index, interface),
        ] + ["address add %s/%d dev %s%s" % (ip, prefix(subnet), interface, nodad(ip))
             for ip, subnet in zip(ips, subnets)] + [
            "link set dev %s up" % interface,
        ] + ["route add default via %s dev %s proto static" % (gateway(subnet), interface) for subnet in subnets]
    extra = [o[0] for o in around]
    namespaces = [ROUTER] + [n.host for n in nodes] + [pod_namespace(n.host) for n in nodes] + extra
    forwarding = [ROUTER] + [n.host for n in nodes] + sorted(fabric.facets.get(tor.ROUTERS, {}))
    return {"namespaces": namespaces, "commands": commands, "forwarding": forwarding,
            # IPv6 forwarding only where the fabric has IPv6: a router joins the all-routers group,
            # which an IPv4 lab's snapshots need not see
            "ipv6": any(6 in families(n.ips + n.pod_cidrs) for n in nodes) or any(6 in families(o[1]) for o in around),
            "neighbors": neighbor_entries([n.subnet for n in nodes] + [o[2][0] for o in around]),
            "quiet": sorted(fabric.facets.get(tor.ROUTERS, {})),
            "order": [ROUTER] + [n.host for n in nodes] + [pod_namespace(n.host) for n in nodes] + extra,
            "errors": errors}


def neighbor_entries(subnets):
    """How many dynamic neighbor entries the lab's namespaces may hold at once, given the underlay
    subnet of every host: each host may resolve every other host of its subnet and the router (and
    the router each host); a node and its pod resolve each other."""
    counts = {}
    for subnet in subnets:
        counts[subnet] = counts.get(subnet, 0) + 1
    return sum(k * (k - 1) + 2 * k for k in counts.values()) + 2 * len(subnets)


def flannel_settings(fabric, cluster):
    """flanneld's namespace and VNI in a cluster: as its flannel_hostgw nodes have them, else
    flannel's defaults."""
    facet = fabric.facets.get(hostgw.NAME, {})
    settings = next((facet[n.host] for n in fabric.cluster_nodes(cluster) if n.host in facet), None)
    return settings or hostgw.HostgwSettings("baremetal", False, hostgw.VARIABLES["flannel_vni"],
                                             hostgw.VARIABLES["flannel_namespace"], {})


def flannel_devices(fabric, cluster):
    """{family: flanneld's vxlan device} of a cluster's pod families (flannel.N, flannel-v6.N)."""
    vni = flannel_settings(fabric, cluster).vni
    return dict((v, "flannel.%d" % vni if v == 4 else "flannel-v6.%d" % vni) for v in fabric.clusters[cluster].families)


def flanneld_vxlan_ready(fabric, host, routes, links):
    """flanneld's vxlan backend has programmed the node (from `ip -j route` of both families and
    `ip -j link`): its device of each family is up and every other node's pods of that family are
    routed over it."""
    node = fabric.nodes[host]
    for version, device in flannel_devices(fabric, node.cluster).items():
        if not any(link["ifname"] == device and "UP" in link.get("flags", []) for link in links):
            return False
        over = set(r["dst"] for r in routes if r.get("dev") == device)
        if not all(cidr in over for p in fabric.cluster_nodes(node.cluster) if p.host != host
                   for cidr in p.pod_cidrs if family(cidr) == version):
            return False
    return True


def flannel_nodes(fabric):
    return [n.host for n in sorted(fabric.nodes.values(), key=lambda n: n.host)
            if fabric.clusters[n.cluster].cni in hostgw.HOSTGW_CNIS]


def expected_paths(fabric):
    """Pod pairs that must answer: (from host, to host, to IP, what provides the path): a facet
    of the registry (nnlab/facets), else, inside a flannel or canal cluster, flanneld."""
    from nnlab import facets
    flannel = set(flannel_nodes(fabric))
    nodes = sorted(fabric.nodes.values(), key=lambda n: n.host)
    paths = []
    for src in nodes:
        for dst in nodes:
            if src.host == dst.host:
                continue
            role = facets.provides(fabric, src, dst)
            if role is None and src.cluster == dst.cluster and src.host in flannel:
                role = "flannel (flanneld)"
            own = families(src.pod_cidrs)  # a pod reaches the families it has an address in
            for ip in pod_ips(dst):
                if family(ip) in own:
                    paths.append((src.host, dst.host, ip, role))
    return paths
