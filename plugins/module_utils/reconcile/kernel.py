# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the node's dataplane from `ip -json` / `bridge -json` and normalise it.

What each kind reads, and with which parser, is in kinds.py; read.py runs the dumps. Parsing
is separate from running so tests can feed captured output.
"""

from __future__ import absolute_import, division, print_function

import itertools
import json
import operator
import re
import socket
import struct

__metaclass__ = type

MAIN_TABLE = 254


class Dataplane:
    """What the kernel holds, limited to what a plan needs.

    Neighbors, FDB entries and routes may be given raw, as {kind: (dump, parser, keyer)}: they
    are parsed on first use, and a no-op can be proven from `keys()` (the keyer on the dump)
    without parsing at all."""

    KINDS = ("neighbors", "fdb", "routes")

    def __init__(self, links, neighbors, fdb, routes, raw=None, nexthops=None):
        self.links = links  # {name: link dict}
        # [{"id", "via", "dev", "onlink", "protocol"}], or None where the kernel has no nexthop objects
        self.nexthops = nexthops
        # neighbors: [{"ip", "mac", "dev", "permanent"}]; fdb: [{"mac", "dst", "dev", "permanent"}]
        # in kernel order; routes: [{"dst", "via", "dev", "onlink", "protocol", "metric", "table"}]
        self._parsed = {"neighbors": neighbors, "fdb": fdb, "routes": routes}
        self._raw = raw or {}

    def _get(self, kind):
        if self._parsed[kind] is None:
            dump, parser = self._raw.pop(kind)[:2]
            self._parsed[kind] = parser(dump)
        return self._parsed[kind]

    def _set(self, kind, value):
        self._raw.pop(kind, None)
        self._parsed[kind] = value

    neighbors = property(lambda self: self._get("neighbors"), lambda self, v: self._set("neighbors", v))
    fdb = property(lambda self: self._get("fdb"), lambda self, v: self._set("fdb", v))
    routes = property(lambda self: self._get("routes"), lambda self, v: self._set("routes", v))

    def link(self, name):
        return self.links.get(name)

    def keys(self, kind):
        """(set of identity tuples, entry count) straight from a filtered dump, or None when only
        the entry-by-entry comparison can tell."""
        if kind not in self._raw:
            return None
        dump, _parse, keyer = self._raw[kind]
        dump = dump or []
        try:
            keys = keyer(dump)
        except KeyError:
            return None
        return None if keys is None else (keys, len(dump))

    def route_nhids(self):
        """The nexthop ids our routes point at (None for a route with its own gateway)."""
        if "routes" in self._raw:
            return [e.get("nhid") for e in self._raw["routes"][0] or []]
        return [r["nhid"] for r in self.routes]

    def own_route_destinations(self):
        """Destinations (metric 0) that already have a route of ours."""
        if "routes" in self._raw:
            return set(kernel_dst(e["dst"]) for e in self._raw["routes"][0] or [] if not e.get("metric"))
        return set(r["dst"] for r in self.routes if r["metric"] == 0)


# Keyers: identity tuples straight from a filtered dump, None when the dump needs a full parse.
def neighbor_dump_keys(dump):
    """(ip, mac) of the managed device's permanent neighbors."""
    get = operator.itemgetter
    return set(zip(map(get("dst"), dump), map(get("lladdr"), dump)))


def fdb_dump_keys(dump):
    """(mac, dst), when every entry of the device is permanent and has a remote."""
    get = operator.itemgetter
    if set(map(get("state"), dump)) - {"permanent"} or not all(map(operator.methodcaller("get", "dst"), dump)):
        return None
    return set(zip(map(get("mac"), dump), map(get("dst"), dump)))


def route_dump_keys(dump):
    """(dst, via, dev, onlink) of our routes, when none has a metric."""
    get = operator.itemgetter
    if any("metric" in entry for entry in dump):
        return None
    return set(zip(map(kernel_dst, map(get("dst"), dump)), map(get("gateway"), dump), map(get("dev"), dump),
                   map(operator.contains, map(get("flags"), dump), itertools.repeat("onlink"))))


