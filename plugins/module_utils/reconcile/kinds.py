# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kinds of kernel object the engine reconciles, in one table, and the one ownership policy.

Each kind has its identity key, the canonical form of a desired entry, how an entry is added,
removed and described, the tool whose batch applies it and the phase it is applied in. Phases
order one apply: a route is only added once the neighbor and FDB entries it needs exist, and
what goes away goes after what replaces it.
"""

from __future__ import absolute_import, division, print_function

from collections import namedtuple

from . import kernel
from .ownership import Policy

__metaclass__ = type

# phase: (tool, what). Consecutive phases of one tool run as one batch process.
PHASES = (
    ("ip", "link add or adjust"),         # 0
    ("ip", "address"),                    # 1
    ("ip", "link up"),                    # 2
    ("ip", "neighbor add"),               # 3
    ("bridge", "fdb add, then stale fdb"),  # 4
    ("ip", "nexthop add"),                # 5
    ("ip", "route add"),                  # 6
    ("ip", "stale route"),                # 7
    ("ip", "stale nexthop"),              # 8
    ("ip", "stale neighbor"),             # 9
    ("ip", "retired or removed link"),    # 10
)

# key: an entry's identity; canonical: desired entries -> canonical entries (exact comparison with
# the kernel's output); read: Scope -> argv of the dump (None: nothing to read, or read with
# another kind); parse: (dump, Scope) -> entries; keyer: identity tuples straight from the dump;
# add/delete: batch lines; describe: one readable line.
Kind = namedtuple("Kind", "name key canonical read parse keyer add_phase delete_phase add delete describe")

# What one call reads: the managed device, the route table and the route protocol.
Scope = namedtuple("Scope", "device table protocol")

# Link attributes that cannot change in place: a difference recreates the device.
RECREATE_ON = {
    "vxlan": (("vni", "VNI"), ("port", "port"), ("local", "local IP"), ("underlay", "underlay device"),
              ("learning", "learning")),
}
LINK_KINDS = ("vxlan", "bridge", "dummy", "ipip", "veth", "macvlan")
# Kinds the engine creates; the others it only retires.
CREATED_LINK_KINDS = ("vxlan", "bridge", "dummy")
VXLAN_FIELDS = ("vni", "port", "local", "underlay")


def canonical_address(text):
    """`address/len` as `ip address` prints it (a bare address is a host address)."""
    address, _sep, length = str(text).partition("/")
    address = kernel.canonical_ip(address)
    return "%s/%d" % (address, int(length or (128 if ":" in address else 32)))


def canonical_device(device):
    """The managed device: vxlan needs its VNI, port, local IP (IPv4 or IPv6) and underlay;
    bridge and dummy only a name, MTU, MAC and addresses. `address` is one address or a list of
    them (one per family); `addresses` holds them all, `address` the first."""
    device = dict(device)
    kind = device.setdefault("kind", "vxlan") or "vxlan"
    if kind not in CREATED_LINK_KINDS:
        raise ValueError("device %s: kind %r is not one of %s"
                         % (device.get("name"), kind, ", ".join(CREATED_LINK_KINDS)))
    device["kind"] = kind
    device["mac"] = kernel.canonical_mac(device["mac"])
    given = device.get("addresses") or device["address"]
    device["addresses"] = [canonical_address(a) for a in ([given] if isinstance(given, str) else given)]
    if not device["addresses"]:
        raise ValueError("device %s: an address is required" % device.get("name"))
    device["address"] = device["addresses"][0]
    device["mtu"] = int(device["mtu"])
    if kind == "vxlan":
        missing = [key for key in VXLAN_FIELDS if device.get(key) in (None, "")]
        if missing:
            raise ValueError("device %s: a vxlan device needs %s" % (device["name"], ", ".join(missing)))
        device["local"] = kernel.canonical_ip(device["local"])
        device["vni"], device["port"] = int(device["vni"]), int(device["port"])
        device["learning"] = bool(device.get("learning", False))
    return device


def link_add(want, owner=None):
    if want.get("kind", "vxlan") != "vxlan":
        return "link add %s mtu %d address %s type %s" % (want["name"], want["mtu"], want["mac"], want["kind"])
    return ("link add %s mtu %d address %s type vxlan id %d dstport %d local %s dev %s %s"
            % (want["name"], want["mtu"], want["mac"], want["vni"], want["port"], want["local"],
               want["underlay"], "learning" if want["learning"] else "nolearning"))


def describe_link(link):
    """The same line for a desired device and a kernel link (`up`)."""
    addresses = sorted(link["addresses"])  # the kernel's order, so a desired device reads the same
    state = "" if link.get("up", True) else " (down)"
    if link.get("kind", "vxlan") == "vxlan":
        return ("device %s vxlan id %s dstport %s local %s dev %s mtu %s address %s inet %s%s"
                % (link["name"], link["vni"], link["port"], link["local"], link["underlay"], link["mtu"],
                   link["mac"], ",".join(addresses) or "-", state))
    return ("device %s %s mtu %s address %s inet %s%s"
            % (link["name"], link.get("kind") or "unknown", link.get("mtu"), link.get("mac"),
               ",".join(addresses) or "-", state))


def route_add(route, owner):
    """By nexthop object when the route has an `nhid`, else with its own gateway."""
    if route.get("nhid") is not None:
        return "route replace %s nhid %d proto %d table %d%s" % (route["dst"], route["nhid"], owner.protocol, owner.table,
                                                                 " metric %d" % owner.metric if owner.metric else "")
    return ("route replace %s via %s dev %s proto %d table %d%s%s"
            % (route["dst"], route["via"], route["dev"], owner.protocol, owner.table,
               " onlink" if route["onlink"] else "", " metric %d" % owner.metric if owner.metric else ""))


def nexthop_add(nexthop, owner):
    return ("nexthop replace id %d via %s dev %s%s proto %d"
            % (nexthop["id"], nexthop["via"], nexthop["dev"], " onlink" if nexthop["onlink"] else "", owner.protocol))


def columns(entries, spec):
    """Canonical entries from desired ones: spec is ((field, column kind, parser), ...); each
    column is checked in one pass (kernel.canonical_column)."""
    values = [kernel.canonical_column(kind, [e[field] for e in entries], parse) for field, kind, parse in spec]
    fields = [field for field, _kind, _default in spec]
    return [dict(zip(fields, row)) for row in zip(*values)] if entries else []


def canonical_routes(routes):
    rows = columns(routes, (("dst", "net", kernel.canonical_net), ("via", "ip", kernel.canonical_ip)))
    for row, route in zip(rows, routes):
        row["dev"], row["onlink"] = route["dev"], bool(route.get("onlink", False))
        if route.get("handover"):
            handover = route["handover"]
            row["handover"] = {"dst": kernel.canonical_net(handover["dst"]), "via": kernel.canonical_ip(handover["via"]),
                               "dev": handover["dev"]}
    return rows


def on_device(argv):
    """A dump of the managed device only (none without one)."""
    return lambda scope: argv + [scope.device] + ([] if argv[0] == "bridge" else ["nud", "permanent"]) \
        if scope.device else None


LINK = Kind("link", lambda l: l["name"], canonical_device,
            lambda scope: ["ip", "-d", "-j", "address", "show"], lambda dump, scope: kernel.parse_links(dump), None,
            0, 10, link_add, lambda l, owner=None: "link delete dev %s" % l["name"], describe_link)
# An IPv6 address of ours is unique by the model: duplicate address detection would only hold it
# back (tentative) for a second.
ADDRESS = Kind("address", lambda a: (a["dev"], a["address"]), None, None, None, None, 1, 1,  # read with links
               lambda a, owner=None: "address replace %s dev %s%s" % (
                   a["address"], a["dev"], " nodad" if ":" in a["address"] else ""),
               lambda a, owner=None: "address delete %s dev %s" % (a["address"], a["dev"]),
               lambda a: "address %s on %s" % (a["address"], a["dev"]))
NEIGHBOR = Kind("neighbor", lambda n: n["ip"],
                lambda entries: columns(entries, (("ip", "ip", kernel.canonical_ip),
                                                  ("mac", "mac", kernel.canonical_mac))),
                on_device(["ip", "-j", "neighbor", "show", "dev"]),
                lambda dump, scope: kernel.parse_neighbors(dump, scope.device), kernel.neighbor_dump_keys, 3, 9,
                lambda n, owner=None: "neighbor replace %s lladdr %s dev %s nud permanent" % (n["ip"], n["mac"], n["dev"]),
                lambda n, owner=None: "neighbor delete %s dev %s" % (n["ip"], n["dev"]),
                lambda n: "neighbor %s lladdr %s" % (n["ip"], n["mac"]))
FDB = Kind("fdb", lambda f: f["mac"],
           lambda entries: columns(entries, (("mac", "mac", kernel.canonical_mac), ("dst", "ip", kernel.canonical_ip))),
           on_device(["bridge", "-j", "fdb", "show", "dev"]),
           lambda dump, scope: kernel.parse_fdb(dump, scope.device), kernel.fdb_dump_keys, 4, 4,
           lambda f, owner=None: "fdb replace %s dev %s dst %s self permanent" % (f["mac"], f["dev"], f["dst"]),
           lambda f, owner=None: "fdb delete %s dev %s dst %s self" % (f["mac"], f["dev"], f["dst"]),
           lambda f: "fdb %s dst %s" % (f["mac"], f["dst"]))
# `ip -N` prints protocol numbers, not names, so ownership compares numbers.
ROUTE = Kind("route", lambda r: r["dst"], canonical_routes,
             lambda scope: ["ip", "-N", "-j", "route", "show", "table", str(scope.table), "proto", str(scope.protocol)],
             lambda dump, scope: kernel.parse_routes(dump, scope.table, scope.protocol), kernel.route_dump_keys, 6, 7,
             route_add,
             lambda r, owner: "route delete %s proto %d table %d metric %d"
             % (r["dst"], owner.protocol, owner.table, kernel.kernel_metric(r)),
             lambda r: "route %s via %s dev %s" % (r["dst"], r["via"], r["dev"]))
# Every nexthop object: their ids are one space. The dump fails where the kernel has none.
NEXTHOP = Kind("nexthop", lambda n: (n["via"], n["dev"], n["onlink"]), None,
               lambda scope: ["ip", "-N", "-j", "nexthop", "show"], lambda dump, scope: kernel.parse_nexthops(dump),
               None, 5, 8, nexthop_add,
               lambda n, owner=None: "nexthop delete id %d" % n["id"],
               lambda n: "nexthop %s via %s dev %s%s" % (n["id"], n["via"], n["dev"], " onlink" if n["onlink"] else ""))

# Entries of the desired state, by kind, with the field that must be unique.
ENTRY_KINDS = (("neighbors", NEIGHBOR), ("fdb", FDB), ("routes", ROUTE))
# What one call reads, and the Dataplane field each fills.
READ_KINDS = (("links", LINK), ("neighbors", NEIGHBOR), ("fdb", FDB), ("routes", ROUTE), ("nexthops", NEXTHOP))


class Ownership(Policy):
    """What this call owns, and so may change or remove (felix's route ownership policy, and its
    interface policy; ownership.py): the managed device with every permanent neighbor and FDB
    entry on it, and routes and nexthops with the managed protocol. Foreign routes to a wanted destination
    are a conflict, unless they sit on a device the call may take over, or (when allowed) are
    identical to the wanted route. Devices to retire must be of the kind named."""

    def __init__(self, state):
        device = state.get("device")
        self.device = device["name"] if device else None
        self.protocol = state["route_protocol"]
        self.table = state["route_table"]
        self.metric = int(state.get("route_metric") or 0)
        self.replace_foreign_on = set(state.get("replace_foreign_on") or [])
        self.identical_satisfies = bool(state.get("foreign_identical_satisfies"))
        self.use_nexthops = bool(state.get("use_nexthops", True))
        self.saved_device = state.get("saved_device")  # the device the saved state names

    def earlier_device(self, link, dataplane):
        """A vxlan device of ours under an earlier name: the saved state names it, or it carries
        routes of our protocol."""
        if link["name"] == self.saved_device:
            return True
        return any(r["dev"] == link["name"] and self.owns("route", r) for r in dataplane.routes)

    def takeover_conflict(self, link, want, dataplane):
        """Why an existing device of the managed name and kind is not ours, or None. It is ours
        when the saved state names it, it has our MAC or address, or our routes use it;
        otherwise it is another agent's (flanneld's flannel.1, Calico's vxlan.calico)."""
        if link is None or link["name"] == self.saved_device:
            return None
        if link["mac"] == want["mac"] or set(want["addresses"]) & set(link["addresses"]):
            return None
        if any(r["dev"] == link["name"] and self.owns("route", r) for r in dataplane.routes):
            return None
        return ("device %s exists, and neither its MAC (%s), its addresses, our routes nor the saved state say "
                "it is ours; refusing to take it over: name another device, or delete this one if it is a "
                "leftover of ours" % (link["name"], link["mac"] or "none"))

    KINDS = ("neighbor", "fdb", "route", "nexthop")

    def owns_neighbor(self, entry):
        """A neighbor or FDB entry: ours when it is permanent on the managed device."""
        return entry["dev"] == self.device and entry["permanent"]

    owns_fdb = owns_neighbor

    def owns_route(self, route):
        return route["protocol"] == self.protocol

    def owns_nexthop(self, nexthop):
        """Nexthop objects are owned by protocol, as routes are."""
        return nexthop["protocol"] == self.protocol

    def nexthop_ids(self, used):
        """Free ids in this protocol's own range (protocol << 24), lowest first, so that
        another agent's nexthop ids and another role's never meet ours."""
        first = (self.protocol << 24) + 1
        for nhid in range(first, first + 0xFFFFFF - 1):
            if nhid not in used:
                yield nhid

    def foreign_route(self, route, want, matches):
        """'satisfied', 'replace' or a conflict message for a foreign route to a wanted destination."""
        if self.identical_satisfies and matches(route, want):
            return "satisfied"
        if route["dev"] in self.replace_foreign_on:
            return "replace"
        return ("route %s exists with protocol %d (via %s dev %s), which is not ours; refusing to replace it"
                % (want["dst"], route["protocol"], route["via"], route["dev"]))

    @staticmethod
    def device_conflict(name, link, kind):
        """Why an existing link named like ours is not ours (another kind), or None."""
        if link is not None and link["kind"] != kind:
            return ("device %s exists and is of kind %s, not %s: it is not ours; refusing to touch it"
                    % (name, link["kind"] or "unknown", kind))
        return None

    @staticmethod
    def retire_conflict(name, link, kind):
        if link["kind"] != kind:
            return "device %s is of kind %s, not %s; refusing to delete it" % (name, link["kind"] or "unknown", kind)
        return None


def retire_entries(values):
    """retire_devices as [(name, kind)]: a name alone is a vxlan device (flannel.N)."""
    result = []
    for value in values or []:
        if isinstance(value, dict):
            kind = value.get("kind") or "vxlan"
            if kind not in LINK_KINDS:
                raise ValueError("retire_devices: kind %r is not one of %s" % (kind, ", ".join(LINK_KINDS)))
            result.append((str(value["name"]), kind))
        else:
            result.append((str(value), "vxlan"))
    return result
