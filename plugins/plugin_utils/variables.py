# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role variables checked across hosts, before any role runs:

- renamed by a release. An old name left in an inventory would be ignored silently (an old
  `kube_router_state: absent` would install instead of rolling back), so the model refuses it.
- set where their role never reads them. A host outside a role's groups ignores the role's
  variables, so `calico_bgp_route_reflector: true` on a node left out of group calico_bgp_rr would
  silently do nothing; the model refuses it instead. A value that every host of the role has too
  (set on `all`, or given with -e) is not reported: it reaches the role's hosts, and other hosts
  merely inherit it.
- a role's state outside its choices, named per cluster it was set for (the role's own argument
  check names only hosts)."""

from __future__ import annotations

from .errors import FabricError
from .registry import FACETS

# old name: (release, new name). 0.6.0: ansible-lint's role-prefix rule (var-naming[no-role-prefix]).
RENAMED = {
    "nodenet_root": ("0.6.0", "node_base_root"),
    "nodenet_systemd": ("0.6.0", "node_base_systemd"),
    "nodenet_state_dir": ("0.6.0", "node_base_state_dir"),
    "nodenet_tool_dir": ("0.6.0", "node_base_tool_dir"),
    "nodenet_manifest_dir": ("0.6.0", "node_base_manifest_dir"),
    "nodenet_facets": ("0.6.0", "node_base_facets"),
    "nodenet_fabric_groups": ("0.6.0", "node_base_fabric_groups"),
    "nodenet_persist": ("0.6.0", "node_base_persist"),
    "nodenet_preflight": ("0.6.0", "node_base_preflight"),
    "nodenet_persist_args": ("0.6.0", "node_base_persist_args"),
    "kube_router_state": ("0.6.0", "kube_router_install_state"),
    "kube_router_wait": ("0.6.0", "kube_router_install_wait"),
    "kube_router_gobgp": ("0.6.0", "kube_router_install_gobgp"),
    "kube_router_kube_proxy_backup": ("0.6.0", "kube_router_install_kube_proxy_backup"),
}


# name: (release, why it has no use now). 0.8.0: the cluster engine's steps say it per step.
STEP_SAYS = "each cluster step of a role says it (its force, secret and field_manager)"
REMOVED = dict((name, ("0.8.0", STEP_SAYS)) for name in (
    "node_base_manifest_force", "node_base_manifest_secret", "node_base_manifest_field_manager",
    "nodenet_manifest_force", "nodenet_manifest_secret", "nodenet_manifest_field_manager"))


def renamed_problems(host, values, cluster):
    """A FabricError for each renamed or removed variable `values` (a host's variables) still sets."""
    return ([FabricError(cluster, host, old, "was renamed in %s: set %s instead" % RENAMED[old])
             for old in sorted(RENAMED) if old in values]
            + [FabricError(cluster, host, old, "was removed in %s: %s; remove it" % REMOVED[old])
               for old in sorted(REMOVED) if old in values])


# variable prefix -> (facet the problem belongs to, the facets whose hosts read such variables)
PREFIXES = tuple(p for facet in FACETS for p in facet.PREFIXES)


def misplaced_problems(hostvars, groups, members):
    """A FabricError per role variable set on a host outside the role's groups, with a value the
    role's own hosts do not all share. `members` is {facet: hosts of its group}."""
    found = []
    everyone = sorted(hostvars)
    for prefix, facet, readers in PREFIXES:
        hosts = set().union(*(set(members.get(r) or ()) for r in readers))
        group = " or ".join(groups.get(r, r) for r in readers)
        shared = {}  # name -> [the one value every host of the role has] or [] when they differ
        for host in everyone:
            if host in hosts:
                continue
            values = hostvars[host]
            for name in sorted(n for n in values if n.startswith(prefix) and n not in RENAMED and values[n] not in (None, "")):
                if name not in shared:
                    shared[name] = common_value(hostvars, sorted(hosts) or everyone, name)
                if shared[name] and shared[name][0] == values[name]:
                    continue
                found.append(FabricError(
                    str(values.get("cluster_name") or ""), host, name,
                    "is set here, but %s is not in group %s, so the role never reads it; add the host to %s, "
                    "or remove the variable from it" % (host, group, group), facet))
    return found


# facet -> its role's state variable; each takes present or absent
STATES = tuple((facet.NAME, facet.STATE) for facet in FACETS if facet.STATE)
STATE_CHOICES = ("present", "absent")


def state_problems(hostvars, members):
    """One FabricError per cluster (and bad value) whose nodes of the role give a state outside
    present/absent."""
    found = {}
    for facet, variable in STATES:
        for host in sorted(members.get(facet) or ()):
            value = hostvars[host].get(variable)
            if value is None or value in STATE_CHOICES:
                continue
            cluster = str(hostvars[host].get("cluster_name") or "")
            found.setdefault((facet, variable, cluster, str(value)), []).append(host)
    problems = disagreeing(hostvars, members)
    for (facet, variable, cluster, value), hosts in sorted(found.items()):
        which = "node %s" % hosts[0] if len(hosts) == 1 else "nodes %s" % ", ".join(hosts)
        problems.append(FabricError(cluster, hosts[0] if len(hosts) == 1 else "", variable, "%r is not one of %s "
                                    "(set for %s)" % (value, ", ".join(STATE_CHOICES), which), facet))
    return problems


def disagreeing(hostvars, members):
    """A role state its nodes disagree on (unset is present): its cluster steps act on every
    cluster at once, so the run takes one."""
    problems = []
    for facet, variable in STATES:
        hosts = sorted(members.get(facet) or ())
        values = dict((h, hostvars[h].get(variable, "present")) for h in hosts)
        if len(set(values.values())) > 1:
            absent = [h for h in hosts if values[h] == "absent"]
            problems.append(FabricError("", "", variable, "absent on %d of %d nodes (%s), present on the others; "
                                        "give it once for the run (-e %s=present|absent)"
                                        % (len(absent), len(hosts), ", ".join(absent), variable), facet))
    return problems


def common_value(hostvars, hosts, name):
    first = hostvars[hosts[0]].get(name)
    return [first] if all(hostvars[h].get(name) == first for h in hosts[1:]) else []
