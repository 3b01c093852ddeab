# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation problems, each naming where it was found."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class FabricError:
    """One problem in the inventory: which cluster, node and variable, and why."""

    cluster: str
    node: str
    variable: str
    message: str
    facet: str = "core"  # which feature's validation found it (core, vxlan_mesh, flannel_hostgw)

    def __str__(self):
        where = []
        if self.cluster:
            where.append("cluster %s" % self.cluster)
        if self.node:
            where.append("node %s" % self.node)
        where.append(self.variable)
        return "%s: %s" % (", ".join(where), self.message)


class FabricInvalid(ValueError):
    """Raised with every problem found, never just the first."""

    def __init__(self, errors):
        self.errors = sorted(set(errors))
        lines = ["%d problem(s) in the fabric inventory:" % len(self.errors)]
        lines += ["  - %s" % e for e in self.errors]
        super().__init__("\n".join(lines))
