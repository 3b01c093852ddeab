# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kube_router_install facet (seed 003): kube-router replaces kube-proxy and the CNI.

Nodes are the hosts of the facet's group, in clusters with ``cluster_cni: kube-router`` (what
the cluster runs once the role is done). Flags are typed as kube-router v2's own options
(pkg/options/options.go); what a user adds through ``kube_router_extra_args`` is checked against
that table, and flags the model computes cannot be given twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Tuple

from ..addresses import NAMES, family
from ..peers import MAX_AS, password_of
from ..reader import item_reader, mappings, named
from ..errors import FabricError
from ..fabric import (checked_clusters, facet_cluster_settings, facet_clusters, family_address_problems, flagged_nodes,
                      pod_cidrs_problems, report_disagreement)

NAME = "kube_router_install"
# IPv4, IPv6 or both: kube-router peers over each node's primary address (its first node_ip), one
# session carrying every family the nodes have (MP-BGP), and routes each family's pod CIDRs via
# the other node's address of that family.
FAMILIES = (4, 6)
IMAGE = "docker.io/cloudnativelabs/kube-router:v2.10.0"
SCHEDULERS = ("rr", "lc", "dh", "sh", "mh")
DSR_METHODS = ("tunnel",)
OVERLAY_TYPES = ("subnet", "full")
OVERLAY_ENCAPS = ("ipip", "fou")
REPLACED_CNIS = ("flannel", "calico", "canal", "none")
SINGLE_RR_VARIABLE = "kube_router_accept_single_rr"
NO_PROXY_VARIABLE = "kube_router_accept_no_service_proxy"
RR_SERVER_ANNOTATION = "kube-router.io/rr.server"
RR_CLIENT_ANNOTATION = "kube-router.io/rr.client"
NODE_ASN_ANNOTATION = "kube-router.io/node.asn"
MAX_RR_CLUSTER_ID = 4294967295
# What kube-router v2.10 accepts: a cluster ASN from the private ranges (network_routes_controller),
# a peer ASN anything but the reserved ones (bgp/peer_config.go validateASN).
CLUSTER_ASNS = ((64512, 65535), (4200000000, 4294967294))
PEER_ASNS = ((1, 23455), (23457, 63999), (64512, 65534), (131072, 4199999999), (4200000000, 4294967294))
PEER_KEYS = ("ip", "asn", "port", "password_file", "password_var")
SERVICE_KEYS = ("namespace", "name", "scheduler", "dsr", "hairpin", "local", "ports")
DAEMONSET_KEYS = ("namespace", "name")
# The booleans the role turns into flags: variable suffix -> kube-router flag (and its default there).
SWITCHES = (
    ("run_router", "run-router", True), ("run_firewall", "run-firewall", True),
    ("run_service_proxy", "run-service-proxy", True), ("run_loadbalancer", "run-loadbalancer", False),
    ("full_mesh", "nodes-full-mesh", True), ("overlay", "enable-overlay", True),
    ("advertise_cluster_ip", "advertise-cluster-ip", False), ("advertise_external_ip", "advertise-external-ip", False),
    ("advertise_loadbalancer_ip", "advertise-loadbalancer-ip", False),
    ("advertise_pod_cidr", "advertise-pod-cidr", True), ("hairpin_mode", "hairpin-mode", False),
    ("pod_egress", "enable-pod-egress", True),
)
# kube-router v2.10's flags by type, for kube_router_extra_args.
FLAG_TYPES = {
    "bool": ("advertise-cluster-ip advertise-external-ip advertise-loadbalancer-ip advertise-pod-cidr auto-mtu "
             "bgp-graceful-restart disable-source-dest-check enable-cni enable-ibgp enable-ipv4 enable-ipv6 "
             "enable-overlay enable-pod-egress enable-pprof hairpin-mode ipvs-graceful-termination ipvs-permit-all "
             "loadbalancer-default-class masquerade-all netpol-default-deny nodeport-bindon-all-ip nodes-full-mesh "
             "override-nexthop run-firewall run-loadbalancer run-router run-service-proxy "
             "strict-external-ip-validation"),
    "duration": ("bgp-graceful-restart-deferral-time bgp-graceful-restart-time bgp-holdtime cache-sync-timeout "
                 "injected-routes-sync-period iptables-sync-period ipvs-graceful-period ipvs-sync-period "
                 "loadbalancer-sync-period routes-sync-period service-tcp-timeout service-tcpfin-timeout "
                 "service-udp-timeout"),
    "uint": "cluster-asn", "uint32": "bgp-port", "uint16": "gobgp-admin-port health-port metrics-port overlay-encap-port",
    "uint8": "peer-router-multihop-ttl",
    "string": ("gobgp-admin-address health-addr metrics-addr metrics-path overlay-encap overlay-type router-id "
               "runtime-endpoint service-node-port-range v"),
    "cidrs": "excluded-cidrs loadbalancer-ip-range service-cluster-ip-range service-external-ip-range",
}
FLAGS = dict((flag, kind) for kind, names in FLAG_TYPES.items() for flag in names.split())
# Flags the model computes (or that would break what the role set up); never taken from extra args.
COMPUTED_FLAGS = frozenset(
    [flag for _name, flag, _default in SWITCHES] + [
        "cluster-asn", "overlay-type", "overlay-encap", "service-cluster-ip-range", "kubeconfig", "master",
        "hostname-override", "peer-router-ips", "peer-router-asns", "peer-router-ports", "peer-router-passwords",
        "peer-router-passwords-file", "enable-cni", "runtime-endpoint", "cleanup-config", "help", "version"])
