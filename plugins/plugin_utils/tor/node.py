# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tor facet's node side: a ToR router's FRR (our neighbors, prefix-lists and route-maps),
and, before anything changes, an outside client's routes checked against its kernel (its role
applies them with the reconcile entry point, saved for boot)."""

from __future__ import annotations

import json

from ..node import steps
from ..node.facts import node_facts_step
from .model import ROUTERS
from .plan import client_state, router_state

DEFAULTS = {"vtysh": ["vtysh"]}


def frr(fabric, host, options, secrets):
    args = router_state(fabric, host, secrets=secrets)
    del args["secret"]
    return dict(args, vtysh=options["vtysh"])


def node_steps(fabric, host, state="present", options=None, secrets=None, preflight_only=False):
    options = dict(DEFAULTS, **(options or {}))
    if host in fabric.facets.get(ROUTERS, {}):
        configure = steps.module("the router's FRR takes our neighbors" if preflight_only else
                                 "the router's BGP neighbors and policies (FRR)", "frr_bgp",
                                 frr(fabric, host, options, secrets), check=preflight_only, secret=True)
        return [node_facts_step(fabric, host), configure] if preflight_only else [configure]
    if not preflight_only:
        return []  # its role applies the routes with node_base's reconcile, saved for boot
    # a client's routes get a boot unit (its role's persist), so systemd must run there
    return [node_facts_step(fabric, host, systemd=bool(options.get("systemd"))),
            steps.module("the client's routes fit its kernel", "reconcile",
                         {"desired": json.dumps(client_state(fabric, host))}, check=True)]
