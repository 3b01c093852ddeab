# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flannel_hostgw in the lab: the pod paths between switched nodes of one cluster (flanneld
itself is the cluster CNI's program, which the lab runs for every flannel or canal cluster)."""

from __future__ import annotations

from nnlab.facets import both_in

from ansible_collections.nodenet.fabric.plugins.plugin_utils.flannel_hostgw import model as hostgw


def provides(fabric, src, dst):
    return "flannel_hostgw" if both_in(fabric, hostgw.NAME, src, dst) else None
