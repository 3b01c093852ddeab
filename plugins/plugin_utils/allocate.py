# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic vxlan IP and MAC for nodes that do not set them.

Each value depends only on the node's own inventory data, so adding or removing
another node never moves an existing node:
- IP: the node_ip's host number, taken modulo the size of vxlan_mesh_subnet
  (192.168.0.21 in 179.17.1.0/24 gives 179.17.1.21, as seed 002 plans by hand).
- MAC: 0a:58 followed by the four bytes of the vxlan IP (locally administered,
  unicast), so distinct vxlan IPs give distinct MACs.
"""

from __future__ import annotations

from netaddr import EUI, IPAddress

MAC_PREFIX = (0x0A, 0x58)


def derive_vxlan_ip(node_ip, subnet):
    """The derived address, or None when it would be the network or broadcast address."""
    offset = int(node_ip) % subnet.size
    if offset == 0 or offset == subnet.size - 1:
        return None
    return IPAddress(int(subnet.network) + offset)


def derive_vxlan_mac(vxlan_ip):
    octets = list(MAC_PREFIX) + list(vxlan_ip.packed)
    return EUI(":".join("%02x" % o for o in octets))


def format_mac(mac):
    """Lower-case colon form, as iproute2 prints it."""
    return ":".join("%02x" % b for b in mac.packed)
