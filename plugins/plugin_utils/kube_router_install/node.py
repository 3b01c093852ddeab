# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube_router_install's node side, as node steps between the gates of its cluster orders:

- install: kube-router's conflist first (the replaced CNI's files stay, and sort first, until
  kube-router serves); gate `peered`: wait until kube-router peers with every expected node and
  router and routes every other node's pods; gate `replaced`: kube-proxy's leftovers go (only
  its own, as `kube-proxy --cleanup` would; read again while a terminating kube-proxy syncs once
  more), the replaced CNI's files are set aside (kept for rollback), and the sessions are
  checked exactly;
- rollback: gate `proxy_back`: wait until kube-proxy has made its rules again, then the replaced
  CNI's files come back and ours go; gate `router_gone`: kube-router's leftovers go.

A cluster without API access (render only) gets the conflist and nothing else."""

from __future__ import annotations

from ..node import steps
from ..node.engine import settled
from ..node.facts import node_facts_step
from .cluster import INSTALL_GATES, ROLLBACK_GATES
from .plan import node_plan

DEFAULTS = {"gobgp": ["gobgp"], "wait": 180, "root": ""}


def kube_proxy_back(found):
    """kube-proxy's rules are there again, in any mode: iptables chains, its nftables table, IPVS services."""
    removed = found.get("removed") or {}
    return bool(removed.get("iptables") or removed.get("nftables") or removed.get("ipvs"))


def cni(plan, options, **keys):
    args = dict(plan["cni"], root=options["root"])
    args.update(keys)
    return args


def sessions(plan, options, exact=True):
    return {"daemon": "gobgp", "expected": plan["verify"]["sessions"], "routes": plan["verify"]["routes"],
            "exact": exact, "timeout": options["wait"], "gobgp": options["gobgp"], "families": plan["verify"]["families"]}


def install(plan, options):
    applied, router = plan["applied"], plan["applied"] and plan["verify"]["router"]
    peered, replaced = INSTALL_GATES
    return ([steps.module("kube-router's conflist written (the replaced CNI's files stay until it serves)",
                          "cni_config", cni(plan, options, set_aside=False))]
            + [steps.gate(peered)]
            + ([steps.module("kube-router peers with every expected node and router, and routes their pods",
                             "bgp_sessions", sessions(plan, options, exact=False), key="peered",
                             live_only=True)] if router else [])
            + [steps.gate(replaced)]
            + ([steps.module("kube-proxy's leftovers removed, as kube-proxy --cleanup would (only its own)",
                             "kube_proxy_cleanup", plan["cleanup"], until=steps.named(settled),
                             timeout=options["wait"])] if applied and plan["replace_kube_proxy"] else [])
            + ([steps.module("the replaced CNI's config files set aside (kept for rollback)", "cni_config",
                             cni(plan, options, set_aside=True), key="cni_set_aside")] if applied else [])
            + ([steps.module("exactly the expected peers, all established, and the routes", "bgp_sessions",
                             sessions(plan, options), key="sessions", live_only=True, report="table")]
               if router else []))


def rollback(plan, options):
    applied = plan["applied"]
    proxy_back, router_gone = ROLLBACK_GATES
    return ([steps.gate(proxy_back)]
            + ([steps.module("kube-proxy has made its rules on this node again", "kube_proxy_cleanup", plan["cleanup"],
                             key="kube_proxy_back", check=True, until=steps.named(kube_proxy_back),
                             timeout=options["wait"], live_only=True)]
               if applied and plan["replace_kube_proxy"] else [])
            + [steps.module("the replaced CNI's config files back, kube-router's conflist removed", "cni_config",
                            cni(plan, options, state="absent"))]
            + [steps.gate(router_gone)]
            + ([steps.module("kube-router's leftovers removed, as kube-router --cleanup-config would (only its own)",
                             "kube_router_cleanup", {}, until=steps.named(settled), timeout=options["wait"])]
               if applied else []))


def preflight(fabric, host, plan, state, options):
    """The CNI files can be written and set aside; kube-proxy's leftovers (a rollback: kube-router's)
    can be removed, no foreign rule still using them."""
    return ([node_facts_step(fabric, host),
             steps.module("the CNI files (ours; the replaced CNI's set aside)", "cni_config",
                          cni(plan, options, set_aside=True, state=state), check=True)]
            + ([steps.module("kube-proxy's leftovers can be removed", "kube_proxy_cleanup", plan["cleanup"],
                             check=True)] if plan["replace_kube_proxy"] and state == "present" else [])
            + ([steps.module("kube-router's leftovers can be removed", "kube_router_cleanup", {}, check=True)]
               if plan["applied"] and state == "absent" else []))


def node_steps(fabric, host, state="present", options=None, secrets=None, preflight_only=False):
    options = dict(DEFAULTS, **(options or {}))
    plan = node_plan(fabric, host)
    if preflight_only:
        return preflight(fabric, host, plan, state, options)
    return (install if state == "present" else rollback)(plan, options)


def gates(state="present"):
    return INSTALL_GATES if state == "present" else ROLLBACK_GATES
