# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role variables checked across hosts, before any role runs:

- set where their role never reads them. A host outside a role's groups ignores the role's
  variables, so `calico_bgp_route_reflector: true` on a node left out of group calico_bgp_rr would
  silently do nothing; the model refuses it instead. A value that every host of the role has too
  (set on `all`, or given with -e) is not reported: it reaches the role's hosts, and other hosts
  merely inherit it.
- a role's state outside its choices, named per cluster it was set for (the role's own argument
  check names only hosts)."""

from __future__ import annotations

from .errors import FabricError
from .renamed import RENAMED

# variable prefix -> (facet the problem belongs to, the facets whose hosts read such variables)
PREFIXES = (
    ("vxlan_mesh_", "vxlan_mesh", ("vxlan_mesh",)),
    ("flannel_hostgw_", "flannel_hostgw", ("flannel_hostgw",)),
    ("calico_bgp_", "calico_bgp_rr", ("calico_bgp_rr", "bgp_routers", "bgp_clients")),
    ("bgp_router_", "bgp_routers", ("bgp_routers",)),
    ("bgp_client_", "bgp_clients", ("bgp_clients",)),
    ("kube_router_", "kube_router_install", ("kube_router_install",)),
)


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
STATES = (("vxlan_mesh", "vxlan_mesh_state"), ("flannel_hostgw", "flannel_hostgw_state"),
          ("kube_router_install", "kube_router_install_state"))
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
    problems = []
    for (facet, variable, cluster, value), hosts in sorted(found.items()):
        which = "node %s" % hosts[0] if len(hosts) == 1 else "nodes %s" % ", ".join(hosts)
        problems.append(FabricError(cluster, hosts[0] if len(hosts) == 1 else "", variable, "%r is not one of %s "
                                    "(set for %s)" % (value, ", ".join(STATE_CHOICES), which), facet))
    return problems


def common_value(hostvars, hosts, name):
    first = hostvars[hosts[0]].get(name)
    return [first] if all(hostvars[h].get(name) == first for h in hosts[1:]) else []
