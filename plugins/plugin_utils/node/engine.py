# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one host's node steps in order through `execute(module, args, check_mode)` (the action
gives it: a module run on the host). A step that fails stops the rest, except a `read` step,
whose failure is kept for a later step to decide on; a `fail` step stops them when its
condition holds, and a `warn` step adds its message to the run's warnings. `changed` is whether any step that could change something did, a failed one
included. `kept` is what a later stage may decide on: changed and failed of each result, what
the step asks to keep, and a failure's message."""

from __future__ import annotations

import time

from ..cluster.steps import function_named

KEPT_OF_SECRET = ("changed", "failed", "msg", "diff", "skipped")
# What node_failures reads of a failed module run (why it failed, or what stopped it first).
FAILURE_KEYS = ("msg", "problems", "module_stderr", "module_stdout", "unreachable", "conflicts")


class Play:
    """What a condition reads besides this run's results: this host's kept results of the stages
    before (`own`, {stage: {key: kept}}) and every play host's (`hosts`, {host: that, `shared`};
    a function giving them is called only when a condition asks)."""

    def __init__(self, own=None, hosts=None):
        self.own = own or {}
        self._hosts = hosts

    @property
    def hosts(self):
        if callable(self._hosts):
            self._hosts = self._hosts()
        return self._hosts or {}

    def kept(self, stage, key, host=None):
        """One kept result ({} when there is none)."""
        kept = self.own if host is None else self.hosts.get(host)
        return ((kept or {}).get(stage) or {}).get(key) or {}


class NodeRun:
    def __init__(self):
        self.results = {}
        self.kept = {}
        self.diffs = []
        self.changed = False
        self.failed = None
        self.report = {}
        self.warnings = []
        self.runs = 0

    def result(self):
        result = {"changed": self.changed, "steps": self.results, "module_runs": self.runs}
        if self.report:
            result["report"] = self.report
        if self.warnings:
            result["warnings"] = self.warnings
        if self.failed is not None:
            name, found = self.failed
            result["failed"] = True
            result.update((k, found[k]) for k in FAILURE_KEYS if k in found)
            result["msg"] = found.get("msg") or "%s: it failed" % name  # the module's own words, as a task's
            result["step"] = name
        return result


def masked(found, step):
    """A secret step's result: only what says what happened, with every password value masked."""
    values = [str(v) for v in passwords(step["args"]) if v]
    kept = dict((k, found[k]) for k in KEPT_OF_SECRET if k in found)

    def mask(value):
        if isinstance(value, dict):
            return dict((k, mask(v)) for k, v in value.items())
        if isinstance(value, list):
            return [mask(v) for v in value]
        if isinstance(value, str):
            for secret in values:
                value = value.replace(secret, "********")
        return value
    return mask(kept)


def passwords(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "password" and isinstance(item, str):
                yield item
            else:
                yield from passwords(item)
    elif isinstance(value, list):
        for item in value:
            yield from passwords(item)


def attempt(run, step, execute, check_mode, sleep, clock):
    """Run the step once, or until its condition holds (or its time is up: the last result)."""
    check = check_mode or bool(step.get("check"))
    done = function_named(step["until"]) if step.get("until") else None
    deadline = clock() + float(step.get("timeout") or 0)
    while True:
        run.runs += 1
        found = execute(step["module"], step["args"], check, **({"become": False} if step.get("unprivileged") else {}))
        if done is None:
            return found
        if done(found) or clock() >= deadline:
            return found
        sleep(step.get("delay", 2))


def shared(kept):
    """What another host's condition may read of a host's kept results: no document, no list."""
    return dict((stage, dict((key, dict((k, v) for k, v in entry.items() if isinstance(v, bool) or k == "msg"))
                             for key, entry in (found or {}).items()))
                for stage, found in (kept or {}).items())


def holds(step, function, run, play):
    return function_named(step[function])(run.results, play, *([step["of"]] if "of" in step else []))


def resolved(step, play):
    """The step's arguments with those it takes from this host's kept results; None when one is not kept."""
    args = dict(step["args"])
    for name, (stage, key, field) in (step.get("args_from") or {}).items():
        value = play.kept(stage, key).get(field)
        if value is None:
            return None
        args[name] = value
    return args


def kept_of(step, found):
    kept = dict((k, bool(found.get(k))) for k in ("changed", "failed"))
    kept.update((k, found[k]) for k in step.get("keep") or () if k in found)
    if found.get("failed"):
        kept["msg"] = str(found.get("msg") or "it failed")
    return kept


def run_steps(steps, execute, check_mode=False, play=None, sleep=time.sleep, clock=time.monotonic):
    """`play`: what conditions read of the stages before (a Play)."""
    run, play = NodeRun(), play or Play()
    for step in steps:
        if step.get("action") == "gate":
            raise ValueError("node steps hold a gate: ask for one stage (node_steps' stage)")
        if (check_mode and step.get("live_only")) or (step.get("only_if") and not holds(step, "only_if", run, play)):
            continue
        if step.get("action") == "fail":
            run.failed = (step["name"], {"msg": holds(step, "message", run, play)})
            break
        if step.get("action") == "warn":
            run.warnings.append(holds(step, "message", run, play))
            continue
        args = resolved(step, play)
        if args is None:
            continue
        found = attempt(run, dict(step, args=args), execute, check_mode, sleep, clock)
        if step.get("secret"):
            found = masked(found, step)
        run.results[step["key"]] = found
        run.kept[step["key"]] = kept_of(step, found)
        if found.get("changed") and not step.get("check"):
            run.changed = True
        if found.get("diff") and not step.get("check"):
            run.diffs.extend(found["diff"] if isinstance(found["diff"], list) else [found["diff"]])
        if step.get("report") and step["report"] in found:
            run.report[step["key"]] = found[step["report"]]
        if found.get("failed") and not step.get("read"):
            run.failed = (step["name"], found)
            break
    return run


def settled(found):
    """A cleanup's condition: done, or stopped by a rule it does not own (reading again won't help)."""
    return not found.get("failed") or bool(found.get("conflicts"))