# Flags kube-router has but that make no sense in a DaemonSet the role manages.
REFUSED_FLAGS = {"cleanup-config": "removes kube-router's own state and exits; it is not a DaemonSet flag",
                 "help": "prints usage and exits", "version": "prints the version and exits",
                 "master": "the API server comes from the kubeconfig ConfigMap (kube_router_apiserver)",
                 "kubeconfig": "the role mounts the kubeconfig ConfigMap it makes",
                 "peer-router-passwords": "puts passwords in the DaemonSet's args; use kube_router_peers[].password_file",
                 "health-port": "the DaemonSet's liveness probe reads kube-router's health on 20244",
                 "health-addr": "the DaemonSet's liveness probe reads kube-router's health on all addresses",
                 "gobgp-admin-port": "the role reads kube-router's peers through gobgp's admin port 50051",
                 "gobgp-admin-address": "the role reads kube-router's peers through gobgp on 127.0.0.1",
                 "enable-ibgp": "the expected peer table is kube-router's iBGP between the nodes",
                 "enable-ipv4": "is set by the role from the cluster's families (cluster_pod_cidr)",
                 "enable-ipv6": "is set by the role from the cluster's families (cluster_pod_cidr)"}
UINT_LIMITS = {"uint": 4294967295, "uint32": 4294967295, "uint16": 65535, "uint8": 255}
VARIABLES = dict([("kube_router_%s" % name, default) for name, _flag, default in SWITCHES] + [
    ("kube_router_image", IMAGE), ("kube_router_namespace", "kube-system"), ("kube_router_cluster_asn", 64512),
    ("kube_router_route_reflector", False), (SINGLE_RR_VARIABLE, False), ("kube_router_overlay_type", "subnet"),
    ("kube_router_overlay_encap", "ipip"), ("kube_router_replace_kube_proxy", True), (NO_PROXY_VARIABLE, False),
    ("kube_router_cni_conf_dir", "/etc/cni/net.d"),
    ("kube_router_cni_backup_dir", "/var/lib/nodenet-fabric/cni-replaced"),
    ("kube_router_runtime_endpoint", "unix:///run/containerd/containerd.sock"),
])


