# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv4 and IPv6 arithmetic on the canonical strings the model holds.

The loaded model keeps addresses as strings (they go to iproute2 and into JSON as they
are); plans only need integers for ordering and containment, which the socket module
gives far faster than parsing into objects again. An integer is an address within its
family; ranges of different families never contain, overlap or sort among each other.
"""

from __future__ import annotations

import heapq
import socket
import struct

BITS = {4: 32, 6: 128}
NAMES = {4: "IPv4", 6: "IPv6"}


def family(text):
    """4 or 6: the family of an address or a CIDR."""
    return 6 if ":" in text else 4


def families(texts):
    """The families of addresses or CIDRs, in the order they first appear."""
    found = []
    for text in texts:
        if family(text) not in found:
            found.append(family(text))
    return tuple(found)


def of_family(texts, version):
    """The first address or CIDR of `texts` in family `version`, or None."""
    return next((t for t in texts if family(t) == version), None)


def ip_int(text):
    if ":" in text:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    return struct.unpack("!I", socket.inet_aton(text))[0]


def ip_text(value, version=4):
    if version == 6:
        return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))
    return socket.inet_ntoa(struct.pack("!I", value))


def net_range(cidr):
    """(first, last) addresses of `address/len` as integers of its family."""
    addr, _sep, length = cidr.partition("/")
    size = 1 << (BITS[family(addr)] - int(length))
    first = ip_int(addr) & ~(size - 1)
    return first, first + size - 1


def contains(cidr, ip):
    if family(cidr) != family(ip):
        return False
    first, last = net_range(cidr)
    return first <= ip_int(ip) <= last


def within(inner, outer):
    if family(inner) != family(outer):
        return False
    a, b = net_range(inner)
    c, d = net_range(outer)
    return c <= a and b <= d


def overlaps(a, b):
    if family(a) != family(b):
        return False
    a1, a2 = net_range(a)
    b1, b2 = net_range(b)
    return a1 <= b2 and b1 <= a2


def ip_key(text):
    """IPv4 first, then address order."""
    return family(text), ip_int(text)


def net_key(cidr):
    """IPv4 first, then address order (10.9.0.0/16 before 10.10.0.0/16), then prefix length."""
    addr, _sep, length = cidr.partition("/")
    return family(addr), ip_int(addr), int(length)


def first_address(cidr):
    """The first address after the network's (a CNI's bridge or gateway, the lab's pod)."""
    return ip_text(net_range(cidr)[0] + 1, family(cidr))


def overlapping_pairs(ranges):
    """Every pair of overlapping CIDRs, each as (earlier, later) in input order.

    `ranges` is a list of (cidr, payload). A sweep in address order keeps the ranges still
    open, so a valid fabric (no overlaps) costs one sort, not a comparison of every pair.
    """
    items = sorted(((family(cidr),) + net_range(cidr) + (index,) for index, (cidr, _owner) in enumerate(ranges)))
    open_ranges = []  # heap of (family, last, index)
    pairs = []
    for version, first, last, index in items:
        while open_ranges and open_ranges[0][:2] < (version, first):
            heapq.heappop(open_ranges)
        for _family, _end, other in open_ranges:
            early, late = sorted((other, index))
            pairs.append((ranges[early], ranges[late]))
        heapq.heappush(open_ranges, (version, last, index))
    return pairs


def route_text(route, protocol=None):
    """A route as `ip route` prints it (a report's row)."""
    parts = [route["dst"]]
    if route.get("via"):
        parts.append("via %s" % route["via"])
    if route.get("dev"):
        parts.append("dev %s" % route["dev"])
    if protocol:
        parts.append("proto %s" % protocol)
    return " ".join(parts)
