# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way filters load the fabric: every problem becomes one AnsibleFilterError."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from .errors import FabricInvalid
from .validate import load


def fabric_or_fail(hostvars, groups, mesh_group="vxlan_mesh", host=None):
    try:
        fabric = load(hostvars, groups, mesh_group)
    except FabricInvalid as exc:
        raise AnsibleFilterError(str(exc))
    if host is not None and host not in fabric.nodes:
        raise AnsibleFilterError("%s is not a node of the fabric (it has no cluster_name)" % host)
    return fabric
