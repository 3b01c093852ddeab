# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: mesh_node_state
short_description: One node's desired vxlan mesh state (device, ARP, FDB, routes)
version_added: 0.1.0
description:
  - Computes, from inventory data only, what one mesh node needs (seed 002). The result is the
    argument set of M(nodenet.fabric.reconcile).
  - C(device) is the vxlan device; C(neighbors) holds an ARP entry and C(fdb) an FDB entry for
    every other mesh node; C(routes) sends every node pod CIDR of the other clusters via that
    node's vxlan IP.
  - With C(vxlan_mesh_direct_routing), a peer in the node's own C(node_subnet) is routed via its
    C(node_ip) on C(node_interface), without encapsulation (flannel's DirectRouting).
  - It depends only on the inventory, so C(--limit) gives a node exactly what a full run gives it.
  - Fails with every validation problem when the fabric is invalid.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.mesh_group
options:
  host:
    description: The node, usually C(inventory_hostname).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Apply this node's mesh state
  nodenet.fabric.reconcile: "{{ hostvars | nodenet.fabric.mesh_node_state(groups, inventory_hostname) }}"

- name: Just the routes
  ansible.builtin.debug:
    msg: "{{ (hostvars | nodenet.fabric.mesh_node_state(groups, inventory_hostname)).routes }}"
"""

RETURN = r"""
_value:
  description: The node's desired state.
  type: dict
  contains:
    device:
      description: name, kind, vni, port, local, underlay, learning, mtu, mac, address.
      type: dict
      sample: {"name": "vxlan-test", "vni": 10001, "port": 4899, "local": "192.168.0.21", "underlay": "eth0",
               "learning": false, "mtu": 1450, "mac": "c2:6a:9b:e5:39:8d", "address": "179.17.1.21/24"}
    neighbors:
      description: ARP entries, one per other mesh node.
      type: list
      sample: [{"ip": "179.17.1.31", "mac": "7a:3a:fe:45:a3:76"}]
    fdb:
      description: FDB entries, one per other mesh node.
      type: list
      sample: [{"mac": "7a:3a:fe:45:a3:76", "dst": "192.168.0.31"}]
    routes:
      description: Routes to the other clusters' node pod CIDRs.
      type: list
      sample: [{"dst": "10.235.88.0/24", "via": "179.17.1.16", "dev": "vxlan-test", "onlink": true}]
    route_protocol:
      description: The mesh's route protocol number (201, C(nodenet_mesh)).
      type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_or_fail
from ansible_collections.nodenet.fabric.plugins.plugin_utils.mesh import node_state


def mesh_node_state(hostvars, groups, host, mesh_group="vxlan_mesh"):
    try:
        return node_state(fabric_or_fail(hostvars, groups, mesh_group), host)
    except KeyError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"mesh_node_state": mesh_node_state}
