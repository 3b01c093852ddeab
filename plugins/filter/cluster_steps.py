# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cluster_steps
short_description: A role's cluster steps, in order, from one gate to the next, for M(nodenet.fabric.cluster_steps)
version_added: 0.8.0
description:
  - The ordered cluster steps of a role, one action on one cluster each, as its facet writes
    them; M(nodenet.fabric.cluster_steps) runs them.
  - An order may have gates, where it waits for the nodes (kube_router_install's C(peered) and
    C(replaced), calico_bgp_rr's C(sessions_up)). O(stage) picks the steps after one gate up to
    the next; without it, the steps before the first gate.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.role_steps
options:
  stage:
    description: The gate after which the steps start; none for the start of the order.
    type: str
  hostvars:
    description: C(hostvars), for the roles whose objects hold peer passwords given by variable name (C(password_var)).
    type: dict
"""

EXAMPLES = r"""
- name: kube-router's objects and DaemonSet, up to the gate where the nodes peer
  nodenet.fabric.cluster_steps:
    steps: "{{ node_base_fabric | nodenet.fabric.cluster_steps('kube_router_install', 'present', hostvars=hostvars) }}"
    folder: "{{ node_base_manifest_dir }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The steps, each C({cluster, kubeconfig, context, api, action, name, ...}).
  type: list
  elements: dict
  sample: [{"cluster": "east", "kubeconfig": "/srv/east.conf", "context": null, "api": true, "action": "apply",
            "name": "pools", "file": "vxlan-mesh-ippools.yml", "objects": [], "prune": {"kind": "IPPool"}}]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster.steps import stage as cut
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of, role_facet, run_secrets


def cluster_steps(document, role, state="present", stage=None, hostvars=None, options=None):
    facet = role_facet(role, "cluster_steps", "no cluster side")
    fabric = fabric_of(document, [facet.NAME])
    values = None
    if facet.SECRETS and hostvars is not None:
        values = run_secrets(fabric, hostvars)
    order = facet.cluster_steps(fabric, str(state), values, dict(options or {}))
    try:
        return cut(order, stage or None)
    except ValueError as exc:
        raise AnsibleFilterError("%s: %s" % (role, exc))


class FilterModule:
    def filters(self):
        return {"cluster_steps": cluster_steps}
