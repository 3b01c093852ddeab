# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host's node_facts check expects of it, and the preflight step that runs that check."""

from __future__ import annotations

from .steps import module


def expectations(fabric, host):
    """{interface, address, mtu} the inventory gives a node ({} for a router or client)."""
    node = fabric.nodes.get(host)
    if node is None:
        return {}
    return {"interface": node.interface, "address": "%s/%s" % (node.ip, node.subnet.split("/")[1]), "mtu": node.mtu}


def node_facts_step(fabric, host, require=(), systemd=False):
    """Become gives root, iproute2 answers, the kernel has `require`, systemd runs where a boot
    unit will be enabled, and the underlay is as the inventory says."""
    return module("this host's prerequisites and underlay", "node_facts",
                  {"expect": expectations(fabric, host), "require": list(require), "systemd": systemd}, check=True)
