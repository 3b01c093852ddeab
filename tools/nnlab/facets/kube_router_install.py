# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube_router_install in the lab: kube-proxy, kube-router and flannel's install-cni run from
their DaemonSets on its nodes (the kubelet stand-in), the cluster's seed holds the CNI it
replaces, its nodes reach the API through the relay, and its status shows gobgp's peers, the
routes and what is left in iptables of kube-proxy and of kube-router."""

from __future__ import annotations

import json
import os
import re
import subprocess

from nnlab.facets import both_in, nodes_by_cluster

from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import model as kube_router

PROGRAMS = ["kube-proxy", "kube-router", "flannel-cni"]
KUBE_PROXY = re.compile(r"KUBE-(SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|PROXY-CANARY|EXTERNAL-SERVICES|FORWARD|"
                        r"PROXY-FIREWALL|SVC-|SVL-|SEP-|FW-|EXT-)")
KUBE_ROUTER = re.compile(r"KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-|kube-router|kube-bridge|"
                         r"node interface with which node ip")


def nodes(fabric):
    return nodes_by_cluster(fabric, kube_router.NAME)


def provides(fabric, src, dst):
    return "kube-router (BGP, lab kubelet)" if both_in(fabric, kube_router.NAME, src, dst) else None


def programs(fabric):
    return dict((cluster, (hosts, list(PROGRAMS))) for cluster, hosts in nodes(fabric).items())


def replaced_cni(fabric, cluster):
    routers = fabric.facets.get(kube_router.NAME, {})
    return next((routers[n.host].replaces for n in fabric.cluster_nodes(cluster) if n.host in routers), None)


def overlay(lab, host):
    """The API server as the nodes reach it (relayed into their namespaces), no service proxy
    (this kernel has no IPVS), and the gobgp CLI that reads kube-router's embedded gobgp."""
    kubeconfig = lab.kubeconfigs.get(lab.fabric.nodes[host].cluster) if host in lab.fabric.nodes else None
    if host not in lab.fabric.facets.get(kube_router.NAME, {}) or not kubeconfig:
        return []
    with open(kubeconfig) as handle:
        server = json.load(handle)["clusters"][0]["cluster"]["server"]
    return ["      kube_router_apiserver: %s" % server,
            "      kube_router_run_service_proxy: false",
            "      kube_router_accept_no_service_proxy: true",
            "      kube_router_install_gobgp: %s" % json.dumps([os.path.join(lab.k8s_bin, "gobgp")])]


def out(argv):
    proc = subprocess.run(argv, capture_output=True, text=True)
    return proc.stdout or proc.stderr


def status(lab):
    for cluster, hosts in sorted(nodes(lab.fabric).items()):
        print("Cluster %s: kube-router's BGP peers per node (gobgp neighbor)" % cluster)
        for host in hosts:
            print("  %s" % host)
            print("\n".join("    " + line for line in out(["ip", "netns", "exec", host, os.path.join(lab.k8s_bin, "gobgp"),
                                                           "neighbor"]).splitlines()))
            for line in subprocess.run(["ip", "-n", host, "route", "show", "proto", "17"], capture_output=True,
                                       text=True).stdout.splitlines():
                print("    route: %s" % line)
            rules = [line for line in subprocess.run(["ip", "netns", "exec", host, "iptables-save"], capture_output=True,
                                                     text=True).stdout.splitlines() if line.startswith(("-A ", ":"))]
            proxy = sum(1 for line in rules if KUBE_PROXY.search(line))
            router = sum(1 for line in rules if not KUBE_PROXY.search(line) and KUBE_ROUTER.search(line))
            print("    iptables-save: %d chain and rule lines: kube-proxy's %d, kube-router's %d, others %d"
                  % (len(rules), proxy, router, len(rules) - proxy - router))
    return 0
