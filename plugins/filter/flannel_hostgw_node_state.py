# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: flannel_hostgw_node_state
short_description: One node's flannel host-gw plan, from the fabric model
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.hostgw_node_state) still works (deprecated).
  - The bridge of a switch from flannel's vxlan backend to host-gw. Per other node of the
    node's cluster, two routes carrying protocol 202 (C(nodenet_hostgw)), the halves of its pod
    CIDR via its C(node_ip) on C(node_interface). Being more specific, they carry the traffic
    while flanneld replaces its vxlan route to the whole CIDR with its host-gw route.
  - Each half hands over to flanneld's host-gw route to the whole CIDR (same gateway and device);
    once that route is in the table, the half is no longer wanted and goes.
  - With O(retire=true) the plan also retires C(flannel.<flannel_vni>) with its leftover
    neighbors and FDB entries, after waiting up to O(wait) seconds for every handover.
  - Fails with every problem of the core and flannel_hostgw facets when the model has any.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.node_plan
options:
  retire:
    description: Also delete flannel's vxlan device, once flanneld's host-gw routes took over.
    type: bool
    default: false
  wait:
    description: With O(retire), seconds to wait for flanneld's host-gw routes to every peer.
    type: int
    default: 0
  restarted:
    description:
      - Whether this run restarts flanneld. Only then (and where the cluster has a C(cluster_kubeconfig))
        does the retire wait; elsewhere it hands over and retires only what flanneld already took over.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Plan this node's host-gw routes
  ansible.builtin.set_fact:
    flannel_hostgw_plan: "{{ node_base_fabric | nodenet.fabric.flannel_hostgw_node_state(inventory_hostname) }}"

- name: Install them
  nodenet.fabric.reconcile:
    desired: "{{ flannel_hostgw_plan.reconcile }}"
"""

RETURN = r"""
_value:
  description: The node's plan.
  type: dict
  contains:
    reconcile:
      description: >-
        The O(nodenet.fabric.reconcile#module:desired) state of M(nodenet.fabric.reconcile), one JSON document with C(routes) (dst
        (half a peer pod CIDR), via (peer node_ip), dev (node_interface), onlink, handover (the
        whole CIDR via the same gateway and device)), C(route_protocol) (202),
        C(retire_devices) ([flannel.<VNI>] with O(retire)) and C(handover_wait) (O(wait) with O(retire)).
      type: str
    verify:
      description: C(targets), the first address of each peer pod CIDR (flannel's cni0), to ping, as one
        comma-separated string (what a list option of M(nodenet.fabric.reachability) accepts).
      type: dict
      sample: {"targets": "10.244.2.1,10.244.3.1"}
    report:
      description: C(pod_mtu), the pod MTU host-gw allows (C(node_mtu), as nothing is encapsulated).
      type: dict
    preflight:
      description: C(rp_filter), the command (an argv) that prints the reverse-path filtering of C(all),
        C(node_interface) and C(flannel.<VNI>), whose output P(nodenet.fabric.flannel_hostgw_rp_filter#filter) reads.
      type: dict
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.flannel_hostgw import model as hostgw
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of, plan_result


def flannel_hostgw_node_state(document, host, retire=False, wait=0, restarted=True):
    fabric = fabric_of(document, [hostgw.NAME], host, hostgw.NAME)
    return plan_result(hostgw.node_plan(fabric, host, retire, wait, restarted))


class FilterModule:
    def filters(self):
        return {"flannel_hostgw_node_state": flannel_hostgw_node_state}