def json_stream(text):
    """Every JSON document in the concatenated output of an `ip -json -batch`."""
    decoder = json.JSONDecoder()
    docs, pos, text = [], 0, text or ""
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return docs
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)


MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IP = r"%s(?:\.%s){3}" % (_OCTET, _OCTET)
# Whole columns of already-canonical values are checked with one regex call each, which is
# ~100x cheaper per entry than parsing; any miss falls back to the per-entry parsers below.
CANONICAL = {
    "ip": re.compile(r"(?:%s\n)*" % _IP),
    "net": re.compile(r"(?:%s/(?:3[0-2]|[12]?[0-9])\n)*" % _IP),
    "mac": re.compile(r"(?:[0-9a-f]{2}(?::[0-9a-f]{2}){5}\n)*"),
}


def canonical_column(kind, values, parse):
    """`values` in canonical form; untouched when one regex pass proves them canonical."""
    values = [str(v) for v in values]
    if kind == "mac":
        values = [v.lower() for v in values]
    if not CANONICAL[kind].fullmatch("".join(v + "\n" for v in values)):
        return [parse(v) for v in values]
    if kind == "net":  # the prefix syntax is right; clear any host bits
        return [v if _host_bits_clear(v) else parse(v) for v in values]
    return values


def _host_bits_clear(net):
    addr, _sep, length = net.partition("/")
    value = struct.unpack("!I", socket.inet_aton(addr))[0]
    return value & ~((0xFFFFFFFF << (32 - int(length))) & 0xFFFFFFFF) & 0xFFFFFFFF == 0


def canonical_ip(text):
    """An IPv4 or IPv6 address as the kernel prints it, strictly parsed; ValueError otherwise.
    (ipaddress is ~10x slower, which matters at 30,000 entries.)"""
    text = str(text).strip()
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    try:
        return socket.inet_ntop(family, socket.inet_pton(family, text))
    except (OSError, TypeError, ValueError):
        raise ValueError("%r is not an IPv4 or IPv6 address" % (text,))