@dataclass(frozen=True)
class KubeRouterSettings:
    image: str
    namespace: str
    switches: Tuple[Tuple[str, bool], ...]   # (SWITCHES variable suffix, value), in SWITCHES order
    cluster_asn: int
    route_reflector: bool
    rr_cluster_id: str                       # "" without route reflectors in the cluster
    accept_single_rr: bool
    peers: Tuple[dict, ...]                  # {ip, asn, port, password_file? | password_var?}
    overlay_type: str
    overlay_encap: str
    services: Tuple[dict, ...]               # {namespace, name, scheduler, dsr, hairpin, local, ports}
    replaced_daemonsets: Tuple[dict, ...]    # {namespace, name}: the replaced CNI's agents, kept and deleted
    replace_kube_proxy: bool
    accept_no_service_proxy: bool
    replaces: str                            # the CNI whose config files are set aside
    apiserver: str                           # the API server URL as nodes reach it
    cni_conf_dir: str
    cni_backup_dir: str
    runtime_endpoint: str
    extra_args: Tuple[Tuple[str, str], ...]  # (flag, value) sorted by flag

    def switch(self, name):
        return dict(self.switches)[name]


SETTINGS = KubeRouterSettings


def read(reader, node_mtu):
    switches = tuple((name, reader.boolean("kube_router_%s" % name)) for name, _flag, _default in SWITCHES)
    image = reader.raw("kube_router_image")
    if image is not None and (not isinstance(image, str) or any(c.isspace() for c in image)):
        reader.error("kube_router_image", "%r is not an image reference" % (image,))
        image = None
    namespace = named(reader, "kube_router_namespace", "a namespace")
    asn = asn_in(reader, "kube_router_cluster_asn", CLUSTER_ASNS, "a private ASN")
    is_rr = reader.boolean("kube_router_route_reflector")
    cluster_id = read_cluster_id(reader)
    replaces = reader.choice("kube_router_replaced_cni", REPLACED_CNIS) if reader.is_set(
        "kube_router_replaced_cni") else None
    if replaces is None and not reader.is_set("kube_router_replaced_cni"):
        reader.error("kube_router_replaced_cni", "is required: name the CNI kube-router replaces (%s), whose config "
                     "files are set aside on every node with a copy kept for rollback" % ", ".join(REPLACED_CNIS))
    apiserver = read_apiserver(reader)
    settings = KubeRouterSettings(
        image and str(image), namespace and str(namespace), switches, asn, is_rr, cluster_id,
        reader.boolean(SINGLE_RR_VARIABLE), read_peers(reader, asn),
        reader.choice("kube_router_overlay_type", OVERLAY_TYPES), reader.choice("kube_router_overlay_encap",
                                                                                OVERLAY_ENCAPS),
        read_services(reader), read_replaced_daemonsets(reader), reader.boolean("kube_router_replace_kube_proxy"), reader.boolean(NO_PROXY_VARIABLE),
        replaces, apiserver, absolute(reader, "kube_router_cni_conf_dir"), absolute(reader, "kube_router_cni_backup_dir"),
        str(reader.raw("kube_router_runtime_endpoint")), read_extra_args(reader))
    check_node(reader, settings)
    # Kept with bad values (None) so the checks across nodes still run; a model with problems
    # never reaches a plan.
    return settings


def asn_in(reader, variable, ranges, what):
    """An ASN kube-router accepts (it exits at start on any other), or None with the problem recorded."""
    asn = reader.integer(variable, 1, MAX_AS)
    if asn is not None and not any(low <= asn <= high for low, high in ranges):
        reader.error(variable, "%d is refused by kube-router, which takes %s: %s" % (
            asn, what, ", ".join("%d-%d" % r for r in ranges)))
        return None
    return asn


