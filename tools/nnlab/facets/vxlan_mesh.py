# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vxlan_mesh in the lab: it provides the pod paths between meshed nodes of different clusters."""

from __future__ import annotations

from nnlab.facets import both_in

from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh


def provides(fabric, src, dst):
    return "vxlan_mesh" if both_in(fabric, mesh.NAME, src, dst, same_cluster=False) else None
