# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every fabric filter takes: the whole inventory, never only the play's hosts."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  _input:
    description: C(hostvars), every host of the inventory.
    type: dict
    required: true
  groups:
    description: C(groups), the whole inventory's groups (not the play's hosts, so C(--limit) changes nothing).
    type: dict
    required: true
"""

    MESH_GROUP = r"""
options:
  mesh_group:
    description: Group whose hosts form the vxlan mesh.
    type: str
    default: vxlan_mesh
"""

    HOSTGW_GROUP = r"""
options:
  group:
    description: Group whose hosts switch to host-gw.
    type: str
    default: flannel_hostgw
"""