def read_cluster_id(reader):
    """kube-router takes an RR cluster ID as an unsigned 32-bit number or an IPv4 address."""
    value = reader.raw("kube_router_rr_cluster_id", required=False)
    if value is None:
        return ""
    text = str(value).strip()
    if text.isdigit() and not isinstance(value, bool):
        if int(text) <= MAX_RR_CLUSTER_ID:
            return str(int(text))
    else:
        parts = text.split(".")
        if len(parts) == 4 and all(p.isdigit() and int(p) <= 255 and str(int(p)) == p for p in parts):
            return text
    reader.error("kube_router_rr_cluster_id", "%r is neither an IPv4 address nor a number 0..%d; kube-router "
                 "parses the rr.server/rr.client annotation as one of those" % (value, MAX_RR_CLUSTER_ID))
    return None


def read_apiserver(reader):
    value = reader.raw("kube_router_apiserver", required=False)
    if value is None:
        reader.error("kube_router_apiserver", "is required: the API server's URL as the nodes reach it (e.g. "
                     "https://10.0.0.10:6443). Not the kubernetes Service VIP: kube-router itself serves Services, "
                     "so it cannot reach the API through one before it runs")
        return None
    text = str(value)
    if not text.startswith("https://") or any(c.isspace() for c in text) or len(text) <= len("https://"):
        reader.error("kube_router_apiserver", "%r must be an https:// URL" % (value,))
        return None
    return text


def absolute(reader, variable):
    value = reader.raw(variable)
    if value is None or not isinstance(value, str) or not value.startswith("/") or "\n" in value:
        reader.error(variable, "%r must be an absolute path on the node" % (value,))
        return None
    return value.rstrip("/") or "/"


def read_peers(reader, cluster_asn):
    peers = []
    for where, item, sub in mappings(reader, "kube_router_peers", PEER_KEYS,
                                     "{ip, asn, port?, password_file? or password_var?}", tolerated=("password",)):
        password = password_of(reader, where, item)
        if "ip" not in item:
            reader.error(where + ".ip", "is required: kube-router pairs --peer-router-asns with --peer-router-ips "
                         "by position, so an ASN without an IP would shift every later peer")
            continue
        ip = sub.address(where + ".ip", versions=(4, 6))
        asn = asn_in(sub, where + ".asn", PEER_ASNS, "not a reserved ASN")
        port = sub.integer(where + ".port", 1, 65535) if "port" in item else 179
        if ip is None:
            continue
        peer = {"ip": ip, "asn": asn, "port": port}
        peer.update(password)
        peers.append(peer)
    return tuple(peers)


def read_services(reader):
    services = []
    for where, item, sub in mappings(reader, "kube_router_services", SERVICE_KEYS,
                                     "{namespace, name, scheduler?, dsr?, hairpin?, local?, ports?}"):
        namespace = named(sub, where + ".namespace", "a namespace")
        name = named(sub, where + ".name", "a Service")
        scheduler = sub.choice(where + ".scheduler", SCHEDULERS) if "scheduler" in item else None
        dsr = sub.choice(where + ".dsr", DSR_METHODS) if item.get("dsr") not in (None, "", False) else None
        ports = read_ports(reader, where, item.get("ports"))
        if dsr and ports:
            for port, target in ports:
                if port != target:
                    reader.error(where + ".dsr", "is %s but port %d maps to targetPort %d: kube-router's DSR cannot "
                                 "remap ports (the reply leaves the pod from the target port); give the Service "
                                 "port == targetPort or drop dsr" % (dsr, port, target))
        if namespace is None or name is None:
            continue
        services.append({"namespace": str(namespace), "name": str(name), "scheduler": scheduler, "dsr": dsr,
                         "hairpin": sub.boolean(where + ".hairpin") if "hairpin" in item else False,
                         "local": sub.boolean(where + ".local") if "local" in item else False,
                         "ports": [list(p) for p in ports or []]})
    return tuple(services)


