# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calico IPPools that stop felix from SNATing traffic to the other mesh clusters.

Felix masquerades only when the destination is outside every pool, disabled
pools included, so a disabled pool per remote pod and service CIDR of each family
is enough.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ..cluster import owners, steps
from ..node.reconcile import APPLIED
from ..fabric import api_access
from .model import NAME as MESH


def remote_ippools(fabric, present=True):
    """[{cluster, kubeconfig, manifests, prune}] for every calico cluster in the mesh; with
    `present` false, no manifests, so that every pool we own is pruned."""
    clusters = sorted({n.cluster for n in fabric.facet_nodes(MESH)})
    result = []
    for name in clusters:
        if fabric.clusters[name].cni != "calico":
            continue
        pools = []
        for other in clusters:
            if other == name:
                continue
            remote = fabric.clusters[other]
            for version in (4, 6):
                for kind, cidr in (("svc", remote.service_cidr_of(version)), ("pod", remote.pod_cidr_of(version))):
                    if cidr:
                        pools.append(ippool("%s-%s%s" % (kind, other, POOL_SUFFIX[version]), cidr))
        result.append(dict(api_access(fabric.clusters[name]), cluster=name, manifests=pools if present else [],
                           prune=PRUNE))
    return result


# A remote cluster's IPv4 pools keep the names they always had; its IPv6 ones are told apart.
POOL_SUFFIX = {4: "", 6: "-v6"}

# Ours, found by label: what a cluster has and no manifest names any more is pruned.
PRUNE = owners.prune("crd.projectcalico.org/v1", "IPPool")


def ippool(name, cidr):
    return {
        "apiVersion": "crd.projectcalico.org/v1",
        "kind": "IPPool",
        "metadata": {
            "name": name,
            "labels": dict(owners.LABELS),
        },
        "spec": {"cidr": str(cidr), "natOutgoing": False, "disabled": True},
    }


def cluster_steps(fabric, state="present", secrets=None, options=None):
    """vxlan_mesh's cluster side, once every node has its plan: the pools applied, ours no
    cluster needs pruned (none with the option ippools off)."""
    pools = (options or {}).get("ippools", True)
    return [steps.gate(APPLIED)] + (steps.apply(remote_ippools(fabric, state == "present"), "pools",
                                                file="vxlan-mesh-ippools.yml") if boolean(pools) else [])
