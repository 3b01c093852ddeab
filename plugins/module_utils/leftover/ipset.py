# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipset: the owner's sets (by name or prefix), destroyed in one ipset restore batch once no
staying rule uses them."""

from __future__ import absolute_import, division, print_function

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_PROXY

__metaclass__ = type


def parse_ipset_names(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def plan_ipsets(names, in_use, owner=KUBE_PROXY):
    """(to destroy, kept count, conflicts): the owner's sets; one a staying rule uses cannot go."""
    remove = [name for name in names if owner.owns("ipset", name)]
    conflicts = ["ipset %s is %s's but a rule that stays uses it" % (name, owner.name)
                 for name in remove if name in in_use]
    return remove, len(set(names) - set(remove)), conflicts


def ipset_batch(names):
    return "".join("destroy %s\n" % name for name in names)