def read_replaced_daemonsets(reader):
    """The replaced CNI's DaemonSets: each is kept in a ConfigMap and deleted once kube-router
    serves, so its pods cannot put their CNI config back (flannel's and calico's install-cni
    rewrite it at every start); rollback re-creates them."""
    found, seen = [], set()
    for where, item, sub in mappings(reader, "kube_router_replaced_daemonsets", DAEMONSET_KEYS, "{namespace, name}"):
        namespace = named(sub, where + ".namespace", "a namespace")
        name = named(sub, where + ".name", "a DaemonSet")
        if namespace is None or name is None:
            continue
        key = (str(namespace), str(name))
        if key in seen:
            reader.error(where, "%s/%s is given twice" % key)
        elif key == ("kube-system", "kube-proxy"):
            reader.error(where, "is kube-proxy's DaemonSet, which kube_router_replace_kube_proxy takes care of")
        elif name == "kube-router":
            reader.error(where, "is kube-router's own DaemonSet name")
        seen.add(key)
        found.append({"namespace": key[0], "name": key[1]})
    return tuple(found)


def read_ports(reader, where, value):
    """[(port, targetPort)] given for a Service (optional; the preflight reads the live ones)."""
    if value in (None, []):
        return []
    if not isinstance(value, (list, tuple)):
        reader.error(where + ".ports", "must be a list of {port, target_port}")
        return []
    ports = []
    for index, item in enumerate(value):
        here = "%s.ports[%d]" % (where, index)
        if not isinstance(item, dict) or "port" not in item:
            reader.error(here, "must be a mapping {port, target_port?}")
            continue
        sub = item_reader(reader, here, item)
        port = sub.integer(here + ".port", 1, 65535)
        target = sub.integer(here + ".target_port", 1, 65535) if "target_port" in item else port
        if port is not None and target is not None:
            ports.append((port, target))
    return ports


def read_extra_args(reader):
    value = reader.raw("kube_router_extra_args", required=False) or {}
    if not isinstance(value, dict):
        reader.error("kube_router_extra_args", "must be a mapping of kube-router flag (without --) to value")
        return ()
    args = []
    for flag, raw in sorted(value.items(), key=lambda kv: str(kv[0])):
        where = "kube_router_extra_args.%s" % flag
        flag = str(flag)
        if flag in REFUSED_FLAGS:
            reader.error(where, "is refused: --%s %s" % (flag, REFUSED_FLAGS[flag]))
            continue
        if flag not in FLAGS and flag not in COMPUTED_FLAGS:
            reader.error(where, "is not a kube-router v2 flag; see `kube-router --help` (a flag kube-router does not "
                         "know makes it exit at start on every node)")
            continue
        if flag in COMPUTED_FLAGS:
            reader.error(where, "is set by the role from its own variable; set that variable instead (see "
                         "docs/roles/kube_router_install.md, the flag table)")
            continue
        text = flag_value(reader, where, FLAGS[flag], raw)
        if text is not None:
            args.append((flag, text))
    return tuple(args)


def flag_value(reader, where, kind, raw):
    """The flag's value as kube-router parses it, or None with the problem recorded."""
    text = str(raw).strip() if not isinstance(raw, bool) else ("true" if raw else "false")
    if kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered
        problem = "is a boolean flag; give true or false"
    elif kind in UINT_LIMITS:
        if text.isdigit() and int(text) <= UINT_LIMITS[kind] and not isinstance(raw, bool):
            return str(int(text))
        problem = "takes an integer 0..%d" % UINT_LIMITS[kind]
    elif kind == "duration":
        if duration(text):
            return text
        problem = "takes a Go duration such as 30s, 5m or 1h30m"
    elif kind == "cidrs":
        items = raw if isinstance(raw, (list, tuple)) else text.split(",")
        cidrs = [reader.network(where, value=str(i).strip()) for i in items]
        return ",".join(cidrs) if cidrs and None not in cidrs else None
    else:
        if text and not any(c.isspace() for c in text):
            return text
        problem = "takes one word"
    reader.error(where, "%r: --%s %s" % (raw, where.split(".", 1)[1], problem))
    return None


