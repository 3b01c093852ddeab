# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric_problems
short_description: Every problem in the fabric inventory, at once
version_added: 0.1.0
description:
  - Reads every cluster and node of the inventory (not only the play's hosts) and returns one
    line per problem, each naming the cluster, node and variable. An empty list means valid.
  - Checks overlapping cluster CIDRs, node pod CIDRs outside their cluster or overlapping,
    duplicate node IPs, vxlan IPs and MACs, vxlan IPs outside O(mesh_group)'s subnet, multicast,
    zero or broadcast MACs, VNI and port ranges, interface names the kernel refuses, and MTUs
    without room for the 50-byte vxlan overhead.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.mesh_group
"""

EXAMPLES = r"""
- name: Validate once, before any node is touched
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ hostvars | nodenet.fabric.fabric_problems(groups) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: One line per problem, sorted; empty when the fabric is valid.
  type: list
  elements: str
  sample: ["cluster test-cluster2, node multicluster-test-003, vxlan_mesh_mac: 01:00:5e:00:00:01 is a multicast address; a unicast address is required"]
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.validate import problems


def fabric_problems(hostvars, groups, mesh_group="vxlan_mesh"):
    return problems(hostvars, groups, mesh_group)


class FilterModule:
    def filters(self):
        return {"fabric_problems": fabric_problems}
