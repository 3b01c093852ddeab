# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tor_client_state
short_description: One outside client's routes to the pods via its router, from the fabric model
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.bgp_client_state) still works (deprecated).
  - "A route to the pod range of each cluster the client's C(bgp_client_router) peers with (or of
    C(bgp_client_clusters)), via the router, carrying protocol 203 (C(nodenet_bgp)): seed 004's
    C(ip route add <pod CIDR> via <ToR>), kept by the reconcile engine."
  - Also C(verify.targets), the first address of every pod CIDR of those clusters, to ping.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.bgp_host
"""

EXAMPLES = r"""
- name: Route the pods via the ToR
  nodenet.fabric.reconcile:
    desired: "{{ (node_base_fabric | nodenet.fabric.tor_client_state(inventory_hostname)).reconcile }}"
"""

RETURN = r"""
_value:
  description: C(reconcile), the client's desired state as one JSON string, and C(verify.targets).
  type: dict
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import model as bgp
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import plan as bgp_router
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import model as tor
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of, plan_result

FACETS = [bgp.NAME, tor.ROUTERS, tor.CLIENTS]


def tor_client_state(document, host):
    fabric = fabric_of(document, FACETS, host, tor.CLIENTS)
    return plan_result({"reconcile": bgp_router.client_state(fabric, host),
                        "verify": {"targets": ",".join(bgp_router.client_targets(fabric, host))}})


class FilterModule:
    def filters(self):
        return {"tor_client_state": tor_client_state}
