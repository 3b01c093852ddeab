# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way filters get the fabric: from the model document, every problem as one error."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

from . import model, registry
from .errors import FabricInvalid


def fabric_of(document, facets=None, host=None, facet=None):
    """The typed model of `document` (``node_base_fabric``), valid for the core and `facets`."""
    try:
        fabric = model.require_valid(model.loads(document), facets)
    except FabricInvalid as exc:
        raise AnsibleFilterError(str(exc))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))
    if host is not None and facet not in model.EXTRA_READERS and host not in fabric.nodes:
        raise AnsibleFilterError("%s is not a node of the fabric (it has no cluster_name)" % host)
    if facet is not None and host is not None and host not in fabric.facets.get(facet, {}):
        raise AnsibleFilterError("%s is not in group %s" % (host, fabric.groups[facet]))
    return fabric


def plan_result(plan):
    """A node plan as the roles use it: the reconcile module's desired state travels as one JSON
    string, which Ansible copies per host far more cheaply than thousands of dicts."""
    result = dict(plan)
    result["reconcile"] = json.dumps(plan["reconcile"], separators=(",", ":"))
    return result


def role_facet(role, needs=None, why=""):
    """The facet of `role` (the registry's), which must give `needs`; else a filter error saying why."""
    try:
        facet = registry.role(role)
    except KeyError as exc:
        raise AnsibleFilterError(str(exc).strip("'\""))
    if needs and not hasattr(facet, needs):
        raise AnsibleFilterError("role %s has %s" % (role, why or "no " + needs))
    return facet


def run_secrets(fabric, hostvars):
    """{password_var: value} of this run (tor.resolve), or a filter error naming every one missing."""
    from .tor.model import resolve
    values, problems = resolve(fabric, hostvars)
    if problems:
        raise AnsibleFilterError("\n".join(str(p) for p in problems))
    return values
