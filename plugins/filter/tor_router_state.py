# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tor_router_state
short_description: One ToR router's BGP configuration (FRR), from the fabric model
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.bgp_router_state) still works (deprecated).
  - "For every cluster whose C(calico_bgp_peers) names the router's C(bgp_router_ip): a neighbor
    per node that peers with it (the route reflectors, or every node) with the cluster's AS, a
    route-map that accepts any block inside the cluster's pod range and one that sends nothing."
  - The arguments of M(nodenet.fabric.frr_bgp). They may hold BGP passwords; use with no_log.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.peer_secrets
  - nodenet.fabric.fabric_inventory.bgp_host
"""

EXAMPLES = r"""
- name: Configure the ToR's neighbors
  nodenet.fabric.frr_bgp:
    asn: "{{ router.asn }}"
    router_id: "{{ router.router_id }}"
    neighbors: "{{ router.neighbors }}"
    prefix_lists: "{{ router.prefix_lists }}"
    route_maps: "{{ router.route_maps }}"
  vars:
    router: "{{ node_base_fabric | nodenet.fabric.tor_router_state(inventory_hostname) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: C(asn), C(router_id), C(neighbors) ([{ip, remote_as, description, in, out, multihop, password?}]),
    C(prefix_lists) ([{name, prefixes}]), C(route_maps) ([{name, action, match?}]) and C(secret)
    (whether any neighbor carries a password, when a task should hide itself).
  type: dict
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import model as bgp
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import plan as bgp_router
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import model as tor
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of

FACETS = [bgp.NAME, tor.ROUTERS, tor.CLIENTS]


def tor_router_state(document, host, secrets=None):
    return bgp_router.router_state(fabric_of(document, FACETS, host, tor.ROUTERS), host, secrets=secrets)


class FilterModule:
    def filters(self):
        return {"tor_router_state": tor_router_state}
