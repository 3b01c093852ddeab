# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a facet writes its node steps: one module run on the host each, and the gates of its
cluster order between them. A role runs its stages in turn: at each, every host's node steps up
to the next gate, then the cluster steps after the same gate. `PREFLIGHT` names the steps a
host runs, all in check mode, before anything changes anywhere."""

from __future__ import annotations

from ..cluster.steps import gate, gates, named, stage

__all__ = ["PREFLIGHT", "START", "fail", "gate", "gates", "module", "named", "stage", "warn"]

PREFLIGHT = "preflight"
# The name a host keeps its results of the first stage under (the others: their gate's).
START = "start"
COLLECTION = "nodenet.fabric."


def module(name, module_name, args, key=None, check=False, read=False, until=None, timeout=None, delay=2,
           only_if=None, live_only=False, report=None, secret=False, of=None, keep=(), args_from=None,
           unprivileged=False):
    """Run `module_name` (of this collection, or a full name: ansible.builtin.stat) with `args`.

    - key: the name its result is kept under (for a later step's only_if; default: the module's);
    - check: always in check mode (it reads, or waits on what something else makes);
    - read: a failure is kept in the result and the steps go on (a read before a decision);
    - until: a function (see `named`) of the result; the step runs again every `delay` seconds
      until it holds, for at most `timeout` seconds;
    - only_if: a function (see `named`) of (this host's results so far, an engine.Play: what
      this host and every play host kept of the stages before), and of `of` when given (the key
      it reads), whether the step runs;
    - live_only: skipped in check mode (it waits for what a check run never makes);
    - report: a key of the result the role shows (a session table);
    - secret: the arguments hold passwords: the result is cut to changed, failed, msg and diff,
      and every password value is masked in it;
    - keep: result keys a later stage reads besides changed and failed (kept as a fact: small);
    - args_from: {argument: (stage, key, field)} taken from this host's kept results; the step
      is skipped when that was not kept;
    - unprivileged: run as the connection's user, without the task's become (it needs no root)."""
    result = {"action": "module", "name": name, "args": args, "key": key or module_name,
              "module": module_name if "." in module_name else COLLECTION + module_name}
    options = {"check": check, "read": read, "until": until, "timeout": timeout, "only_if": only_if,
               "live_only": live_only, "report": report, "secret": secret, "of": of, "keep": list(keep),
               "args_from": args_from, "unprivileged": unprivileged}
    result.update((k, v) for k, v in options.items() if v)
    if until:
        result["delay"] = delay
    return result


def fail(name, only_if, message, of=None):
    """Stop this host's steps, failing with `message` (a function, as only_if's), when `only_if` holds."""
    return said("fail", name, only_if, message, of)


def warn(name, only_if, message, of=None, live_only=False):
    """Add `message` (a function, as only_if's) to the run's warnings when `only_if` holds."""
    return dict(said("warn", name, only_if, message, of), **({"live_only": True} if live_only else {}))


def said(action, name, only_if, message, of):
    result = {"action": action, "name": name, "only_if": only_if, "message": message}
    if of is not None:
        result["of"] = of
    return result
