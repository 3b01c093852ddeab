# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: hostgw_problems
short_description: Every reason flannel host-gw cannot be switched on, plus the fabric's own problems
version_added: 0.1.0
description:
  - Runs the fabric model's validation (see P(nodenet.fabric.fabric_problems#filter)) and, for every
    cluster with a node in O(group), the host-gw checks, all at once, each naming cluster, node and
    variable.
  - "Checks: C(cluster_cni) is flannel or canal; every node of the cluster is in O(group); every node
    shares one C(node_subnet) (host-gw needs one L2 segment; the message names the nodes by subnet and
    points to vxlan_mesh with direct routing); on C(cluster_platform) cloud or openstack, the
    acknowledgement C(flannel_hostgw_accept_platform_risk) is set (the message explains source and
    destination checks and port security); C(flannel_vni) is a VNI."
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.hostgw_group
"""

EXAMPLES = r"""
- name: Ask, without changing anything, whether the inventory's clusters can switch to host-gw
  ansible.builtin.debug:
    msg: "{{ hostvars | nodenet.fabric.hostgw_problems(groups) or ['host-gw can be switched on'] }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: One line per problem, sorted; empty when host-gw can be switched on.
  type: list
  elements: str
  sample: ["cluster edge, node edge-3, node_subnet: 10.30.2.0/24 is not 10.30.1.0/24, ..."]
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils import hostgw
from ansible_collections.nodenet.fabric.plugins.plugin_utils.errors import FabricInvalid
from ansible_collections.nodenet.fabric.plugins.plugin_utils.validate import load


def hostgw_problems(hostvars, groups, group="flannel_hostgw"):
    try:
        fabric = load(hostvars, groups)
    except FabricInvalid as exc:
        return [str(e) for e in exc.errors]
    return [str(e) for e in sorted(set(hostgw.problems(fabric, hostvars, groups, group)))]


class FilterModule:
    def filters(self):
        return {"hostgw_problems": hostgw_problems}
