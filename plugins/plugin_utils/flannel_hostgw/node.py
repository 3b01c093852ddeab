# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flannel_hostgw's node steps. Make: the bridge routes checked, applied and given back when
another node's apply fails (node/reconcile.py; never saved for boot: the bridge lives only
during a switch), the pods on the other nodes answer, and the boot unit and saved state that
releases up to 0.6 installed go (the switch hands every route over to flanneld, so nothing of
ours is left to re-apply at boot). Break, after the gate `switched`: the hand-over to flanneld."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ..node import reconcile, steps
from .model import node_plan

PERSIST_NAME = "flannel-hostgw"
LEGACY_UNIT = reconcile.unit(PERSIST_NAME)
DEFAULTS = {"verify": True, "persist": False, "wait": 300, "restart_flanneld": True}
# After it, net-conf.json says host-gw and flanneld restarted (the cluster order's gate).
SWITCHED = "switched"
GATES = reconcile.GATES + (SWITCHED,)


def legacy_there(results, _play):
    return bool(((results.get("legacy_unit") or {}).get("stat") or {}).get("exists"))


def legacy_removed(results, _play):
    return any((results.get(k) or {}).get("changed") for k in ("legacy_unit_removed", "legacy_state_removed"))


def legacy(options):
    """Look for the unit; only where it is, disable it (systemd), remove it and its state (they
    were installed together), and let systemd forget it."""
    options = settings(options)
    unit = options["root"] + LEGACY_UNIT
    there, removed = steps.named(legacy_there), steps.named(legacy_removed)
    systemd = options["systemd"]
    return ([steps.module("the boot unit of release 0.6 and earlier", "ansible.builtin.stat", {"path": unit},
                          key="legacy_unit", check=True)]
            + ([steps.module("that unit disabled", "ansible.builtin.systemd_service",
                             {"name": LEGACY_UNIT.rpartition("/")[2], "enabled": False}, key="legacy_disabled",
                             only_if=there)] if systemd else [])
            + [steps.module("that unit removed", "ansible.builtin.file", {"path": unit, "state": "absent"},
                            key="legacy_unit_removed", only_if=there),
               steps.module("the state it re-applied removed", "ansible.builtin.file",
                            {"path": "%s%s/flannel-hostgw.json" % (options["root"], options["state_dir"]),
                             "state": "absent"}, key="legacy_state_removed", only_if=there)]
            + ([steps.module("systemd forgets the removed unit", "ansible.builtin.systemd_service",
                             {"daemon_reload": True}, key="legacy_reload", only_if=removed)] if systemd else []))


def pending(results, _play, _host):
    return bool((results.get("retired") or {}).get("handover_pending"))


def pending_message(results, _play, host):
    return ("flanneld does not route %s over host-gw on %s yet: the bridge routes and flannel.N stay. Apply the "
            "rendered ConfigMap, restart flanneld (kubectl rollout restart), then run this playbook again to hand "
            "over and retire flannel.N." % (", ".join(r["dst"] for r in results["retired"]["handover_pending"]), host))


def retire(fabric, host, options):
    """Break: once flanneld's own host-gw route to every peer is in the table (waited for where
    this run restarted it), the bridge routes hand over to it and flannel.N goes; then the pods
    still answer. What flanneld does not route yet stays, and the run says so."""
    plan = node_plan(fabric, host, retire=True, wait=options["wait"], restarted=boolean(options["restart_flanneld"]))
    verify = plan["verify"]["targets"] if options["verify"] else ""
    order = [steps.module("flanneld's host-gw routes waited for, then the bridge routes and flannel.N removed",
                          "reconcile", {"desired": plan["reconcile"]}, key="retired"),
             steps.warn("what still waits for flanneld", steps.named(pending), steps.named(pending_message), of=host,
                        live_only=True)]
    if verify:
        order.append(steps.module("pods on the other nodes still answer", "reachability", {"targets": verify},
                                  key="verified", live_only=True, unprivileged=True))
    return order


def node_steps(fabric, host, state="present", options=None, secrets=None, preflight_only=False):
    """Make (the bridge routes, gate `applied`), then, after the gate `switched`, break."""
    options = settings(options)
    plan = node_plan(fabric, host)
    if preflight_only:
        return [reconcile.preflight(fabric, host, PERSIST_NAME, plan["reconcile"], state, options)]
    verify = plan["verify"]["targets"] if options["verify"] and state == "present" else ""
    return (reconcile.apply(PERSIST_NAME, plan["reconcile"], state, options, verify) + legacy(options)
            + [steps.gate(SWITCHED)] + (retire(fabric, host, options) if state == "present" else []))


def settings(options):
    return dict(reconcile.settings(DEFAULTS, options), persist=False)  # never: flanneld routes at boot


def gates(state="present"):
    return GATES
