# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cluster_checks
short_description: A role's preflight checks of each cluster's live objects, for M(nodenet.fabric.cluster_steps)
version_added: 0.8.0
description:
  - The C(check) steps of a role, one per cluster, for what each cluster's API must already hold
    before the role changes anything. For flannel_hostgw, every node is a Node and flanneld
    announces its node_ip; for calico_bgp_rr, every node is a Node; for kube_router_install, its
    Nodes, Services, kubeadm's record and the DaemonSets it replaces.
  - M(nodenet.fabric.cluster_steps) runs them and returns their problems; nothing changes.
  - A role without such checks gets an empty list.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.role_steps
"""

EXAMPLES = r"""
- name: Check every cluster's live objects, changing nothing
  nodenet.fabric.cluster_steps:
    steps: "{{ node_base_fabric | nodenet.fabric.cluster_checks('calico_bgp_rr') }}"
  run_once: true
  register: cluster_problems
"""

RETURN = r"""
_value:
  description: The check steps, each C({cluster, kubeconfig, context, api, action=check, check, read, ...}).
  type: list
  elements: dict
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of, role_facet


def cluster_checks(document, role, state="present", options=None):
    facet = role_facet(role)
    checks = getattr(facet, "cluster_checks", None)
    return checks(fabric_of(document, [facet.NAME]), str(state), dict(options or {})) if checks else []


class FilterModule:
    def filters(self):
        return {"cluster_checks": cluster_checks}
