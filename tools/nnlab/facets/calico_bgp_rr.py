# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""calico_bgp_rr in the lab: BIRD on every node of a calico_bgp_rr cluster, configured by the
calico-node stand-in from the cluster's API; birdc on the lab's socket; the sessions it shows."""

from __future__ import annotations

import json
import os
import subprocess

from nnlab.facets import both_in, nodes_by_cluster

from ansible_collections.nodenet.fabric.plugins.module_utils import bird as birdlib
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import model as bgp


def nodes(fabric):
    return nodes_by_cluster(fabric, bgp.NAME)


def provides(fabric, src, dst):
    return "calico BGP (lab calico-node: BIRD)" if both_in(fabric, bgp.NAME, src, dst) else None


def needs_api(fabric):
    return bool(nodes(fabric))


def start(lab):
    from kubernetes import config
    from nnlab import calico_node, daemons
    for cluster, hosts in sorted(nodes(lab.fabric).items()):
        if cluster not in lab.kubeconfigs:
            print("lab: cluster %s: calico-node's BIRD needs the cluster's API (tools/lab up --k8s)" % cluster)
            continue
        versions = families(lab.fabric, cluster)
        for host in hosts:
            for version in versions:
                os.makedirs(calico_node.bird_paths(lab.run_dir, host, version)["folder"], mode=0o700, exist_ok=True)
        calico_node.render_all(config.new_client_from_config(config_file=lab.kubeconfigs[cluster]), lab.run_dir, hosts)
        for host in hosts:
            for version in versions:
                lab.record["daemons"].append(daemons.start_bird(lab.run_dir, host, version))
                lab.save()
        lab.record["daemons"].append(daemons.start_standin(lab.run_dir, cluster, lab.kubeconfigs[cluster], hosts))
        lab.save()


def families(fabric, cluster):
    """The families whose BIRD calico-node runs: IPv4's always (bird.cfg says when it has no IPv4
    address), IPv6's where the cluster has IPv6 pods."""
    return (4, 6) if 6 in fabric.clusters[cluster].families else (4,)


def socket(run_dir, host, version=4):
    from nnlab import calico_node
    return calico_node.bird_paths(run_dir, host, version)["socket"]


def overlay(lab, host):
    if host not in lab.fabric.facets.get(bgp.NAME, {}):
        return []
    return ["      calico_bgp_rr_birdc%s: %s" % ("" if v == 4 else "6", json.dumps(["birdc", "-s", socket(lab.run_dir, host, v)]))
            for v in (4, 6)]


def status(lab):
    for cluster, hosts in sorted(nodes(lab.fabric).items()):
        print("Cluster %s: BGP sessions per node (peer address, peer type, state, since, info)" % cluster)
        for host in hosts:
            print("  %s" % host)
            for version in families(lab.fabric, cluster):
                out = subprocess.run(["birdc", "-s", socket(lab.run_dir, host, version), "show", "protocols"],
                                     capture_output=True, text=True).stdout
                for s in birdlib.parse_protocols(out):
                    print("    %-24s %-18s %-5s %-13s %s" % (s["ip"], s["type"], s["state"], s["since"], s["info"]))
    return 0
