# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tor facet (see registry.py for the interface): the ToR routers and outside clients around
the clusters, read from groups of their own, never nodes (model), and their FRR neighbors and
routes (plan). It has no role of its own: the BGP roles' playbooks run its tasks."""

from __future__ import annotations

from ..addresses import route_text
from .model import CLIENTS, EXTRA_READERS, EXTRA_SETTINGS, GROUPS, ROUTERS, VARIABLES, check
from .node import gates, node_steps
from .plan import client_state, router_state

ORDER = 90
NAME = None
PREFIXES = (("bgp_router_", ROUTERS, (ROUTERS,)), ("bgp_client_", CLIENTS, (CLIENTS,)))
STATE = None
SECRETS = False


def prepare(fabric):
    """Nothing to share: the routers and clients are few."""


def router_rows(fabric, host):
    neighbors = router_state(fabric, host, with_passwords=False)["neighbors"]
    return {"arp": 0, "fdb": 0, "routes": [],
            "sessions": ["%s (%s, AS %s)" % (n["description"], n["ip"], n["remote_as"]) for n in neighbors]}


def client_rows(fabric, host):
    state = client_state(fabric, host)
    return {"arp": 0, "fdb": 0, "routes": [route_text(r, "nodenet_bgp") for r in state["routes"]], "sessions": []}


REPORT_ROWS = {ROUTERS: router_rows, CLIENTS: client_rows}
