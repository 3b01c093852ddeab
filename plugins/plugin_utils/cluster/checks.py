# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks any facet's steps may name (`check: cluster.checks.<function>`)."""

from __future__ import annotations


def missing(step, found):
    """One line per name in the step's `expect` ({read: [names]}) that its read did not find."""
    lines = []
    for name, wanted in sorted((step.get("expect") or {}).items()):
        have = set((o.get("metadata") or {}).get("name") for o in found.get(name) or [])
        for each in wanted:
            if each not in have:
                lines.append("cluster %s: no %s named %s in its API%s" % (
                    step["cluster"], step["read"][name]["kind"], each, step.get("hint", "")))
    return lines
