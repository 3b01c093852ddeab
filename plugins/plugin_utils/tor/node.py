# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tor facet's node side: a ToR router's FRR (our neighbors, prefix-lists and route-maps),
and an outside client's routes to the pods via its router, checked, applied, saved for boot and
its pod targets pinged (node/reconcile.py)."""

from __future__ import annotations

import json

from ..node import reconcile, steps
from ..node.facts import node_facts_step
from .model import ROUTERS
from .plan import client_state, router_state

DEFAULTS = {"vtysh": ["vtysh"], "verify": True, "client_targets": []}
CLIENT = "calico-bgp-client"  # the name its saved state and boot unit have had since 0.4


def frr(fabric, host, options, secrets):
    args = router_state(fabric, host, secrets=secrets)
    del args["secret"]
    return dict(args, vtysh=options["vtysh"])


def node_steps(fabric, host, state="present", options=None, secrets=None, preflight_only=False):
    options = reconcile.settings(DEFAULTS, options)
    if host in fabric.facets.get(ROUTERS, {}):
        configure = steps.module("the router's FRR takes our neighbors" if preflight_only else
                                 "the router's BGP neighbors and policies (FRR)", "frr_bgp",
                                 frr(fabric, host, options, secrets), check=preflight_only, secret=True)
        return [node_facts_step(fabric, host), configure] if preflight_only else [configure]
    desired = json.dumps(client_state(fabric, host))
    if preflight_only:
        return [reconcile.preflight(fabric, host, CLIENT, desired, "present", options)]
    given = options["client_targets"]
    verify = (given if isinstance(given, str) else ",".join(map(str, given))) if options["verify"] else ""
    return reconcile.apply(CLIENT, desired, "present", options, verify)


def gates(state="present"):
    """A client's (a router's order has none: its role runs it in one stage)."""
    return reconcile.GATES
