# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric_dot
short_description: The fabric's topology as Graphviz DOT text
version_added: 0.6.0
description:
  - Clusters (as Graphviz clusters), their nodes, the underlay subnets, the vxlan mesh, the BGP
    sessions each node is planned to have (a full node-to-node mesh as one hub per cluster), ToR
    routers and outside clients. Render it with C(dot -Tsvg).
  - In the SVG each node is a group with id C(node-<host>) and each cluster one with id
    C(cluster-<name>).
  - An inventory with problems is drawn too; the sessions of a role with problems are left out.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
"""

EXAMPLES = r"""
- name: Draw the fabric
  ansible.builtin.command:
    cmd: dot -Tsvg
    stdin: "{{ node_base_fabric | nodenet.fabric.fabric_dot }}"
  register: drawing
  changed_when: false
"""

RETURN = r"""
_value:
  description: The DOT text of an undirected graph named C(fabric).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model, report


def fabric_dot(document):
    try:
        return report.dot(model.loads(document))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"fabric_dot": fabric_dot}
