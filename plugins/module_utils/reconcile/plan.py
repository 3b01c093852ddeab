# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state vs dataplane: the one decision function (felix-style).

Ownership, and so what may be deleted:
- the managed device, with every permanent neighbor and FDB entry on it;
- routes in the managed table whose protocol is `route_protocol`.
Nothing else is ever changed or removed.

Commands come in three phases so that a route is only added once its ARP and
FDB entries exist: ip (device, ARP adds) -> bridge (FDB adds, then FDB stale)
-> ip (routes, then stale routes, then stale ARP).
"""

from __future__ import absolute_import, division, print_function

import operator

__metaclass__ = type


class Plan:
    def __init__(self):
        self.link_cmds = []   # `ip -batch`: device, addresses, neighbor adds
        self.fdb_cmds = []    # `bridge -batch`: FDB adds then removals
        self.route_cmds = []  # `ip -batch`: route adds, route removals, neighbor removals
        self.changes = []     # one readable line per change
        self.errors = []      # conflicts that stop the run before any change
        self.recreate_reasons = []

    @property
    def changed(self):
        return bool(self.link_cmds or self.fdb_cmds or self.route_cmds)

    def as_dict(self):
        return {
            "changed": self.changed,
            "changes": list(self.changes),
            "device_recreated": "; ".join(self.recreate_reasons) or None,
            "commands": {"ip": self.link_cmds + self.route_cmds, "bridge": list(self.fdb_cmds)},
        }


def make_plan(desired, dataplane):
    plan = Plan()
    device = desired.get("device")
    name = device["name"] if device else None
    link = dataplane.link(name) if name else None
    fresh = False  # the device is (re)created: nothing on it survives
    if desired["state"] == "absent":
        plan_absent(plan, desired, dataplane, link)
        return plan
    if device:
        fresh = plan_device(plan, device, link)
        if plan.errors:
            return plan
    if name:
        neighbors_ok = not fresh and as_dumped(dataplane, "neighbors", desired["neighbors"], ("ip", "mac"))
        neighbors = [] if fresh or neighbors_ok else on_dev(dataplane.neighbors, name)
        neighbors_ok = neighbors_ok or same(desired["neighbors"], neighbors, ("ip", "mac"))
        if not neighbors_ok:
            plan_neighbors(plan, name, desired["neighbors"], neighbors)
        if fresh or not as_dumped(dataplane, "fdb", desired["fdb"], ("mac", "dst")):
            fdb = [] if fresh else on_dev(dataplane.fdb, name)
            if not same(desired["fdb"], fdb, ("mac", "dst")):
                plan_fdb(plan, name, desired["fdb"], fdb)
    plan_routes(plan, desired, dataplane, name if fresh else None)
    if name and not neighbors_ok:
        plan_stale_neighbors(plan, name, desired["neighbors"], neighbors)
    plan_retired(plan, desired.get("retire_devices") or [], dataplane)
    return plan


def plan_retired(plan, names, dataplane):
    """Delete devices another agent left behind (flannel.1 after host-gw), last of all:
    the routes that replace theirs are in place by then."""
    for name in names:
        link = dataplane.link(name)
        if link is None:
            continue
        if link["kind"] != "vxlan":
            plan.errors.append("device %s is of kind %s, not vxlan; refusing to delete it"
                               % (name, link["kind"] or "unknown"))
            continue
        plan.route_cmds.append("link delete dev %s" % name)
        plan.changes.append("remove device %s with its neighbors, fdb entries and routes" % name)


def as_dumped(dataplane, kind, wanted, fields):
    """Fast no-op test on the raw dump: exactly the wanted entries (False also when it cannot tell)."""
    found = dataplane.keys(kind)
    if found is None:
        return False
    keys, count = found
    return count == len(wanted) and keys == set(map(operator.itemgetter(*fields), wanted))


def same(wanted, actual, fields):
    """Fast no-op test: the entries are exactly the wanted ones, all permanent."""
    if len(wanted) != len(actual) or not all(e["permanent"] for e in actual):
        return False
    a, b = fields
    return set((e[a], e[b]) for e in wanted) == set((e[a], e[b]) for e in actual)


def on_dev(entries, dev):
    return [e for e in entries if e["dev"] == dev]


def plan_device(plan, want, link):
    """Create, recreate or adjust the device. True when it is (re)created."""
    name = want["name"]
    if link is not None and link["kind"] != "vxlan":
        plan.errors.append("device %s exists and is of kind %s, not vxlan: it is not ours; "
                           "refusing to touch it" % (name, link["kind"] or "unknown"))
        return False
    fresh = link is None
    if link is not None:
        for key, label in (("vni", "VNI"), ("port", "port"), ("local", "local IP"),
                           ("underlay", "underlay device"), ("learning", "learning")):
            if link[key] != want[key]:
                plan.recreate_reasons.append("%s is %s, want %s" % (label, link[key], want[key]))
        if plan.recreate_reasons:
            plan.link_cmds.append("link delete dev %s" % name)
            plan.changes.append("recreate device %s: %s" % (name, "; ".join(plan.recreate_reasons)))
            fresh = True
    if fresh:
        plan.link_cmds.append(
            "link add %s mtu %d address %s type vxlan id %d dstport %d local %s dev %s %s"
            % (name, want["mtu"], want["mac"], want["vni"], want["port"], want["local"],
               want["underlay"], "learning" if want["learning"] else "nolearning"))
        if link is None:
            plan.changes.append("create device %s (vni %d, port %d, local %s, dev %s)"
                                % (name, want["vni"], want["port"], want["local"], want["underlay"]))
        plan.link_cmds.append("address replace %s dev %s" % (want["address"], name))
        plan.link_cmds.append("link set dev %s up" % name)
        return True
    if link["mtu"] != want["mtu"]:
        plan.link_cmds.append("link set dev %s mtu %d" % (name, want["mtu"]))
        plan.changes.append("set %s mtu %s -> %d" % (name, link["mtu"], want["mtu"]))
    if link["mac"] != want["mac"]:
        plan.link_cmds.append("link set dev %s address %s" % (name, want["mac"]))
        plan.changes.append("set %s address %s -> %s" % (name, link["mac"], want["mac"]))
    if want["address"] not in link["addresses"]:
        plan.link_cmds.append("address replace %s dev %s" % (want["address"], name))
        plan.changes.append("add address %s to %s" % (want["address"], name))
    for address in link["addresses"]:
        if address != want["address"]:
            plan.link_cmds.append("address delete %s dev %s" % (address, name))
            plan.changes.append("remove address %s from %s" % (address, name))
    if not link["up"]:
        plan.link_cmds.append("link set dev %s up" % name)
        plan.changes.append("set %s up" % name)
    return False


def plan_neighbors(plan, dev, wanted, actual):
    have = dict((n["ip"], n) for n in actual)
    for entry in wanted:
        cur = have.get(entry["ip"])
        if cur and cur["permanent"] and cur["mac"] == entry["mac"]:
            continue
        plan.link_cmds.append("neighbor replace %s lladdr %s dev %s nud permanent"
                              % (entry["ip"], entry["mac"], dev))
        plan.changes.append("%s neighbor %s lladdr %s on %s"
                            % ("replace" if cur else "add", entry["ip"], entry["mac"], dev))


def plan_stale_neighbors(plan, dev, wanted, actual):
    keep = set(n["ip"] for n in wanted)
    for cur in actual:
        if cur["permanent"] and cur["ip"] not in keep:
            plan.route_cmds.append("neighbor delete %s dev %s" % (cur["ip"], dev))
            plan.changes.append("remove neighbor %s lladdr %s on %s" % (cur["ip"], cur["mac"], dev))


def plan_fdb(plan, dev, wanted, actual):
    """Unicast MAC -> one remote. `replace` rewrites the first remote, so extra
    remotes of a wanted MAC, and every permanent entry of an unwanted MAC, go after."""
    remotes = {}
    for cur in actual:
        remotes.setdefault(cur["mac"], []).append(cur)
    stale = []
    for entry in wanted:
        have = remotes.pop(entry["mac"], [])
        dsts = [c["dst"] for c in have]
        ok = [c for c in have if c["dst"] == entry["dst"] and c["permanent"]]
        if not ok:
            plan.fdb_cmds.append("fdb replace %s dev %s dst %s self permanent"
                                 % (entry["mac"], dev, entry["dst"]))
            plan.changes.append("%s fdb %s dst %s on %s"
                                % ("replace" if have else "add", entry["mac"], entry["dst"], dev))
            if entry["dst"] not in dsts and have:
                have = have[1:]  # the first remote is the one replace rewrote
        stale += [c for c in have if c["dst"] != entry["dst"]]
    for extra in remotes.values():
        stale += [c for c in extra if c["permanent"]]
    for cur in stale:
        plan.fdb_cmds.append("fdb delete %s dev %s dst %s self" % (cur["mac"], dev, cur["dst"]))
        plan.changes.append("remove fdb %s dst %s on %s" % (cur["mac"], cur["dst"], dev))


def route_matches(route, want):
    return (route["via"] == want["via"] and route["dev"] == want["dev"]
            and route["onlink"] == want["onlink"])


def plan_routes(plan, desired, dataplane, flushed_dev):
    """Routes we own carry our protocol; a foreign route to the same destination
    and metric is a conflict (or, when allowed, satisfies or is replaced)."""
    proto, table = desired["route_protocol"], desired["route_table"]
    if flushed_dev is None and (as_dumped(dataplane, "routes", desired["routes"], ("dst", "via", "dev", "onlink"))
                                or routes_match(desired["routes"], dataplane.routes, proto)):
        return
    ours, foreign = {}, {}
    for route in dataplane.routes:
        if route["dev"] == flushed_dev and flushed_dev is not None:
            continue  # gone with the device
        target = ours if route["protocol"] == proto else foreign
        target.setdefault((route["dst"], route["metric"]), route)
    wanted = set()
    for want in desired["routes"]:
        key = (want["dst"], 0)
        wanted.add(key)
        cur = ours.get(key)
        if cur is not None and route_matches(cur, want):
            continue
        other = foreign.get(key)
        if cur is None and other is not None:
            if desired.get("foreign_identical_satisfies") and route_matches(other, want):
                continue
            if other["dev"] not in desired.get("replace_foreign_on", []):
                plan.errors.append(
                    "route %s exists with protocol %d (via %s dev %s), which is not ours; "
                    "refusing to replace it" % (want["dst"], other["protocol"], other["via"], other["dev"]))
                continue
        plan.route_cmds.append("route replace %s via %s dev %s proto %d table %d%s"
                               % (want["dst"], want["via"], want["dev"], proto, table,
                                  " onlink" if want["onlink"] else ""))
        plan.changes.append("%s route %s via %s dev %s" % (
            "replace" if (cur or other) else "add", want["dst"], want["via"], want["dev"]))
    for key, cur in sorted(ours.items()):
        if key not in wanted:
            plan.route_cmds.append(route_delete(cur, proto, table))
            plan.changes.append("remove route %s via %s dev %s" % (cur["dst"], cur["via"], cur["dev"]))


def routes_match(wanted, routes, proto):
    """Fast no-op test: our routes are exactly the wanted ones."""
    ours = [r for r in routes if r["protocol"] == proto]
    if len(ours) != len(wanted):
        return False
    key = lambda r: (r["dst"], r["via"], r["dev"], r["onlink"])  # noqa: E731
    return all(r["metric"] == 0 for r in ours) and set(map(key, ours)) == set(map(key, wanted))


def route_delete(route, proto, table):
    return "route delete %s proto %d table %d metric %d" % (route["dst"], proto, table, route["metric"])


def plan_absent(plan, desired, dataplane, link):
    """Remove every route we own, then the device (the kernel drops its entries)."""
    proto, table = desired["route_protocol"], desired["route_table"]
    device = desired.get("device")
    for route in dataplane.routes:
        if route["protocol"] == proto:
            plan.route_cmds.append(route_delete(route, proto, table))
            plan.changes.append("remove route %s via %s dev %s" % (route["dst"], route["via"], route["dev"]))
    if device and link is not None:
        if link["kind"] != "vxlan":
            plan.errors.append("device %s is of kind %s, not vxlan: not ours, left alone"
                               % (device["name"], link["kind"]))
        else:
            plan.route_cmds.append("link delete dev %s" % device["name"])
            plan.changes.append("remove device %s with its neighbors and fdb entries" % device["name"])
