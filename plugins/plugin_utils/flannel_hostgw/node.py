# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flannel_hostgw's node steps after the bridge routes: the pods on the other nodes answer, and
the boot unit and saved state that releases up to 0.6 installed go (the switch hands every route
over to flanneld, so nothing of ours is left to re-apply at boot)."""

from __future__ import annotations

from ..node import steps
from .model import node_plan

LEGACY_UNIT = "/etc/systemd/system/nodenet-fabric-flannel-hostgw.service"
DEFAULTS = {"verify": True, "root": "", "systemd": True, "state_dir": "/etc/nodenet-fabric"}


def legacy_there(results, _play_results):
    return bool(((results.get("legacy_unit") or {}).get("stat") or {}).get("exists"))


def legacy_removed(results, _play_results):
    return any((results.get(k) or {}).get("changed") for k in ("legacy_unit_removed", "legacy_state_removed"))


def legacy(options):
    """Look for the unit; only where it is, disable it (systemd), remove it and its state (they
    were installed together), and let systemd forget it."""
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


def node_steps(fabric, host, state="present", options=None, secrets=None, preflight_only=False):
    options = dict(DEFAULTS, **(options or {}))
    if preflight_only:
        return []
    targets = [t for t in node_plan(fabric, host)["verify"]["targets"].split(",") if t]
    verify = options["verify"] and state == "present" and targets
    return ([steps.module("pods on the other nodes answer", "reachability", {"targets": targets}, live_only=True)]
            if verify else []) + legacy(options)
