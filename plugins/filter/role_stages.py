# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: role_stages
short_description: The stages of a role's run, for the node_base entry point that runs them in turn
version_added: 0.8.0
description:
  - "The stages of a role's run: null for the start of its orders, then each gate its node and
    cluster orders share (P(nodenet.fabric.node_steps#filter), P(nodenet.fabric.cluster_steps#filter)).
    At each stage every host runs its node steps up to the next gate, then the cluster its steps
    after the same gate."
options:
  _input:
    description: The role (vxlan_mesh, flannel_hostgw, calico_bgp_rr, kube_router_install).
    type: str
    required: true
  state:
    description: The role's state; C(absent) is its rollback order where it has one.
    type: str
    default: present
  until:
    description: The last gate to run (flannel_hostgw's make stops at C(applied); its retire play runs C(switched)).
    type: str
  facet:
    description:
      - The facet whose orders the play's hosts run, where they are not the role's nodes
        (C(tor) for the outside clients, whose own steps have the gate C(applied)).
    type: str
"""

EXAMPLES = r"""
- name: Run kube-router's install, stage by stage
  ansible.builtin.include_role:
    name: nodenet.fabric.node_base
    tasks_from: stage
  loop: "{{ 'kube_router_install' | nodenet.fabric.role_stages('present') }}"
  loop_control:
    loop_var: node_base_stage
"""

RETURN = r"""
_value:
  description: The stages, the first one null.
  type: list
  elements: str
  sample: [null, "peered", "replaced"]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils import registry
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import role_facet


def role_stages(role, state="present", facet=None, until=None):
    own = role_facet(role, "gates", "no node steps between gates")
    if facet is not None:
        own = dict((f.__name__.rpartition(".")[2], f) for f in registry.FACETS).get(facet)
        if own is None or not hasattr(own, "gates"):
            raise AnsibleFilterError("facet %s has no node steps between gates" % facet)
    stages = [None] + list(own.gates(str(state)))
    if until is not None:
        if until not in stages:
            raise AnsibleFilterError("%s has no gate %s (its gates: %s)" % (role, until, ", ".join(stages[1:])))
        stages = stages[:stages.index(until) + 1]
    return stages


class FilterModule:
    def filters(self):
        return {"role_stages": role_stages}
