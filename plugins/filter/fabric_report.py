# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric_report
short_description: The fabric report as one self-contained HTML page
version_added: 0.6.0
description:
  - The validation result (every problem, or valid), the topology drawing, and per host what each
    role will give it (ARP and FDB entry counts, routes with their protocol, BGP sessions).
  - Given the result document of a C(--check) run (the C(ansible.posix.json) callback's), each
    host also lists what would change against its live state.
  - No script and nothing fetched (the SVG and the style are inline). No secret is read.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
options:
  svg:
    description: The topology drawn by Graphviz (C(dot -Tsvg) of P(nodenet.fabric.fabric_dot#filter)).
    type: str
    required: true
  checks:
    description: The C(ansible.posix.json) callback's document of a C(--check) run, or null.
    type: dict
  title:
    description: The report's title, for example the inventory's name.
    type: str
    default: nodenet.fabric
"""

EXAMPLES = r"""
- name: Write the report
  ansible.builtin.copy:
    content: "{{ node_base_fabric | nodenet.fabric.fabric_report(drawing.stdout, none, 'seed') }}"
    dest: fabric-report.html
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The HTML document.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model, report


def fabric_report(document, svg, checks=None, title="nodenet.fabric"):
    try:
        return report.html(model.loads(document), svg, checks, title)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"fabric_report": fabric_report}
