# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""calico_bgp_rr's node side, as node steps between the gates of its cluster order:
each node reads its sessions first (does the topology change anywhere?); gate `bridged`: where
any node's sessions change, bridge routes to the other nodes' pods (a node with a new cluster ID
leaves the mesh before its new sessions are up; they sit below BIRD's routes); gate
`sessions_up`: wait until the sessions to the route reflectors and external peers are
Established; gate `settled`: wait until exactly the expected sessions and BIRD's routes are
there, then the bridge routes go. A cluster without API access (render only) waits for nothing."""

from __future__ import annotations

from ..node import steps
from ..node.facts import node_facts_step
from .cluster import GATES
from .plan import node_plan

DEFAULTS = {"birdc": ["birdc", "-s", "/var/run/calico/bird.ctl"], "birdc6": ["birdc", "-s", "/var/run/calico/bird6.ctl"],
            "wait": 120, "bridge": True}


def moving(_results, play):
    """Some node of the play could not read its sessions as the target has them (or kept no result)."""
    for kept in play.hosts.values():
        before = [found["before"] for found in (kept or {}).values() if isinstance(found, dict) and "before" in found]
        if not before or before[0].get("failed"):
            return True
    return False


def sessions(plan, options, expected=None, exact=True, timeout=True):
    args = {"expected": plan["verify"]["sessions"] if expected is None else expected, "exact": exact,
            "birdc": options["birdc"], "families": plan["verify"]["families"]}
    if 6 in plan["verify"]["families"]:
        args["birdc6"] = options["birdc6"]
    if expected is None:
        args.update(routes=plan["verify"]["routes"], scope=plan["verify"]["scope"])
    if timeout:
        args["timeout"] = options["wait"]
    return args


def node_steps(fabric, host, state="present", options=None, secrets=None, preflight_only=False):
    options = dict(DEFAULTS, **(options or {}))
    plan = node_plan(fabric, host)
    applied = plan["applied"]
    if preflight_only:
        bird = steps.module("calico-node's BIRD answers", "bgp_sessions",
                            sessions(plan, options, expected=[], exact=False, timeout=False), check=True)
        return ([node_facts_step(fabric, host)] + ([bird] if applied else [])
                + [steps.module("the bridge routes fit the kernel", "reconcile", {"desired": plan["bridge"]}, check=True)])
    bridged, sessions_up, settled = GATES
    return (([steps.module("this node's sessions, as the target has them", "bgp_sessions",
                           sessions(plan, options, timeout=False), key="before", check=True, read=True)]
             if applied else [])
            + [steps.gate(bridged)]
            + ([steps.module("bridge routes to the other nodes' pods while the sessions move", "reconcile",
                             {"desired": plan["bridge"]}, key="bridge", only_if=steps.named(moving))]
               if applied and options["bridge"] else [])
            + [steps.gate(sessions_up)]
            + ([steps.module("the sessions to the route reflectors and external peers are Established",
                             "bgp_sessions", sessions(plan, options, expected=plan["peers_up"], exact=False),
                             key="peers_up", live_only=True)] if applied else [])
            + [steps.gate(settled)]
            + ([steps.module("exactly the expected sessions, all Established, and BIRD's routes to every other "
                             "node's pods", "bgp_sessions", sessions(plan, options), key="after", live_only=True,
                             report="table")] if applied else [])
            + [steps.module("the bridge routes removed (BIRD's routes carry the pods now)", "reconcile",
                            {"desired": plan["bridge_off"]}, key="bridge_off")])


def gates(state="present"):
    return GATES
