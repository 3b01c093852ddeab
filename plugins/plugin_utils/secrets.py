# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""BGP peer passwords given by variable (password_var), resolved in the run: the model keeps only
the variable's name, so no password sits in a model read ahead of the run (the inventory
plugin's) or travels in node_base_fabric."""

from __future__ import annotations

from . import bgp, kube_router
from .bgp import password_text_problem
from .errors import FabricError
from .fabric import facet_cluster_settings


def resolve(fabric, hostvars):
    """({variable: value}, [FabricError]) of every password_var, read from the first node of each
    cluster that names it. A problem names the cluster and the variable, never the value."""
    values, problems = {}, []
    for variable, clusters in sorted(password_vars(fabric).items()):
        for cluster, facet in sorted(clusters):
            first = next((n.host for n in fabric.cluster_nodes(cluster) if n.host in hostvars), None)
            value = hostvars[first].get(variable) if first is not None else None
            where = "password_var %s" % variable
            if value is None:
                problems.append(FabricError(cluster, "", where, "is not defined in the run: define it (a vaulted "
                                            "variable, or an extra variable of the job's credential)", facet))
                continue
            text = value if isinstance(value, str) else str(value)  # a vaulted value decrypts to text
            problem = password_text_problem(text)
            if problem:
                problems.append(FabricError(cluster, "", where, problem, facet))
            elif variable in values and values[variable] != text:
                problems.append(FabricError(cluster, "", where, "differs from its value for another cluster; "
                                            "give each password its own variable", facet))
            else:
                values[variable] = text
    return values, problems


def password_vars(fabric):
    """{variable: [(cluster, facet) whose peers name it]} over every cluster of both BGP facets."""
    found = {}
    for facet, names in ((bgp.NAME, bgp.clusters(fabric)), (kube_router.NAME, kube_router.clusters(fabric))):
        for name in names:
            for peer in facet_cluster_settings(fabric, name, facet).peers:
                if peer.get("password_var") and (name, facet) not in found.get(peer["password_var"], []):
                    found.setdefault(peer["password_var"], []).append((name, facet))
    return found
