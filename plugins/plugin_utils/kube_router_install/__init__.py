# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kube_router_install facet (see registry.py for the interface): its settings and checks
(model), each node's expected peers, routes and CNI files (plan), its objects (resources), and
its install and rollback orders and live checks as cluster steps (cluster)."""

from __future__ import annotations

from ..addresses import route_text
from .cluster import cluster_checks, cluster_steps
from .model import FAMILIES, NAME, SETTINGS, VARIABLES, api_clusters, check, prepare, read
from .node import gates, node_steps
from .plan import node_plan

ORDER = 40
PREFIXES = (("kube_router_", NAME, (NAME,)),)
STATE = "kube_router_install_state"
SECRETS = True


def report_rows(fabric, host):
    verify = node_plan(fabric, host)["verify"]
    return {"arp": 0, "fdb": 0, "routes": [route_text(r, "kube-router") for r in verify["routes"]],
            "sessions": ["%s %s (%s, AS %s)" % (p["node"] or "router", p["ip"], p["kind"], p["asn"])
                         for p in verify["sessions"]]}


REPORT_ROWS = {NAME: report_rows}
