# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iproute2: the owner's dummy link (only when it is a dummy) and the routes of its route
protocol (flushed per family)."""

from __future__ import absolute_import, division, print_function

import json

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_PROXY

__metaclass__ = type


def parse_links(text):
    """{name: {kind, addresses: [str]}} from `ip -json -details address show`."""
    links = {}
    for link in json.loads(text or "[]"):
        links[link["ifname"]] = {"kind": (link.get("linkinfo") or {}).get("info_kind"),
                                 "addresses": [a["local"] for a in link.get("addr_info") or [] if "local" in a]}
    return links


def plan_links(links, owner=KUBE_PROXY):
    """(links to delete, conflicts): the owner's dummy link when it is a dummy, as its cleanup checks."""
    found = [name for name in links if owner.owns("link", name)]
    if not found:
        return [], []
    wrong = [n for n in found if links[n]["kind"] != "dummy"]
    return ([n for n in found if n not in wrong],
            ["%s exists but is a %s device, not %s's dummy" % (n, links[n]["kind"] or "plain", owner.name) for n in wrong])


def parse_routes(text, family=""):
    """["DST via GW dev DEV"] of `ip -json route show` (family "-6 " marks IPv6 ones)."""
    found = []
    for route in json.loads(text or "[]"):
        words = [family + route["dst"]] + [w for key, name in (("gateway", "via"), ("dev", "dev"))
                                           for w in ((name, route[key]) if route.get(key) else ())]
        found.append(" ".join(words))
    return found


def routes_batches(routes, protocol):
    """One flush per family that has any: every route of the protocol is the owner's."""
    steps = []
    for family, args in (("", []), ("-6 ", ["-6"])):
        if any(r.startswith("-6 ") == bool(family) for r in routes):
            steps.append(("routes", "ip", args + ["route", "flush", "proto", str(protocol)], None))
    return steps
