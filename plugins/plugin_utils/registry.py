# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The facets: one package each under plugin_utils, found here (a package whose __init__ gives
ORDER), in ORDER. A facet's package gives, in its __init__:

- NAME: its role and inventory group (None for the hosts around the clusters, tor: GROUPS);
- VARIABLES (defaults), SETTINGS (its per-host dataclass), read(reader, node_mtu), check(fabric),
  prepare(fabric), api_clusters(fabric) (the clusters whose API its role calls); or, for hosts read from groups of their own, EXTRA_READERS and
  EXTRA_SETTINGS ({group: ...});
- PREFIXES: ((variable prefix, facet its problems belong to, facets whose hosts read it), ...);
- STATE: its role's state variable (present/absent) or None; SECRETS: whether its cluster objects
  hold peer passwords given by variable name;
- FAMILIES (optional, default (4,)): the address families its role handles; a cluster of its
  group in another family is refused (fabric.family_problems);
- node_plan(fabric, host), where its role plans nodes;
- cluster_steps(fabric, state, secrets, options) and cluster_checks(fabric, state, options), where
  its role has a cluster side (cluster/steps.py builds the steps);
- node_steps(fabric, host, state, options, secrets, preflight_only), where its role runs node
  steps between the gates of its cluster order, and checks its hosts before anything changes
  (node/steps.py builds them; the gates are the cluster order's);
- REPORT_ROWS: {group: rows(fabric, host)}, a host's row in the fabric report.

The model, the report, the role-variable checks, the filters, the lab and the AWX job templates
read the facets from here; a new facet is its package and its role."""

from __future__ import annotations

import importlib
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def discover():
    found = []
    for name in sorted(os.listdir(_HERE)):
        if os.path.isfile(os.path.join(_HERE, name, "__init__.py")):
            package = importlib.import_module("%s.%s" % (__package__, name))
            if hasattr(package, "ORDER"):
                found.append(package)
    return tuple(sorted(found, key=lambda p: (p.ORDER, p.__name__)))


FACETS = discover()
# The facets with a role (and a group of nodes), in the order site.yml runs their roles.
ROLES = dict((f.NAME, f) for f in FACETS if f.NAME)
ROLE_NAMES = tuple(ROLES)


def role(name):
    """The facet of a role, or KeyError naming the roles there are."""
    if name not in ROLES:
        raise KeyError("role %r is not one of %s" % (name, ", ".join(ROLE_NAMES)))
    return ROLES[name]
