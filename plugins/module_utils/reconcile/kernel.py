# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the node's dataplane from `ip -json` / `bridge -json` and normalise it.

Reading costs two processes whatever the table sizes: one `ip -batch` for
links, addresses, neighbors and routes, and one `bridge fdb show`. Parsing is
separate from running so tests can feed captured output.
"""

from __future__ import absolute_import, division, print_function

import json
import re
import socket
import struct

__metaclass__ = type

MAIN_TABLE = 254


class Dataplane:
    """What the kernel holds, limited to what a plan needs."""

    def __init__(self, links, neighbors, fdb, routes):
        self.links = links          # {name: link dict}
        self.neighbors = neighbors  # [{"ip", "mac", "dev", "permanent"}]
        self.fdb = fdb              # [{"mac", "dst", "dev", "permanent"}] in kernel order
        self.routes = routes        # [{"dst", "via", "dev", "onlink", "protocol", "metric", "table"}]

    def link(self, name):
        return self.links.get(name)


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


def canonical_ip(text):
    """Dotted-quad IPv4, strictly parsed; ValueError otherwise. (ipaddress is ~10x slower,
    which matters at 30,000 entries.)"""
    try:
        return socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, str(text).strip()))
    except (OSError, TypeError):
        raise ValueError("%r is not an IPv4 address" % (text,))


def canonical_net(dst):
    """`a.b.c.d/len` with host bits cleared; a bare address is a /32, as the kernel prints it."""
    if dst == "default":
        return "0.0.0.0/0"
    addr, _, length = str(dst).partition("/")
    length = int(length) if length else 32
    if not 0 <= length <= 32:
        raise ValueError("%r is not an IPv4 prefix" % (dst,))
    value = struct.unpack("!I", socket.inet_aton(canonical_ip(addr)))[0]
    value &= (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
    return "%s/%d" % (socket.inet_ntoa(struct.pack("!I", value)), length)


def kernel_dst(dst):
    """The kernel prints canonical prefixes already; only a host route lacks its /32."""
    if dst == "default":
        return "0.0.0.0/0"
    return dst if "/" in dst else dst + "/32"


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
            "mtu": entry.get("mtu"),
            "mac": (entry.get("address") or "").lower(),
            "vni": data.get("id"),
            "port": data.get("port"),
            "local": data.get("local"),
            "underlay": data.get("link"),
            "learning": data.get("learning"),
            "addresses": sorted(
                "%s/%s" % (a["local"], a["prefixlen"])
                for a in entry.get("addr_info", []) if a.get("family") == "inet"),
        }
    return links


def parse_neighbors(neigh_json):
    result = []
    for entry in neigh_json or []:
        dst = entry.get("dst", "")
        if ":" in dst or "dev" not in entry:
            continue  # IPv6 is not ours to manage
        result.append({
            "ip": dst,
            "mac": (entry.get("lladdr") or "").lower(),
            "dev": entry["dev"],
            "permanent": "PERMANENT" in entry.get("state", []),
        })
    return result


def parse_fdb(fdb_json, dev=None):
    """`bridge fdb show dev X` omits the device name, so the caller passes it."""
    result = []
    for entry in fdb_json or []:
        result.append({
            "mac": entry.get("mac", "").lower(),
            "dst": entry.get("dst"),
            "dev": entry.get("ifname") or dev,
            "permanent": entry.get("state") == "permanent",
        })
    return result


def parse_routes(route_json, table=MAIN_TABLE):
    result = []
    for entry in route_json or []:
        if str(entry.get("type", "unicast")) not in ("unicast", "1"):
            continue  # local, broadcast, blackhole...: never ours (-N prints types as numbers)
        result.append({
            "dst": kernel_dst(entry["dst"]),
            "via": entry.get("gateway"),
            "dev": entry.get("dev"),
            "onlink": "onlink" in entry.get("flags", []),
            "protocol": int(entry.get("protocol", 0)),
            "metric": int(entry.get("metric", 0)),
            "table": table,
        })
    return result


def parse(addr_json, neigh_json, route_json, fdb_by_dev, table=MAIN_TABLE):
    """A Dataplane from the JSON dumps; fdb_by_dev is {device: fdb dump}."""
    fdb = []
    for dev, dump in sorted(fdb_by_dev.items()):
        fdb += parse_fdb(dump, dev)
    return Dataplane(parse_links(addr_json), parse_neighbors(neigh_json),
                     fdb, parse_routes(route_json, table))


def read(runner, devices, table=MAIN_TABLE):
    """Dump the dataplane: one `ip -batch` plus one `bridge fdb show` per existing device.

    `ip -N` prints protocol numbers, not names, so ownership compares numbers.
    """
    script = "address show\nneighbor show\nroute show table %s\n" % table
    addr_json, neigh_json, route_json = json_stream(
        runner.run(["ip", "-N", "-d", "-j", "-batch", "-"], script))
    present = set(entry["ifname"] for entry in addr_json)
    fdb_by_dev = {}
    for name in devices:
        if name in present:
            fdb_by_dev[name] = json_stream(runner.run(["bridge", "-j", "fdb", "show", "dev", name]))[0]
    return parse(addr_json, neigh_json, route_json, fdb_by_dev, table)
