# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host's node_facts check expects of it, and the preflight step that runs that check."""

from __future__ import annotations

from .steps import module


def expectations(fabric, host):
    """{interface, address (one per family), mtu} the inventory gives a node ({} for a router or
    client)."""
    node = fabric.nodes.get(host)
    if node is None:
        return {}
    return {"interface": node.interface, "mtu": node.mtu,
            "address": ["%s/%s" % (ip, subnet.split("/")[1]) for ip, subnet in zip(node.ips, node.subnets)]}


def node_facts_step(fabric, host, require=(), systemd=False):
    """Become gives root, iproute2 answers, the kernel has `require`, systemd runs where a boot
    unit will be enabled, and the underlay is as the inventory says."""
    return module("this host's prerequisites and underlay", "node_facts",
                  {"expect": expectations(fabric, host), "require": list(require), "systemd": systemd}, check=True)
