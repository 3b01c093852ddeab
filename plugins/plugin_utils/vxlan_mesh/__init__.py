# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vxlan_mesh facet (see registry.py for the interface): its settings, checks and node plan
(model), the deterministic vxlan IP and MAC (allocate), its node steps (node) and its cluster
steps, the remote clusters' IPPools (cluster)."""

from __future__ import annotations

import json

from ..addresses import route_text
from .cluster import cluster_steps
from .model import FAMILIES, NAME, SETTINGS, VARIABLES, api_clusters, check, node_plan, prepare, read
from .node import gates, node_steps

ORDER = 10
PREFIXES = (("vxlan_mesh_", NAME, (NAME,)),)
STATE = "vxlan_mesh_state"
SECRETS = False


def report_rows(fabric, host):
    state = json.loads(node_plan(fabric, host)["reconcile"])
    return {"arp": len(state.get("neighbors", [])), "fdb": len(state.get("fdb", [])),
            "routes": [route_text(r, "nodenet_mesh") for r in state.get("routes", [])], "sessions": [],
            "device": state["device"]["name"]}


REPORT_ROWS = {NAME: report_rows}
