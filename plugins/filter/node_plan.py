# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: node_plan
short_description: One node's plan for any role, from the role's facet (the registry's)
version_added: 0.8.0
description:
  - The node plan of O(role)'s facet for O(host), as the facet's C(node_plan) gives it; a route
    role's holds C(reconcile) (the node's desired state as one JSON string, for
    M(nodenet.fabric.reconcile)), C(verify) and C(report).
  - The same plan the role's own filter gives (P(nodenet.fabric.vxlan_mesh_node_state#filter),
    P(nodenet.fabric.flannel_hostgw_node_state#filter), ...); a new role needs no filter of its own.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
options:
  role:
    description: The role (vxlan_mesh, flannel_hostgw, calico_bgp_rr, kube_router_install, or a new facet's).
    type: str
    required: true
  host:
    description: The node, usually C(inventory_hostname).
    type: str
    required: true
  options:
    description: Keyword arguments of the facet's C(node_plan) (flannel_hostgw's C(retire), C(wait), C(restarted)).
    type: dict
"""

EXAMPLES = r"""
- name: Reconcile the node with its plan
  nodenet.fabric.reconcile:
    desired: "{{ (node_base_fabric | nodenet.fabric.node_plan('vxlan_mesh', inventory_hostname)).reconcile }}"
  become: true
"""

RETURN = r"""
_value:
  description: The facet's node plan.
  type: dict
"""

import json

from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of, role_facet


def node_plan(document, role, host, options=None):
    facet = role_facet(role)
    plan = facet.node_plan(fabric_of(document, [facet.NAME], host, facet.NAME), host, **dict(options or {}))
    if isinstance(plan.get("reconcile"), dict):  # one JSON string, as the route roles' filters give it
        plan = dict(plan, reconcile=json.dumps(plan["reconcile"], separators=(",", ":")))
    return plan


class FilterModule:
    def filters(self):
        return {"node_plan": node_plan}
