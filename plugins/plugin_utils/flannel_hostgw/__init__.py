# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flannel_hostgw facet (see registry.py for the interface): its settings, checks, node plan,
ConfigMaps and cluster steps (model), and its node steps (node)."""

from __future__ import annotations

from ..addresses import route_text
from .model import (FAMILIES, NAME, SETTINGS, VARIABLES, api_clusters, check, cluster_checks, cluster_steps, node_plan, node_state,
                    prepare, read)
from .node import gates, node_steps

ORDER = 20
PREFIXES = (("flannel_hostgw_", NAME, (NAME,)),)
STATE = "flannel_hostgw_state"
SECRETS = False


def report_rows(fabric, host):
    state = node_state(fabric, host)
    return {"arp": 0, "fdb": 0, "routes": [route_text(r, "nodenet_hostgw") for r in state["routes"]], "sessions": []}


REPORT_ROWS = {NAME: report_rows}
