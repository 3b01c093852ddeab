# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn `ansible-inventory --list` output into the (hostvars, groups) pair that
Ansible hands to filters, so tools outside a play read the same model."""

from __future__ import annotations


def from_inventory_list(data):
    hostvars = dict(data.get("_meta", {}).get("hostvars", {}))
    groups = {}

    def members(group, seen=()):
        if group in seen:
            return []
        entry = data.get(group) or {}
        hosts = list(entry.get("hosts", []))
        for child in entry.get("children", []):
            hosts += members(child, seen + (group,))
        return hosts

    for group in data:
        if group != "_meta":
            groups[group] = sorted(set(members(group)))
    for host in groups.get("all", []):
        hostvars.setdefault(host, {})
    return hostvars, groups
