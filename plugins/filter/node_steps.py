# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: node_steps
short_description: One host's node steps of a role, from one gate to the next, for M(nodenet.fabric.node_steps)
version_added: 0.8.0
description:
  - The ordered node steps of a role for one host, each a module of this collection with the
    arguments its plan gives, as the role's facet writes them (a ToR router or outside client
    gets the tor facet's).
  - A role with a kernel state (vxlan_mesh, flannel_hostgw, an outside client) checks it at the
    preflight, applies it at the start and, after the gate C(applied), gives it back on every
    node when any node's apply failed, else enables its boot unit and pings its targets.
  - The node order has the gates of the role's cluster order (P(nodenet.fabric.cluster_steps#filter));
    at each stage the nodes run their steps up to the next gate, then the cluster its steps after
    the same gate. P(nodenet.fabric.role_stages#filter) lists the stages.
  - O(stage=preflight) gives the host's checks against its live state, all in check mode,
    C(node_facts) first (become gives root, the underlay is as the inventory says), then the facet's.
  - A host that is no node, router or client of the role gets an empty list.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.role_steps
options:
  stage:
    description: The gate after which the steps start; none for the start of the order; C(preflight) for the checks.
    type: str
  host:
    description: The host, usually C(inventory_hostname).
    type: str
    required: true
  hostvars:
    description: C(hostvars), for a router whose neighbors' passwords are given by variable name (C(password_var)).
    type: dict
  node:
    description:
      - "node_base's settings of the node (C(node_base_node)), under the role's options:
        C(root), C(systemd), C(state_dir), C(tool_dir)."
    type: dict
"""

EXAMPLES = r"""
- name: This node's checks, changing nothing
  nodenet.fabric.node_steps:
    steps: "{{ node_base_fabric | nodenet.fabric.node_steps('calico_bgp_rr', 'present', 'preflight', inventory_hostname) }}"
  become: true
  register: preflight
  failed_when: false
"""

RETURN = r"""
_value:
  description: The steps, each C({action=module, name, module, args, key, ...}).
  type: list
  elements: dict
  sample: [{"action": "module", "name": "kube-router's conflist written", "module": "nodenet.fabric.cni_config",
            "args": {"file": "10-kuberouter.conflist"}, "key": "cni_config"}]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils import registry
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of, role_facet, run_secrets
from ansible_collections.nodenet.fabric.plugins.plugin_utils.node import steps


def facet_of(fabric, role, host):
    """The facet whose node steps the host runs: the role's for its nodes, else one whose own
    groups hold the host (the routers and clients around the clusters)."""
    if host in fabric.facets.get(role.NAME, {}):
        return role
    for facet in registry.FACETS:
        if hasattr(facet, "node_steps") and any(host in fabric.facets.get(g, {}) for g in getattr(facet, "GROUPS", ())):
            return facet
    return None


def node_steps(document, role, state="present", stage=None, host=None, hostvars=None, options=None, node=None):
    facet = role_facet(role)
    fabric = fabric_of(document, [facet.NAME])
    own = facet_of(fabric, facet, host)
    if own is None or not hasattr(own, "node_steps"):
        return []
    options = dict(node or {}, **(options or {}))
    secrets = None
    if hostvars is not None:
        secrets = run_secrets(fabric, hostvars)
    if stage == steps.PREFLIGHT:
        return own.node_steps(fabric, host, str(state), options, secrets, preflight_only=True)
    try:
        return steps.stage(own.node_steps(fabric, host, str(state), options, secrets), stage or None)
    except ValueError as exc:
        raise AnsibleFilterError("%s: %s" % (role, exc))


class FilterModule:
    def filters(self):
        return {"node_steps": node_steps}