def canonical_net(dst):
    """`address/len` with host bits cleared; a bare address is a host route (/32, /128), as the
    kernel prints it. `default` is IPv4's (IPv6's is ::/0)."""
    if dst == "default":
        return "0.0.0.0/0"
    addr, _sep, length = str(dst).partition("/")
    family, bits = (socket.AF_INET6, 128) if ":" in addr else (socket.AF_INET, 32)
    length = int(length) if length else bits
    if not 0 <= length <= bits:
        raise ValueError("%r is not a prefix" % (dst,))
    value = int.from_bytes(socket.inet_pton(family, canonical_ip(addr)), "big")
    value &= ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)
    return "%s/%d" % (socket.inet_ntop(family, value.to_bytes(bits // 8, "big")), length)


def kernel_dst(dst):
    """The kernel prints canonical prefixes already; only a host route lacks its length."""
    if dst == "default":
        return "0.0.0.0/0"
    return dst if "/" in dst else dst + ("/128" if ":" in dst else "/32")


# IPv6 routes the kernel holds at metric 1024 when none is given (IPv4's default is 0).
IPV6_DEFAULT_METRIC = 1024


def ipv6_routes(dump):
    """An `ip -6 route` dump in the IPv4 dump's terms, so one parser and one keyer serve both:
    `default` is ::/0, and the default metric (1024) is left out, as IPv4's 0 is. Only IPv6
    entries are kept (a kernel without IPv6 may answer with another family's)."""
    found = []
    for entry in dump or []:
        if entry.get("dst") == "default":
            entry["dst"] = "::/0"
        if ":" not in entry.get("dst", ""):
            continue
        if entry.get("metric") == IPV6_DEFAULT_METRIC:
            del entry["metric"]
        found.append(entry)
    return found


def kernel_metric(route):
    """The metric to name when deleting a route: IPv6's default is 1024."""
    return route["metric"] or (IPV6_DEFAULT_METRIC if ":" in route["dst"] else 0)


def read_metric(metric, dst):
    """A metric as the dumps read it: IPv6's default (1024) reads as IPv4's (0)."""
    return 0 if metric == IPV6_DEFAULT_METRIC and ":" in dst else metric


def canonical_mac(text):
    mac = str(text).strip().lower()
    if not MAC.match(mac):
        raise ValueError("%r is not a MAC address" % (text,))
    return mac


def parse_links(addr_json):
    links = {}
    for entry in addr_json or []:
        info = entry.get("linkinfo") or {}
        data = info.get("info_data") or {}
        links[entry["ifname"]] = {
            "name": entry["ifname"],
            "kind": info.get("info_kind"),
            "up": "UP" in entry.get("flags", []),
            "carrier": "LOWER_UP" in entry.get("flags", []),
            "mtu": entry.get("mtu"),
            "mac": (entry.get("address") or "").lower(),
            "vni": data.get("id"),
            "port": data.get("port"),
            "local": data.get("local") or data.get("local6"),
            "underlay": data.get("link"),
            "learning": data.get("learning"),
            "addresses": sorted("%s/%s" % (a["local"], a["prefixlen"])
                                for a in entry.get("addr_info", []) if ours_to_compare(a)),
        }
    return links


# Scope global, as `ip` prints it with and without -N.
GLOBAL_SCOPE = ("global", "0", 0)


def ours_to_compare(address):
    """An address a managed device's may be compared with: IPv4, or global IPv6 (the kernel's own
    link-local and host addresses are never ours)."""
    return address.get("family") == "inet" or (address.get("family") == "inet6"
                                               and address.get("scope", "global") in GLOBAL_SCOPE)


def parse_neighbors(neigh_json, dev=None):
    """`ip neigh show dev X` omits the device name, so the caller passes it."""
    result = []
    for entry in neigh_json or []:
        result.append({
            "ip": entry.get("dst", ""),
            "mac": (entry.get("lladdr") or "").lower(),
            "dev": entry.get("dev", dev),
            "permanent": "PERMANENT" in entry.get("state", []),
        })
    return result


def parse_fdb(fdb_json, dev=None):
    """`bridge fdb show dev X` omits the device name, so the caller passes it. Entries without a
    remote (a bridge's own local and multicast entries) are the kernel's, never ours."""
    result = []
    for entry in fdb_json or []:
        if not entry.get("dst"):
            continue
        result.append({
            "mac": entry.get("mac", "").lower(),
            "dst": entry.get("dst"),
            "dev": entry.get("ifname") or dev,
            "permanent": entry.get("state") == "permanent",
        })
    return result


def parse_routes(route_json, table=MAIN_TABLE, protocol=0):
    """`protocol` fills in entries of a dump filtered by protocol (they omit it)."""
    result = []
    for entry in route_json or []:
        if str(entry.get("type", "unicast")) not in ("unicast", "1"):
            continue  # local, broadcast, blackhole...: never ours (-N prints types as numbers)
        result.append({
            "dst": kernel_dst(entry["dst"]),
            "via": entry.get("gateway"),
            "dev": entry.get("dev"),
            "onlink": "onlink" in entry.get("flags", []),
            "protocol": int(entry.get("protocol", protocol)),
            "metric": int(entry.get("metric", 0)),
            "table": table,
            "nhid": entry.get("nhid"),
        })
    return result


def parse_nexthops(nexthop_json):
    """`ip -N -j nexthop show`: single-gateway nexthops (groups and blackholes are never ours)."""
    return [{"id": int(e["id"]), "via": e.get("gateway"), "dev": e.get("dev"),
             "onlink": "onlink" in e.get("flags", []), "protocol": int(e.get("protocol", 0))}
            for e in nexthop_json or [] if "id" in e]


def parse(addr_json, neigh_json, route_json, fdb_by_dev, table=MAIN_TABLE, nexthop_json=None):
    """A Dataplane from the JSON dumps; fdb_by_dev is {device: fdb dump}; no nexthop dump means a
    kernel without nexthop objects."""
    fdb = []
    for dev, dump in sorted(fdb_by_dev.items()):
        fdb += parse_fdb(dump, dev)
    return Dataplane(parse_links(addr_json), parse_neighbors(neigh_json), fdb, parse_routes(route_json, table),
                     nexthops=None if nexthop_json is None else parse_nexthops(nexthop_json))
