# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fifth facet, used only by tests/integration/test_fifth_facet.py: each node of the group
static_route gets the routes its inventory names (static_route_routes: [{dst, via}]) with its own
route protocol, and each cluster a ConfigMap that lists them. With its role, it is all that
docs/architecture.md's "A new role" asks for; nothing else of the collection changes."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

from ..cluster import steps
from ..fabric import api_access
from ..node import reconcile

ORDER = 50
NAME = "static_route"
VARIABLES = {"static_route_routes": []}
PREFIXES = (("static_route_", NAME, (NAME,)),)
STATE = "static_route_state"
SECRETS = False
PROTOCOL = 222  # its own route protocol: what it owns on a node
LABELS = {"app.kubernetes.io/managed-by": "nodenet.fabric"}


@dataclass(frozen=True)
class StaticRouteSettings:
    routes: list


SETTINGS = StaticRouteSettings


def read(reader, node_mtu):
    routes = reader.raw("static_route_routes")
    if not isinstance(routes, list):
        reader.error("static_route_routes", "must be a list of {dst, via}")
        return None
    found = []
    for index, route in enumerate(routes):
        try:
            found.append({"dst": str(ipaddress.ip_network(route["dst"])), "via": str(ipaddress.ip_address(route["via"]))})
        except (KeyError, TypeError, ValueError) as exc:
            reader.error("static_route_routes[%d]" % index, "needs a dst network and a via address (%s)" % exc)
    return StaticRouteSettings(found)


def check(fabric):
    """Nothing across nodes to check."""


def prepare(fabric):
    """Nothing to share."""


def clusters(fabric):
    return sorted({n.cluster for n in fabric.facet_nodes(NAME)})


def api_clusters(fabric):
    return clusters(fabric)


def node_plan(fabric, host):
    node = fabric.nodes[host]
    routes = [dict(r, dev=node.interface, onlink=False) for r in fabric.settings(NAME, host).routes]
    return {"reconcile": json.dumps({"routes": routes, "route_protocol": PROTOCOL, "use_nexthops": False}),
            "verify": {"targets": ""}}


def node_steps(fabric, host, state="present", options=None, secrets=None, preflight_only=False):
    """The routes checked at the preflight, then applied (not saved for boot)."""
    options = reconcile.settings({"persist": False}, options)
    desired = node_plan(fabric, host)["reconcile"]
    if preflight_only:
        return [reconcile.preflight(fabric, host, "static-route", desired, state, options)]
    return reconcile.apply("static-route", desired, state, options)


def gates(state="present"):
    return reconcile.GATES


def config_map(fabric, cluster):
    data = dict((n.host, json.dumps(fabric.settings(NAME, n.host).routes)) for n in fabric.cluster_nodes(cluster)
                if n.host in fabric.facets[NAME])
    return {"apiVersion": "v1", "kind": "ConfigMap", "data": data,
            "metadata": {"name": "static-routes", "namespace": "kube-system", "labels": dict(LABELS)}}


def cluster_steps(fabric, state="present", secrets=None, options=None):
    """Once every node has its routes: the ConfigMap applied, or (absent) pruned: ours by label, none named."""
    prune = {"api_version": "v1", "kind": "ConfigMap", "namespace": "kube-system",
             "label_selector": "app.kubernetes.io/managed-by=nodenet.fabric"}
    items = [dict(api_access(fabric.clusters[c]), cluster=c, prune=prune,
                  manifests=[config_map(fabric, c)] if state == "present" else []) for c in clusters(fabric)]
    return [steps.gate(reconcile.APPLIED)] + steps.apply(items, "static routes listed", file="static-routes.yml")


def report_rows(fabric, host):
    routes = json.loads(node_plan(fabric, host)["reconcile"])["routes"]
    return {"arp": 0, "fdb": 0, "routes": ["%(dst)s via %(via)s" % r for r in routes], "sessions": []}


REPORT_ROWS = {NAME: report_rows}
