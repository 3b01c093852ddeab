# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: calico_bgp_rr_node_plan
short_description: One Calico node's expected BGP sessions and routes, from the fabric model
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.calico_bgp_node_plan) still works (deprecated).
  - The sessions Calico's confd gives the node for the inventory's topology, named as BIRD's
    protocols are (C(Mesh_<ip>), C(Node_<ip>)) with the type C(calicoctl node status) shows.
  - A route reflector (a node with a cluster ID) ignores the node-to-node mesh and the other
    nodes' mesh skips it; C(peer-with-route-reflectors) gives every node a session to each
    reflector and each reflector a session back; an external peer is reached from the nodes its
    C(peers) selects.
  - Also the routes BIRD must have programmed, every other node's pod blocks via its node IP, and
    C(peers_up), the sessions the peers step adds (waited for before the mesh is turned off).
  - Fails with every problem of the core and calico_bgp_rr facets when the model has any.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.node_plan
"""

EXAMPLES = r"""
- name: Every expected session is Established
  nodenet.fabric.bgp_sessions:
    expected: "{{ (node_base_fabric | nodenet.fabric.calico_bgp_rr_node_plan(inventory_hostname)).verify.sessions }}"
"""

RETURN = r"""
_value:
  description: The node's plan.
  type: dict
  contains:
    verify:
      description: C(sessions) ([{ip, type, name, peer}], each with what confd's bird.cfg gives the
        session as well - port, as, local_as, rr_cluster_id, password (present or not), ttl_security,
        multihop, passive, restart_time, next_hop_keep, source, allow_local_as), C(routes) ([{dst, via}]) and C(scope), the
        addresses the table speaks for (the cluster's nodes and external peers).
      type: dict
    peers_up:
      description: The sessions of the target that are not mesh sessions.
      type: list
      elements: dict
    reflectors:
      description: Whether the node's cluster has route reflectors (the target topology).
      type: bool
    applied:
      description: Whether the cluster has a C(cluster_kubeconfig), so the objects are applied (and
        the role waits for sessions); without one they are only rendered.
      type: bool
    bridge:
      description: The reconcile document of the bridge routes (every other node's pod CIDRs on
        the node's subnet via its node IP, protocol 203, metric 4000, below BIRD's routes) that
        carry pod traffic while sessions are replaced.
      type: str
    bridge_off:
      description: The same document with no routes, which removes them.
      type: str
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import model as bgp
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import plan as bgp_sessions
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of


def calico_bgp_rr_node_plan(document, host):
    return bgp_sessions.node_plan(fabric_of(document, [bgp.NAME], host, bgp.NAME), host)


class FilterModule:
    def filters(self):
        return {"calico_bgp_rr_node_plan": calico_bgp_rr_node_plan}
