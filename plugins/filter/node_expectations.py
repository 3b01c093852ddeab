# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: node_expectations
short_description: What the inventory says of a node's underlay, for the node_facts module to compare
version_added: 0.8.0
description:
  - Returns the C(expect) option of C(nodenet.fabric.node_facts) for a node of a cluster, that is its
    C(node_interface), C(node_ip) with the prefix length of C(node_subnet), and C(node_mtu).
  - A host outside every cluster (a ToR router, an outside client) gets an empty mapping, so only
    its prerequisites are checked.
options:
  _input:
    description: The fabric model document (C(node_base_fabric)).
    type: str
    required: true
  host:
    description: The inventory host.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Check the node before any change
  become: true
  nodenet.fabric.node_facts:
    expect: "{{ node_base_fabric | nodenet.fabric.node_expectations(inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: C(interface), C(address) (address/prefix) and C(mtu), or an empty mapping.
  type: dict
  sample: {interface: eth0, address: 10.0.0.11/24, mtu: 1500}
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of
from ansible_collections.nodenet.fabric.plugins.plugin_utils.node.facts import expectations


def node_expectations(document, host):
    return expectations(fabric_of(document, facets=()), host)


class FilterModule:
    def filters(self):
        return {"node_expectations": node_expectations}
