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


def cluster_groups(groups, vars_of):
    """{group name: the cluster_name it sets itself} from Ansible Group objects; `vars_of(group)`
    gives a group's own variables. The model checks these (not the merged host vars, where
    Ansible has already picked one) for a host in two clusters and a name set by two groups."""
    result = {}
    for group in groups:
        if group.name in ("all", "ungrouped"):
            continue
        own = vars_of(group)
        if own.get("cluster_name") not in (None, ""):
            result[group.name] = own["cluster_name"]
    return result


def cluster_groups_of_hostvars(hostvars):
    """cluster_groups() from the inventory behind a play's `hostvars`, with the group variables of
    inventory files and group_vars folders; {} when `hostvars` is a plain dict (nothing to check)."""
    inventory = getattr(hostvars, "_inventory", None)
    loader = getattr(hostvars, "_loader", None)
    if inventory is None or not hasattr(inventory, "groups"):
        return {}
    sources = getattr(inventory, "_sources", None) or []

    def vars_of(group):
        own = dict(group.get_vars())
        if loader is not None:
            try:
                from ansible.utils.vars import combine_vars
                from ansible.vars.plugins import get_vars_from_inventory_sources
                own = combine_vars(own, get_vars_from_inventory_sources(loader, sources, [group], "all"))
            except Exception:  # Ansible internals: the inventory file's own vars still count
                pass
        return own
    return cluster_groups(inventory.groups.values(), vars_of)
