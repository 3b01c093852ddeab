# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The calico_bgp_rr facet (see registry.py for the interface): its settings and checks (model),
each node's expected sessions and bridge routes (plan), and its objects and migration order as
cluster steps (cluster)."""

from __future__ import annotations

from ..addresses import route_text
from .cluster import cluster_checks, cluster_steps
from .model import FAMILIES, NAME, SETTINGS, VARIABLES, api_clusters, check, prepare, read
from .node import gates, node_steps
from .plan import block_routes, expected, node_plan

ORDER = 30
# calico_bgp_* is read on the nodes, and on the routers and clients around them (tor)
PREFIXES = (("calico_bgp_", NAME, (NAME, "bgp_routers", "bgp_clients")),)
STATE = None
SECRETS = True


def report_rows(fabric, host):
    fabric.settings(NAME, host)
    return {"arp": 0, "fdb": 0, "routes": [route_text(r, "bird") for r in block_routes(fabric, host)],
            "sessions": ["%s %s (%s)" % (s["peer"], s["ip"], s["type"]) for s in expected(fabric, host)]}


REPORT_ROWS = {NAME: report_rows}
