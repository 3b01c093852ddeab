# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the lab does for each facet, one module per facet of the collection's registry, named
after it (lab code: it never ships). A facet needs a module here only when the lab must start
something for it, tell its hosts something, or say which pod paths it provides; every hook is
optional:

- provides(fabric, src, dst): what makes the pod path from node src to node dst (a label), or None;
- programs(fabric): {cluster: (hosts, [program])} run from their DaemonSets by the kubelet stand-in;
- replaced_cni(fabric, cluster): the DaemonSets the cluster's seed holds for a CNI the role replaces;
- needs_api(fabric): its daemons read the clusters' API, so the lab starts a control plane;
- start(lab): start its daemons, each recorded by PID (lab.record, lab.save());
- overlay(lab, host): lines of the host's variables in the overlay inventory;
- status(lab): print what `tools/lab bgp` shows of it; the number of failed checks.

`lab` is tools/lab's context: fabric, run_dir, k8s_bin, kubeconfigs, record, save()."""

from __future__ import annotations

import functools
import importlib

from ansible_collections.nodenet.fabric.plugins.plugin_utils import registry


@functools.lru_cache(maxsize=None)
def hooks():
    """The lab modules of the registry's facets, in the registry's order."""
    found = []
    for facet in registry.FACETS:
        name = facet.__name__.rpartition(".")[2]
        try:
            found.append(importlib.import_module("%s.%s" % (__name__, name)))
        except ModuleNotFoundError as exc:
            if exc.name != "%s.%s" % (__name__, name):
                raise
    return tuple(found)


def each(hook, *args):
    """[result] of every facet's hook that it has."""
    return [getattr(module, hook)(*args) for module in hooks() if hasattr(module, hook)]


def provides(fabric, src, dst):
    return next((label for label in each("provides", fabric, src, dst) if label), None)


def nodes_by_cluster(fabric, facet):
    """{cluster: [hosts]} of a facet's nodes."""
    clusters = {}
    for node in fabric.facet_nodes(facet):
        clusters.setdefault(node.cluster, []).append(node.host)
    return clusters


def both_in(fabric, facet, src, dst, same_cluster=True):
    """Both nodes are the facet's, in one cluster (or, with same_cluster false, in two)."""
    members = fabric.members.get(facet, [])
    return (src.cluster == dst.cluster) == same_cluster and src.host in members and dst.host in members