def duration(text):
    """A Go time.ParseDuration string (e.g. 1h30m, 500ms, 0)."""
    import re
    return text == "0" or re.fullmatch(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", text) is not None


def check_node(reader, settings):
    """Impossible combinations of one node's settings."""
    on = dict(settings.switches)
    if not on["run_service_proxy"] and settings.replace_kube_proxy and not settings.accept_no_service_proxy:
        reader.error("kube_router_run_service_proxy", (
            "is false while kube_router_replace_kube_proxy removes kube-proxy: nothing would serve Services "
            "(ClusterIPs, NodePorts) any more. Keep the service proxy, keep kube-proxy, or set %s: true when "
            "that is what you want (a lab without IPVS)" % NO_PROXY_VARIABLE))
    if on["run_service_proxy"] and not settings.replace_kube_proxy:
        reader.error("kube_router_run_service_proxy", (
            "is true while kube_router_replace_kube_proxy is false: kube-proxy and kube-router's service proxy "
            "would both program every Service. Remove kube-proxy, or set kube_router_run_service_proxy: false"))
    dsr = [s for s in settings.services if s["dsr"]]
    if dsr and not on["run_service_proxy"]:
        reader.error("kube_router_services", "asks for DSR on %s but kube_router_run_service_proxy is false; DSR is "
                     "made by kube-router's service proxy" % ", ".join("%s/%s" % (s["namespace"], s["name"]) for s in dsr))
    if not on["run_router"]:
        for variable, what in (("kube_router_peers", settings.peers), ("kube_router_route_reflector",
                                                                       settings.route_reflector)):
            if what:
                reader.error(variable, "is set but kube_router_run_router is false: only the router speaks BGP")
    seen = {}
    for index, peer in enumerate(settings.peers):
        if peer["ip"] in seen:
            reader.error("kube_router_peers[%d].ip" % index, "%s is also kube_router_peers[%d]"
                         % (peer["ip"], seen[peer["ip"]]))
        seen.setdefault(peer["ip"], index)
    names = {}
    for index, service in enumerate(settings.services):
        key = (service["namespace"], service["name"])
        if key in names:
            reader.error("kube_router_services[%d]" % index, "%s/%s is also kube_router_services[%d]"
                         % (key + (names[key],)))
        names.setdefault(key, index)


def prepare(fabric):
    """Nothing to share: a node's plan lists only its own cluster."""


# The facet's clusters, a cluster's settings, its route reflector nodes (in host order).
clusters = partial(facet_clusters, facet=NAME)
api_clusters = clusters  # kube-router's objects, kube-proxy's DaemonSet
cluster_settings = partial(facet_cluster_settings, facet=NAME)
reflectors = partial(flagged_nodes, facet=NAME, flag="route_reflector")


def error(fabric, cluster, host, variable, message):
    fabric.errors.append(FabricError(cluster, host, variable, message, NAME))


CLUSTER_WIDE = ("image", "namespace", "switches", "cluster_asn", "rr_cluster_id", "accept_single_rr", "peers",
                "overlay_type", "overlay_encap", "services", "replaced_daemonsets", "replace_kube_proxy", "accept_no_service_proxy",
                "replaces", "apiserver", "runtime_endpoint", "extra_args")


def variable_of(attr):
    return {"switches": "kube_router_run_*/advertise_*/overlay/full_mesh/hairpin_mode/pod_egress",
            "accept_single_rr": SINGLE_RR_VARIABLE, "accept_no_service_proxy": NO_PROXY_VARIABLE,
            "replaces": "kube_router_replaced_cni", "services": "kube_router_services"}.get(attr, "kube_router_" + attr)


def check(fabric):
    """Every reason the clusters of the group cannot move to kube-router."""
    node_ips = dict((ip, n) for n in fabric.nodes.values() for ip in n.ips)
    for name, nodes, settings in checked_clusters(
            fabric, NAME, "kube-router", "a cluster kube_router_install sets up runs kube-router, and "
            "kube_router_replaced_cni names what it replaces", "kube-router runs on every node of a cluster (a "
            "DaemonSet), and kube-proxy leaves every node"):
        first = nodes[0]
        for attr in CLUSTER_WIDE:
            report_disagreement(fabric, nodes, variable_of(attr),
                                lambda n, a=attr: plain(getattr(fabric.facets[NAME][n.host], a)), NAME)
        for node in nodes:
            fabric.errors.extend(pod_cidrs_problems(fabric, node, NAME))
        check_families(fabric, name, nodes, settings)
        check_topology(fabric, name, nodes, settings)
        for index, peer in enumerate(settings.peers):
            if peer["ip"] in node_ips:
                other = node_ips[peer["ip"]]
                error(fabric, name, first.host, "kube_router_peers[%d].ip" % index, "%s is node %s (cluster %s); a "
                      "peer router is outside the cluster (nodes peer with each other by themselves)"
                      % (peer["ip"], other.host, other.cluster))
        check_tor_peers(fabric, name, nodes, settings)


def check_families(fabric, name, nodes, settings):
    """kube-router peers over each node's primary address (the first InternalIP), and only with
    nodes and routers of that family: one session carries the other family's routes too, with
    the node's address of that family as their next hop."""
    fabric.errors.extend(family_address_problems(fabric, name, nodes, NAME, "kube-router routes them"))
    primary = family(nodes[0].ip)
    other = [n.host for n in nodes if family(n.ip) != primary]
    if other:
        error(fabric, name, other[0], "node_ip", (
            "lists an %s address first on %s but an %s one on %s: kube-router never peers two nodes whose primary "
            "addresses (the first node_ip) differ in family. List the same family first on every node"
            % (NAMES[4 if primary == 6 else 6], ", ".join(other), NAMES[primary], nodes[0].host)))
    for index, peer in enumerate(settings.peers):
        if family(peer["ip"]) != primary:
            error(fabric, name, nodes[0].host, "kube_router_peers[%d].ip" % index, (
                "%s is %s, but kube-router peers from each node's primary address, which is %s: it would not peer. "
                "Peer over the router's %s address: one session carries both families"
                % (peer["ip"], NAMES[family(peer["ip"])], NAMES[primary], NAMES[primary])))


def check_tor_peers(fabric, name, nodes, settings):
    """A peer that is one of the inventory's ToRs gets its FRR neighbors from the playbook: FRR
    listens on 179, and a ToR off the nodes' subnet needs kube-router's eBGP multihop."""
    tors = dict((ip, (host, r)) for host, r in fabric.facets.get("bgp_routers", {}).items() for ip in r.ips)
    for index, peer in enumerate(settings.peers):
        if peer["ip"] not in tors:
            continue
        host, router = tors[peer["ip"]]
        if peer["port"] != 179:
            error(fabric, name, nodes[0].host, "kube_router_peers[%d].port" % index, "is %d but %s is ToR %s, whose "
                  "FRR the playbook configures on port 179" % (peer["port"], peer["ip"], host))
        if family(peer["ip"]) == 6 and 4 in fabric.clusters[name].families:
            error(fabric, name, nodes[0].host, "kube_router_peers[%d].ip" % index, (
                "%s is ToR %s's IPv6 address, and the cluster has IPv4 pods: their routes would travel over the "
                "IPv6 session, which the playbook does not set up in FRR. List the nodes' IPv4 address first and "
                "peer over the ToR's IPv4 address" % (peer["ip"], host)))
        version = family(peer["ip"])
        away = [n.host for n in nodes if n.subnet_of(version) != router.subnet_of(version)]
        if away and "peer-router-multihop-ttl" not in dict(settings.extra_args):
            error(fabric, name, away[0], "kube_router_extra_args", "has no peer-router-multihop-ttl, but ToR %s (%s) "
                  "is not on the subnet of %s: kube-router peers with it over eBGP multihop only when that flag "
                  "is set (e.g. 2)" % (host, router.subnet_of(version), ", ".join(away)))


def check_topology(fabric, name, nodes, settings):
    rrs = reflectors(fabric, name)
    on = dict(settings.switches)
    if len(rrs) == 1 and not settings.accept_single_rr:
        error(fabric, name, rrs[0].host, "kube_router_route_reflector", (
            "is the only route reflector of the cluster: when it goes down every other node loses every route. "
            "Make a second node a route reflector, or set %s: true to accept that" % SINGLE_RR_VARIABLE))
    if rrs and len(rrs) == len(nodes):
        error(fabric, name, rrs[0].host, "kube_router_route_reflector", "is true on every node; with route "
              "reflectors some nodes are clients (rr.client), or use the full mesh with no route reflector")
    if rrs and not settings.rr_cluster_id:
        error(fabric, name, rrs[0].host, "kube_router_rr_cluster_id", "is required with route reflectors: the "
              "cluster ID every RR and client is annotated with (kube-router.io/rr.server / rr.client), e.g. 42")
    if on["run_router"] and not on["full_mesh"] and not rrs and len(nodes) > 1:
        check_reflection(fabric, name, nodes, settings)
    subnets = []
    for version in fabric.clusters[name].families:
        found = sorted(set(n.subnet_of(version) for n in nodes if n.subnet_of(version)))
        subnets += found if len(found) > 1 else []
    if subnets and not on["overlay"] and not settings.peers:
        error(fabric, name, nodes[0].host, "kube_router_overlay", (
            "is false but the nodes are on %d subnets (%s) and no peer router learns the pod CIDRs: pods on "
            "different subnets could not reach each other. Enable the overlay (overlay_type subnet) or peer "
            "with the routers between the subnets" % (len(subnets), ", ".join(subnets))))


def check_reflection(fabric, name, nodes, settings):
    """Without the full mesh and without route reflectors, the nodes hold no iBGP session with
    each other: a node learns another's pod CIDR only from a peer router that re-advertises it,
    which an iBGP peer (the cluster's own AS) never does, nor a ToR of the inventory (its FRR is
    configured to send nothing back)."""
    tors = dict((ip, host) for host, r in fabric.facets.get("bgp_routers", {}).items() for ip in r.ips)
    reasons = []
    for peer in settings.peers:
        if peer["asn"] == settings.cluster_asn:
            reasons.append("%s is in the cluster's own AS %s (iBGP: it never re-advertises)" % (peer["ip"], peer["asn"]))
        elif peer["ip"] in tors:
            reasons.append("%s is ToR %s, which the playbook configures to send nothing back" % (peer["ip"], tors[peer["ip"]]))
        else:
            return  # an eBGP router outside the inventory may carry them
    error(fabric, name, nodes[0].host, "kube_router_full_mesh", (
        "is false and the cluster has no route reflector, so its nodes peer with none of each other: %s and %s "
        "(and every other pair) would get no route to each other's pods%s. Keep the full mesh, set "
        "kube_router_route_reflector on two nodes, or peer with an eBGP router that re-advertises the pod CIDRs"
        % (nodes[0].host, nodes[1].host, "; no peer can carry them: " + "; ".join(reasons) if reasons else
           " (kube_router_peers is empty)")))


def plain(value):
    """What report_disagreement compares and prints."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return dict((k, plain(v)) for k, v in value.items())
    return value


def router_peerings(fabric, router):
    """tor.peers_of_router's peerings of the kube-router clusters that peer with the router:
    every node peers with a global peer (--peer-router-ips)."""
    found = []
    for name in clusters(fabric):
        settings = cluster_settings(fabric, name)
        for peer in settings.peers:
            if peer["ip"] in router.ips:
                nodes = [n for n in fabric.cluster_nodes(name) if n.host in fabric.facets[NAME]]
                found.append((name, {"ip": peer["ip"], "as": peer["asn"], "cluster_as": settings.cluster_asn,
                                     "families": tuple(v for v in fabric.clusters[name].families if router.ip_of(v)),
                                     "nodes": nodes, "password_file": peer.get("password_file"),
                                     "password_var": peer.get("password_var"),
                                     "variable": "kube_router_peers"}))
    return found
