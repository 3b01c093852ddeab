# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state vs dataplane: the one decision function (felix-style), over the kinds table.

What may be changed or removed is decided by one Ownership policy (kinds.py): the managed
device with every permanent neighbor and FDB entry on it, and routes in the managed table whose
protocol is `route_protocol`. Nothing else is ever changed or removed.

Every change is a step in a phase (kinds.PHASES); an apply runs the phases in order, each run of
consecutive phases of one tool as one batch process: ip (device, addresses, ARP adds) -> bridge
(FDB adds, then stale FDB) -> ip (routes, stale routes, stale ARP, retired devices).
"""

from __future__ import absolute_import, division, print_function

import operator

from . import kernel
from .kinds import ADDRESS, FDB, LINK, NEIGHBOR, NEXTHOP, PHASES, RECREATE_ON, ROUTE, Ownership, retire_entries

__metaclass__ = type

FDB_PHASE = FDB.add_phase
LINK_UP_PHASE = 2


class Plan:
    def __init__(self):
        self.steps = []       # (phase, batch line), in the order they were planned
        self.changes = []     # one readable line per change
        self.errors = []      # conflicts that stop the run before any change
        self.recreate_reasons = []
        self.flushed = set()  # our devices this plan deletes before it adds (a renamed mesh device)

    def add(self, phase, line, change=None):
        self.steps.append((phase, line))
        if change:
            self.changes.append(change)

    def lines(self, phases):
        return [line for phase, line in sorted(self.steps, key=operator.itemgetter(0)) if phase in phases]

    def batches(self):
        """[(tool, [lines])] in apply order: consecutive phases of one tool form one batch."""
        result = []
        for phase, line in sorted(self.steps, key=operator.itemgetter(0)):
            tool = PHASES[phase][0]
            if result and result[-1][0] == tool:
                result[-1][1].append(line)
            else:
                result.append((tool, [line]))
        return result

    # The three batches of a plan, as tests and the result's `commands` read them.
    link_cmds = property(lambda self: self.lines(range(0, FDB_PHASE)))
    fdb_cmds = property(lambda self: self.lines([FDB_PHASE]))
    route_cmds = property(lambda self: self.lines(range(FDB_PHASE + 1, len(PHASES))))

    @property
    def changed(self):
        return bool(self.steps)

    def as_dict(self):
        return {
            "changed": self.changed,
            "changes": list(self.changes),
            "device_recreated": "; ".join(self.recreate_reasons) or None,
            "commands": {"ip": self.link_cmds + self.route_cmds, "bridge": list(self.fdb_cmds)},
        }


def make_plan(desired, dataplane):
    plan = Plan()
    owner = Ownership(desired)
    device = desired.get("device")
    name = owner.device
    link = dataplane.link(name) if name else None
    fresh = False  # the device is (re)created: nothing on it survives
    if desired["state"] == "absent":
        plan_absent(plan, desired, dataplane, link, owner)
        return plan
    if device:
        fresh = plan_device(plan, device, link, dataplane, owner)
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
    flushed = set(plan.flushed) | ({name} if fresh else set())  # devices gone, with all on them
    gateways = set(map(gateway, desired["routes"]))
    nexthops, created = plan_nexthops(gateways, dataplane, owner, flushed, device)
    used = plan_routes(plan, desired, dataplane, owner, flushed, nexthops, gateways)
    if nexthops is not None:
        for key in sorted(created & used):
            via, dev, onlink = key
            plan.add(NEXTHOP.add_phase, NEXTHOP.add({"id": nexthops[key], "via": via, "dev": dev, "onlink": onlink},
                                                    owner), "add nexthop %d via %s dev %s" % (nexthops[key], via, dev))
    if dataplane.nexthops is not None:  # with use_nexthops off, ours all go once the routes moved
        keep = {} if not nexthops else nexthops if used == gateways else dict(
            (k, nexthops[k]) for k in used if k in nexthops)
        plan_stale_nexthops(plan, dataplane, owner, flushed, keep)
    if name and not neighbors_ok:
        plan_stale_neighbors(plan, name, desired["neighbors"], neighbors, owner)
    plan_retired(plan, retire_entries(desired.get("retire_devices")), dataplane)
    return plan


def plan_retired(plan, entries, dataplane):
    """Delete devices another agent left behind (flannel.1 after host-gw, tunl0, kube-dummy-if),
    last of all: the routes that replace theirs are in place by then. Each must be of the kind
    named, or the run is refused."""
    for name, kind in entries:
        link = dataplane.link(name)
        if link is None:
            continue
        conflict = Ownership.retire_conflict(name, link, kind)
        if conflict:
            plan.errors.append(conflict)
            continue
        plan.add(LINK.delete_phase, LINK.delete(link),
                 "remove device %s with its neighbors, fdb entries and routes" % name)


def handover_pending(state, dataplane):
    """The desired routes that bridge until another agent's route takes over (their `handover`:
    dst, via and dev of that route) and whose successor is not in the table yet."""
    owner = Ownership(state)
    present = set((r["dst"], r["via"], r["dev"]) for r in dataplane.routes if not owner.owns("route", r))
    return [r for r in state["routes"]
            if r.get("handover") and (r["handover"]["dst"], r["handover"]["via"], r["handover"]["dev"]) not in present]


def without_handed_over(state, pending):
    """The state with the bridging routes whose successor carries the traffic left out: they are
    no longer wanted, so ours go as stale ones. `pending` ones stay."""
    keep = set(r["dst"] for r in pending)
    return dict(state, routes=[r for r in state["routes"] if not r.get("handover") or r["dst"] in keep])


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


def plan_device(plan, want, link, dataplane, owner):
    """Create, recreate or adjust the device. True when it is (re)created."""
    name, kind = want["name"], want.get("kind", "vxlan")
    conflict = Ownership.device_conflict(name, link, kind) or owner.takeover_conflict(link, want, dataplane)
    if conflict:
        plan.errors.append(conflict)
        return False
    if kind == "vxlan":
        plan_vxlan_world(plan, want, dataplane, owner)
        if plan.errors:
            return False
    fresh = link is None
    if link is not None:
        for key, label in RECREATE_ON.get(kind, ()):
            if link[key] != want[key]:
                plan.recreate_reasons.append("%s is %s, want %s" % (label, link[key], want[key]))
        if plan.recreate_reasons:
            plan.add(LINK.add_phase, LINK.delete(want),
                     "recreate device %s: %s" % (name, "; ".join(plan.recreate_reasons)))
            fresh = True
    if fresh:
        plan.add(LINK.add_phase, LINK.add(want), None if link is not None else "create " + LINK.describe(want))
        for address in want["addresses"]:
            plan.add(ADDRESS.add_phase, ADDRESS.add({"dev": name, "address": address}))
        plan.add(LINK_UP_PHASE, "link set dev %s up" % name)
        return True
    if link["mtu"] != want["mtu"]:
        plan.add(LINK.add_phase, "link set dev %s mtu %d" % (name, want["mtu"]),
                 "set %s mtu %s -> %d" % (name, link["mtu"], want["mtu"]))
    if link["mac"] != want["mac"]:
        plan.add(LINK.add_phase, "link set dev %s address %s" % (name, want["mac"]),
                 "set %s address %s -> %s" % (name, link["mac"], want["mac"]))
    for address in want["addresses"]:
        if address not in link["addresses"]:
            plan.add(ADDRESS.add_phase, ADDRESS.add({"dev": name, "address": address}),
                     "add address %s to %s" % (address, name))
    for other in link["addresses"]:
        if other not in want["addresses"]:
            plan.add(ADDRESS.delete_phase, ADDRESS.delete({"dev": name, "address": other}),
                     "remove address %s from %s" % (other, name))
    if not link["up"]:
        plan.add(LINK_UP_PHASE, "link set dev %s up" % name, "set %s up" % name)
    return False


def plan_vxlan_world(plan, want, dataplane, owner):
    """What the kernel would refuse half-way through, refused before any change: a missing
    underlay device, and a VNI and port another vxlan device holds. Our own device under an
    earlier name (the mesh device renamed) is deleted first, freeing its VNI."""
    if want["underlay"] not in dataplane.links:
        plan.errors.append("underlay device %s does not exist on this node (node_interface); nothing was "
                           "created" % want["underlay"])
    for other in sorted(dataplane.links.values(), key=operator.itemgetter("name")):
        if other["name"] == want["name"] or other["kind"] != "vxlan":
            continue
        if (other["vni"], other["port"]) != (want["vni"], want["port"]):
            continue
        if owner.earlier_device(other, dataplane):
            plan.add(LINK.add_phase, LINK.delete(other), "remove device %s, this device's earlier name "
                     "(renamed to %s)" % (other["name"], want["name"]))
            plan.flushed.add(other["name"])
        else:
            plan.errors.append("VNI %d with port %d is taken by device %s, which is not ours; the kernel "
                               "allows one vxlan device per VNI and port: change the VNI or port"
                               % (want["vni"], want["port"], other["name"]))


def plan_neighbors(plan, dev, wanted, actual):
    have = dict((n["ip"], n) for n in actual)
    for entry in wanted:
        cur = have.get(entry["ip"])
        if cur and cur["permanent"] and cur["mac"] == entry["mac"]:
            continue
        plan.add(NEIGHBOR.add_phase, NEIGHBOR.add(dict(entry, dev=dev)), "%s neighbor %s lladdr %s on %s"
                 % ("replace" if cur else "add", entry["ip"], entry["mac"], dev))


def plan_stale_neighbors(plan, dev, wanted, actual, owner):
    keep = set(n["ip"] for n in wanted)
    for cur in actual:
        if owner.owns("neighbor", cur) and cur["ip"] not in keep:
            plan.add(NEIGHBOR.delete_phase, NEIGHBOR.delete(cur),
                     "remove neighbor %s lladdr %s on %s" % (cur["ip"], cur["mac"], dev))


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
            plan.add(FDB.add_phase, FDB.add(dict(entry, dev=dev)), "%s fdb %s dst %s on %s"
                     % ("replace" if have else "add", entry["mac"], entry["dst"], dev))
            if entry["dst"] not in dsts and have:
                have = have[1:]  # the first remote is the one replace rewrote
        stale += [c for c in have if c["dst"] != entry["dst"]]
    for extra in remotes.values():
        stale += [c for c in extra if c["permanent"]]
    for cur in stale:
        plan.add(FDB.delete_phase, FDB.delete(dict(cur, dev=dev)),
                 "remove fdb %s dst %s on %s" % (cur["mac"], cur["dst"], dev))


gateway = operator.itemgetter("via", "dev", "onlink")  # a route's or a nexthop's (via, dev, onlink)


def has_carrier(dev, dataplane, device):
    """The kernel refuses a nexthop on a device without carrier (a bridge with no port); a vxlan
    device's carrier follows its admin state, which this plan sets up."""
    link = dataplane.link(dev)
    if device and dev == device["name"]:  # a fresh bridge has no port, so no carrier
        return device.get("kind", "vxlan") == "vxlan" or bool(link and link.get("carrier", True))
    return link is None or bool(link.get("carrier", True))


