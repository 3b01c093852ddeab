# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vxlan_mesh's node steps: the node's plan (device, ARP, FDB, routes) checked, applied, given
back when another node's apply fails, saved for boot, and its peers pinged (node/reconcile.py)."""

from __future__ import annotations

from ..node import reconcile
from .model import node_plan

PERSIST_NAME = "vxlan-mesh"
DEFAULTS = {"verify": True}


def node_steps(fabric, host, state="present", options=None, secrets=None, preflight_only=False):
    options = reconcile.settings(DEFAULTS, options)
    plan = node_plan(fabric, host)
    verify = plan["verify"]["targets"] if options["verify"] and state == "present" else ""
    if preflight_only:
        return [reconcile.preflight(fabric, host, PERSIST_NAME, plan["reconcile"], state, options, ["vxlan"], verify)]
    return reconcile.apply(PERSIST_NAME, plan["reconcile"], state, options, verify)


def gates(state="present"):
    return reconcile.GATES
