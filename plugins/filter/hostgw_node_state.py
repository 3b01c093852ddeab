# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: hostgw_node_state
short_description: One node's flannel host-gw routes, as nodenet.fabric.reconcile arguments
version_added: 0.1.0
description:
  - One route to each other node of the node's cluster, its pod CIDRs via its C(node_ip) on
    C(node_interface), carrying protocol 202 (C(nodenet_hostgw)).
  - Each replaces flanneld's vxlan route to the same destination on C(flannel.<flannel_vni>);
    an identical route of another protocol (flanneld running host-gw itself) counts as satisfied.
  - With O(retire=true) the result also retires C(flannel.<flannel_vni>) with its leftover
    neighbors and FDB entries, once the routes are in place.
  - C(pod_mtu) reports the MTU the switch allows pods (no encapsulation, so the underlay's).
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
options:
  host:
    description: The node, usually C(inventory_hostname).
    type: str
    required: true
  retire:
    description: Also delete flannel's vxlan device.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Install the host-gw routes
  nodenet.fabric.reconcile:
    routes: "{{ desired.routes }}"
    route_protocol: "{{ desired.route_protocol }}"
    replace_foreign_on: "{{ desired.replace_foreign_on }}"
    foreign_identical_satisfies: true
  vars:
    desired: "{{ hostvars | nodenet.fabric.hostgw_node_state(groups, inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: The node's desired host-gw state.
  type: dict
  contains:
    routes: {description: "Routes: dst, via (peer node_ip), dev (node_interface), onlink.", type: list}
    route_protocol: {description: "202 (nodenet_hostgw).", type: int}
    replace_foreign_on: {description: "[flannel.<VNI>]", type: list}
    foreign_identical_satisfies: {description: "Always true.", type: bool}
    retire_devices: {description: "[flannel.<VNI>] with retire, else [].", type: list}
    pod_mtu: {description: "The pod MTU host-gw allows (node_mtu).", type: int}
    probe_targets: {description: "First address of each peer pod CIDR (flannel's cni0), to ping.", type: list}
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils import hostgw
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_or_fail


def hostgw_node_state(hostvars, groups, host, retire=False):
    return hostgw.node_state(fabric_or_fail(hostvars, groups, host=host), hostvars, host, retire)


class FilterModule:
    def filters(self):
        return {"hostgw_node_state": hostgw_node_state}
