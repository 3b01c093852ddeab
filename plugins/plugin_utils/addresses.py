# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv4 arithmetic on the canonical strings the model holds.

The loaded model keeps addresses as strings (they go to iproute2 and into JSON as they
are); plans only need integers for ordering and containment, which the socket module
gives far faster than parsing into objects again.
"""

from __future__ import annotations

import heapq
import socket
import struct


def ip_int(text):
    return struct.unpack("!I", socket.inet_aton(text))[0]


def ip_text(value):
    return socket.inet_ntoa(struct.pack("!I", value))


def net_range(cidr):
    """(first, last) addresses of `a.b.c.d/len` as integers."""
    addr, _sep, length = cidr.partition("/")
    size = 1 << (32 - int(length))
    first = ip_int(addr) & ~(size - 1) & 0xFFFFFFFF
    return first, first + size - 1


def contains(cidr, ip):
    first, last = net_range(cidr)
    return first <= ip_int(ip) <= last


def within(inner, outer):
    a, b = net_range(inner)
    c, d = net_range(outer)
    return c <= a and b <= d


def overlaps(a, b):
    a1, a2 = net_range(a)
    b1, b2 = net_range(b)
    return a1 <= b2 and b1 <= a2


def net_key(cidr):
    """Address order (10.9.0.0/16 before 10.10.0.0/16), then prefix length."""
    addr, _sep, length = cidr.partition("/")
    return ip_int(addr), int(length)


def overlapping_pairs(ranges):
    """Every pair of overlapping CIDRs, each as (earlier, later) in input order.

    `ranges` is a list of (cidr, payload). A sweep in address order keeps the ranges still
    open, so a valid fabric (no overlaps) costs one sort, not a comparison of every pair.
    """
    items = sorted((net_range(cidr) + (index,) for index, (cidr, _owner) in enumerate(ranges)))
    open_ranges = []  # heap of (last, index)
    pairs = []
    for first, last, index in items:
        while open_ranges and open_ranges[0][0] < first:
            heapq.heappop(open_ranges)
        for _end, other in open_ranges:
            early, late = sorted((other, index))
            pairs.append((ranges[early], ranges[late]))
        heapq.heappush(open_ranges, (last, index))
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
