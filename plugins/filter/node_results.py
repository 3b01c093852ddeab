# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: node_results
short_description: What every host of the play kept of its node steps, for a condition that reads every host's
version_added: 0.8.0
description:
  - Each host's C(node_base_node_results) (what M(nodenet.fabric.node_steps) keeps by stage), cut
    to what another host's condition reads of it (changed, failed, in sync, a failure's message);
    a host's own kept results (a C(restore) document, ping results) stay its own.
  - node_base's C(stage) entry point reads it once per stage (C(run_once)), so that no host reads
    every other host's variables (a square of the hosts).
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory.play_results
"""

EXAMPLES = r"""
- name: What every host kept of the stages before, once
  ansible.builtin.set_fact:
    node_base_play_results: "{{ hostvars | nodenet.fabric.node_results(ansible_play_hosts_all) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: "C({host: {stage: {key: {changed, failed, in_sync, msg}}}}); a host that kept nothing is C({})."
  type: dict
  sample: {"k8s-1": {"preflight": {"vxlan-mesh": {"changed": false, "failed": false, "in_sync": true}}}}
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.node.engine import shared

KEPT = "node_base_node_results"


def node_results(hostvars, hosts):
    return dict((host, shared(hostvars[host].get(KEPT) if host in hostvars else None)) for host in hosts)


class FilterModule:
    def filters(self):
        return {"node_results": node_results}
