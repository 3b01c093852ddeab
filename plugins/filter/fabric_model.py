# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric_model
short_description: Read the whole inventory into the fabric model, once
version_added: 0.2.0
description:
  - Reads every cluster, node and facet (vxlan_mesh, flannel_hostgw) of the inventory from
    C(hostvars) and C(groups), checks them all, and returns the model as one JSON document with
    every problem inside it (see P(nodenet.fabric.fabric_problems#filter)).
  - Roles call it once per play (C(run_once)) and keep the result in C(node_base_fabric); the plan
    filters then compute each node's slice from it. The P(nodenet.fabric.fabric#inventory) inventory
    plugin builds the same document when the inventory is loaded, before any play.
  - With O(reuse) set to a model of this format read with the same group names, that model is
    returned as it is and C(hostvars) is not read at all; any other is read again.
options:
  _input:
    description: C(hostvars), every host of the inventory.
    type: dict
    required: true
  groups:
    description: C(groups), the whole inventory's groups (not the play's hosts, so C(--limit) changes nothing).
    type: dict
    required: true
  group_names:
    description: "Inventory group of each facet, for example C({vxlan_mesh: my_mesh}). Unset facets use
      their own name (C(vxlan_mesh), C(flannel_hostgw))."
    type: dict
    default: {}
  reuse:
    description: A model document to return unchanged when it was read with the same O(group_names).
    type: str
"""

EXAMPLES = r"""
- name: Read the fabric once for the play
  ansible.builtin.set_fact:
    node_base_fabric: "{{ hostvars | nodenet.fabric.fabric_model(groups) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The model document (JSON text, format 1) with a digest that names its content.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.inventory import cluster_groups_of_hostvars
from ansible_collections.nodenet.fabric.plugins.plugin_utils.variables import STATE_CHOICES, STATES, disagreeing, renamed_problems


def fabric_model(hostvars, groups, group_names=None, reuse=None):
    try:
        wanted = model.group_names(group_names)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))
    if reusable(reuse, wanted) and not extra_refused(hostvars, reuse):
        return model.with_access(reuse, hostvars)
    return model.with_access(model.dumps(model.read(hostvars, groups, wanted, cluster_groups_of_hostvars(hostvars))),
                             hostvars)


def extra_refused(hostvars, document):
    """Whether a value the model refuses is set where the reused model could not see it: extra
    variables (the same on every host; the inventory's own were read with the model), naming a
    variable a release renamed or a role state outside its choices. One host is enough, so the
    reuse stays cheap."""
    fabric = model.loads(document)
    hosts = sorted(fabric.nodes) or sorted(hostvars)
    if not hosts or hosts[0] not in hostvars:
        return False
    values = hostvars[hosts[0]]
    return bool(renamed_problems(hosts[0], values, "")) or any(
        values.get(variable) not in (None,) + STATE_CHOICES for _facet, variable in STATES) or bool(disagreeing(
            hostvars, dict((facet, [h for h in fabric.facets.get(facet, {}) if h in hostvars]) for facet, _v in STATES)))


def reusable(document, wanted):
    """A model of this format read with the same groups; any other (an older format from a stale
    inventory sync, say) is read again rather than trusted."""
    try:
        return model.is_document(document) and model.loads(document).groups == wanted
    except ValueError:
        return False


class FilterModule:
    def filters(self):
        return {"fabric_model": fabric_model}