def plan_nexthops(gateways, dataplane, owner, flushed, device=None):
    """({(via, dev, onlink): nexthop id} for the desired routes, the gateways whose nexthop is new),
    or (None, set()) for plain routes (the kernel has no nexthop objects, or use_nexthops is off).
    A gateway on a device without carrier has no nexthop: its routes are plain until it has one.
    Our nexthops with the same gateway are reused; new ones take the lowest free ids of our range,
    in gateway order, so applying the same state on an empty node always gives the same ids. Only
    those our routes use are added (a route another agent satisfies needs none)."""
    if dataplane.nexthops is None or not owner.use_nexthops:
        return None, set()
    ours, used = {}, set()
    for nexthop in dataplane.nexthops:
        if nexthop["dev"] in flushed:
            continue  # gone with the device
        used.add(nexthop["id"])
        if owner.owns("nexthop", nexthop):
            ours.setdefault(gateway(nexthop), nexthop["id"])
    ids, created = {}, set()
    free = owner.nexthop_ids(used)
    for key in sorted(gateways):
        if not has_carrier(key[1], dataplane, device):
            continue
        if key in ours:
            ids[key] = ours[key]
        else:
            ids[key] = next(free)
            created.add(key)
    return ids, created


def plan_stale_nexthops(plan, dataplane, owner, flushed, ids):
    """Our nexthops no route wants any more, after the routes moved off them (deleting a nexthop
    deletes the routes that use it)."""
    keep = set(ids.values())
    for nexthop in dataplane.nexthops:
        if owner.owns("nexthop", nexthop) and nexthop["id"] not in keep and nexthop["dev"] not in flushed:
            plan.add(NEXTHOP.delete_phase, NEXTHOP.delete(nexthop),
                     "remove nexthop %d via %s dev %s" % (nexthop["id"], nexthop["via"], nexthop["dev"]))


