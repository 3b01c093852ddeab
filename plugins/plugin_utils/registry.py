# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which facet serves each role, and the module that writes its cluster side: its order
(`cluster_steps(fabric, state, secrets, options)`) and, where it has them, its preflight checks
(`cluster_checks(fabric, state, options)`)."""

from __future__ import annotations

from . import bgp, bgp_resources, hostgw, ippools, kube_router, kube_router_live, mesh


class Role:
    def __init__(self, facet, cluster, secrets=False):
        self.facet = facet
        self.cluster = cluster
        self.secrets = secrets  # its objects hold peer passwords given by variable name


ROLES = {"vxlan_mesh": Role(mesh.NAME, ippools), "flannel_hostgw": Role(hostgw.NAME, hostgw),
         "calico_bgp_rr": Role(bgp.NAME, bgp_resources, secrets=True),
         "kube_router_install": Role(kube_router.NAME, kube_router_live, secrets=True)}


def role(name):
    if name not in ROLES:
        raise KeyError("role %r has no cluster side (one of %s)" % (name, ", ".join(sorted(ROLES))))
    return ROLES[name]
