# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic vxlan IP and MAC for nodes that do not set them.

Each value depends only on the node's own inventory data, so adding or removing
another node never moves an existing node:
- IP: the node_ip's host number, taken modulo the size of vxlan_mesh_subnet
  (192.168.0.21 in 179.17.1.0/24 gives 179.17.1.21, as seed 002 plans by hand);
  in the mesh's IPv6 subnet, from the node's IPv6 node_ip where it has one.
- MAC: 0a:58 followed by the (last) four bytes of the node's first vxlan IP
  (locally administered, unicast), so distinct vxlan IPs give distinct MACs.
"""

from __future__ import annotations

from ..addresses import family, ip_int, ip_text, net_range

MAC_PREFIX = (0x0A, 0x58)


def derive_vxlan_ip(node_ip, subnet):
    """The derived address, or None when it would be the network or broadcast address."""
    first, last = net_range(subnet)
    size = last - first + 1
    offset = ip_int(node_ip) % size
    if offset == 0 or offset == size - 1:
        return None
    return ip_text(first + offset, family(subnet))


def derive_vxlan_mac(vxlan_ip):
    value = ip_int(vxlan_ip)
    octets = list(MAC_PREFIX) + [(value >> shift) & 255 for shift in (24, 16, 8, 0)]
    return ":".join("%02x" % o for o in octets)