def route_matches(route, want):
    return (route["via"] == want["via"] and route["dev"] == want["dev"]
            and route["onlink"] == want["onlink"])


def plan_routes(plan, desired, dataplane, owner, flushed, nexthops=None, gateways=None):
    """Routes we own carry our protocol; a foreign route to the same destination and metric is
    a conflict, or, as the ownership policy allows, satisfies the wanted route or is replaced.
    With `nexthops`, each route points at the nexthop of its gateway. Returns the gateways our
    routes use once the plan is applied."""
    gateways = gateways if gateways is not None else set(map(gateway, desired["routes"]))
    if not flushed and by_wanted_nexthops(dataplane, nexthops, gateways) and (
            as_dumped(dataplane, "routes", desired["routes"], ("dst", "via", "dev", "onlink"))
            or routes_match(desired["routes"], dataplane.routes, owner)):
        return gateways
    ours, foreign = {}, {}
    for route in dataplane.routes:
        if route["dev"] in flushed:
            continue  # gone with the device
        target = ours if owner.owns("route", route) else foreign
        target.setdefault((route["dst"], route["metric"]), route)
    wanted, used = set(), set()
    for want in desired["routes"]:
        key = (want["dst"], kernel.read_metric(owner.metric, want["dst"]))
        wanted.add(key)
        cur = ours.get(key)
        nhid = None if nexthops is None else nexthops.get(gateway(want))
        if cur is not None and route_matches(cur, want) and cur.get("nhid") == nhid:
            used.add(gateway(want))
            continue
        other = foreign.get(key)
        if cur is None and other is not None:
            verdict = owner.foreign_route(other, want, route_matches)
            if verdict == "satisfied":
                continue
            if verdict != "replace":
                plan.errors.append(verdict)
                continue
        used.add(gateway(want))
        plan.add(ROUTE.add_phase, ROUTE.add(dict(want, nhid=nhid), owner), "%s route %s via %s dev %s" % (
            "replace" if (cur or other) else "add", want["dst"], want["via"], want["dev"]))
    for key, cur in sorted(ours.items()):
        if key not in wanted:
            plan.add(ROUTE.delete_phase, ROUTE.delete(cur, owner),
                     "remove route %s via %s dev %s" % (cur["dst"], cur["via"], cur["dev"]))
    return used


