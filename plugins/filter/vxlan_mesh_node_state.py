# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: vxlan_mesh_node_state
short_description: One node's vxlan mesh plan (device, ARP, FDB, routes), from the fabric model
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.mesh_node_state) still works (deprecated).
  - Computes, from the model only, what one mesh node needs (seed 002).
  - The vxlan device; an ARP and an FDB entry for every other mesh node; a route to every node pod
    CIDR of the other clusters via that node's vxlan IP.
  - With C(vxlan_mesh_direct_routing), a peer in the node's own C(node_subnet) is routed via its
    C(node_ip) on C(node_interface), without encapsulation (flannel's DirectRouting).
  - It depends only on the inventory, so C(--limit) gives a node exactly what a full run gives it.
  - Fails with every problem of the core and vxlan_mesh facets when the model has any.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.node_plan
"""

EXAMPLES = r"""
- name: Plan this node
  ansible.builtin.set_fact:
    vxlan_mesh_plan: "{{ node_base_fabric | nodenet.fabric.vxlan_mesh_node_state(inventory_hostname) }}"

- name: Apply it
  nodenet.fabric.reconcile:
    desired: "{{ vxlan_mesh_plan.reconcile }}"

- name: Just the routes
  ansible.builtin.debug:
    msg: "{{ (vxlan_mesh_plan.reconcile | from_json).routes }}"
"""

RETURN = r"""
_value:
  description: The node's plan.
  type: dict
  contains:
    reconcile:
      description: >-
        The O(nodenet.fabric.reconcile#module:desired) state of M(nodenet.fabric.reconcile), one JSON document with C(device) (name,
        kind, vni, port, local, underlay, learning, mtu, mac, address), C(neighbors) (ip, mac),
        C(fdb) (mac, dst), C(routes) (dst, via, dev, onlink) and C(route_protocol) (201).
      type: str
      sample: '{"device":{"name":"vxlan-test","vni":10001, ...},"neighbors":[...], ...}'
    verify:
      description: C(targets), the other mesh nodes' vxlan IPs, which must answer a ping, as one
        comma-separated string (what a list option of M(nodenet.fabric.reachability) accepts).
      type: dict
      sample: {"targets": "179.17.1.31,179.17.1.16"}
    report:
      description: C(device), C(peers) and C(routes) counts, for a summary line.
      type: dict
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of


def vxlan_mesh_node_state(document, host):
    return mesh.node_plan(fabric_of(document, [mesh.NAME], host, mesh.NAME), host)


class FilterModule:
    def filters(self):
        return {"vxlan_mesh_node_state": vxlan_mesh_node_state}
