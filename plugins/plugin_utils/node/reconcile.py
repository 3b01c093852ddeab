# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A plan's kernel state (its `reconcile` document) as node steps, the same for every role:

- preflight: checked against the kernel in check mode with the node's prerequisites and
  underlay, in one module run; a node in sync pings its verify targets there;
- start: applied where the preflight found a difference. A failure is kept, not raised, so
  that every node of the play reaches the gate;
- gate `applied`: when any node's apply failed, every node whose apply changed something gives
  back its state from before the run (the preflight's `restore`) and every node fails, naming
  each failure. Else the boot unit is enabled, and the verify targets are pinged unless the
  preflight found every node in sync and this node's targets answering (that was the check).

A role with such a state runs its stages as any other (node_base's `stage`); its cluster order
starts with the gate `applied`."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from .facts import expectations
from .steps import PREFLIGHT, START, fail, gate, module, named

APPLIED = "applied"
GATES = (APPLIED,)
# node_base's settings of every node (the filter adds them to a role's options)
NODE = {"root": "", "systemd": True, "state_dir": "/etc/nodenet-fabric",
        "tool_dir": "/usr/local/lib/nodenet-fabric/reconcile", "persist": True}


def settings(defaults, options):
    """A role's options over its defaults and node_base's, the switches as booleans (-e gives text)."""
    result = dict(NODE, **defaults)
    result.update(options or {})
    for key, value in result.items():
        if isinstance(value, str) and (key in ("systemd", "persist", "verify") or key in defaults and
                                       isinstance(defaults[key], bool)):
            result[key] = boolean(value)
    return result


def unit(name):
    return "/etc/systemd/system/nodenet-fabric-%s.service" % name


def persisted(name, options):
    """Where the state is saved for boot and the unit that re-applies it, or None."""
    if not options["persist"]:
        return None
    return {"state_file": "%s/%s.json" % (options["state_dir"], name), "unit": unit(name),
            "tool_dir": options["tool_dir"], "root": options["root"]}


def with_persist(args, name, options):
    persist = persisted(name, options)
    return dict(args, persist=persist) if persist else args


def preflight(fabric, host, name, desired, state, options, require=(), verify=()):
    """The one check of the node before anything changes anywhere (kept for the stages after)."""
    args = {"desired": desired, "state": state,
            "node_check": {"expect": expectations(fabric, host), "require": list(require),
                           "systemd": bool(options["persist"] and options["systemd"])}}
    if verify:
        args["verify"] = {"targets": verify}  # a plan's comma-separated string, as a list option takes it
    return module("this node's %s state against its kernel, with its prerequisites and underlay" % name, "reconcile",
                  with_persist(args, name, options), key=name, check=True, keep=("in_sync", "restore", "verify"))


def apply(name, desired, state, options, verify=()):
    """The node order around the gate `applied` (see the module's doc)."""
    boot = options["persist"] and options["systemd"]
    service = unit(name).rpartition("/")[2]
    of = {"of": name}
    order = [module("its boot unit disabled before it goes", "ansible.builtin.systemd_service",
                    {"name": service, "enabled": False}, key="boot_unit", only_if=named(differs), **of)
             ] if boot and state == "absent" else []
    order += [module("this node's %s state applied" % name, "reconcile",
                     with_persist({"desired": desired, "state": state}, name, options), key=name, read=True,
                     only_if=named(differs), **of),
              gate(APPLIED),
              module("its state from before the run given back, since another node's apply failed", "reconcile",
                     with_persist({}, name, options), key="given_back",
                     args_from={"desired": (PREFLIGHT, name, "restore")}, only_if=named(another_failed), **of),
              fail("every node stops when any node's apply failed", named(any_failed), named(failures), **of)]
    if boot and state == "present":
        order += [module("its boot unit enabled, systemd reloaded", "ansible.builtin.systemd_service",
                         {"name": service, "enabled": True, "daemon_reload": True}, key="boot_unit",
                         only_if=named(changed), **of),
                  module("its boot unit enabled", "ansible.builtin.systemd_service",
                         {"name": service, "enabled": True}, key="boot_unit", only_if=named(unchanged), **of)]
    if verify:
        order.append(module("the verify targets answer", "reachability", {"targets": verify}, key="verified",
                            live_only=True, unprivileged=True, only_if=named(unverified), **of))
    return order


# The conditions (results: this run's; play: engine.Play; of: the state's name).

def differs(_results, play, of):
    return play.kept(PREFLIGHT, of).get("in_sync") is not True


def changed(_results, play, of):
    return bool(play.kept(START, of).get("changed"))


def unchanged(results, play, of):
    return not changed(results, play, of)


def failed_hosts(play, of):
    return sorted(h for h in play.hosts if play.kept(START, of, h).get("failed"))


def any_failed(_results, play, of):
    return bool(failed_hosts(play, of))


def another_failed(_results, play, of):
    mine = play.kept(START, of)
    return bool(mine.get("changed")) and not mine.get("failed") and any_failed(_results, play, of)


def failures(_results, play, of):
    return "applying failed; the other nodes gave back their state from before the run:\n" + "\n".join(
        "node %s: %s" % (h, play.kept(START, of, h).get("msg") or "it failed") for h in failed_hosts(play, of))


def unverified(_results, play, of):
    """Not every play host was in sync at the preflight, or this node's targets did not all answer there."""
    in_sync = all(play.kept(PREFLIGHT, of, h).get("in_sync") is True for h in play.hosts)
    return not (in_sync and (play.kept(PREFLIGHT, of).get("verify") or {}).get("ok") is True)