def by_wanted_nexthops(dataplane, nexthops, gateways):
    """Our routes point at our nexthops (with nexthops), or at none (without, or for a gateway
    that has no nexthop)."""
    nhids = set(dataplane.route_nhids())
    if nexthops is None:
        return nhids <= {None}
    if len(nexthops) < len(gateways):
        return False  # some routes plain, some not: only the entry-by-entry comparison can tell
    return nhids <= set(nexthops.values())


def routes_match(wanted, routes, owner):
    """Fast no-op test: our routes are exactly the wanted ones."""
    ours = [r for r in routes if owner.owns("route", r)]
    if len(ours) != len(wanted):
        return False

    def key(r):
        return (r["dst"], r["via"], r["dev"], r["onlink"])

    return (all(r["metric"] == kernel.read_metric(owner.metric, r["dst"]) for r in ours)
            and set(map(key, ours)) == set(map(key, wanted)))


def plan_absent(plan, desired, dataplane, link, owner):
    """Remove every route we own, then the device (the kernel drops its entries)."""
    for route in dataplane.routes:
        if owner.owns("route", route):
            plan.add(ROUTE.delete_phase, ROUTE.delete(route, owner),
                     "remove route %s via %s dev %s" % (route["dst"], route["via"], route["dev"]))
    for nexthop in dataplane.nexthops or []:
        if owner.owns("nexthop", nexthop):
            plan.add(NEXTHOP.delete_phase, NEXTHOP.delete(nexthop),
                     "remove nexthop %d via %s dev %s" % (nexthop["id"], nexthop["via"], nexthop["dev"]))
    device = desired.get("device")
    if device and link is not None:
        conflict = (Ownership.device_conflict(device["name"], link, device.get("kind", "vxlan"))
                    or owner.takeover_conflict(link, LINK.canonical(device), dataplane))
        if conflict:
            plan.errors.append(conflict)
        else:
            plan.add(LINK.delete_phase, LINK.delete(device),
                     "remove device %s with its neighbors and fdb entries" % device["name"])
