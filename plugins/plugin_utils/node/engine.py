# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one host's node steps in order through `execute(module, args, check_mode)` (the action
gives it: a module run on the host). A step that fails stops the rest, except a `read` step,
whose failure is kept for a later step to decide on. `changed` is whether any step that could
change something did, a failed one included."""

from __future__ import annotations

import time

from ..cluster.steps import function_named

KEPT_OF_SECRET = ("changed", "failed", "msg", "diff", "skipped")
# What node_failures reads of a failed module run (why it failed, or what stopped it first).
FAILURE_KEYS = ("msg", "problems", "module_stderr", "module_stdout", "unreachable", "conflicts")


class NodeRun:
    def __init__(self):
        self.results = {}
        self.diffs = []
        self.changed = False
        self.failed = None
        self.report = {}
        self.runs = 0

    def result(self):
        result = {"changed": self.changed, "steps": self.results, "module_runs": self.runs}
        if self.report:
            result["report"] = self.report
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
    holds = function_named(step["until"]) if step.get("until") else None
    deadline = clock() + float(step.get("timeout") or 0)
    while True:
        run.runs += 1
        found = execute(step["module"], step["args"], check)
        if holds is None:
            return found
        if holds(found) or clock() >= deadline:
            return found
        sleep(step.get("delay", 2))


def run_steps(steps, execute, check_mode=False, play_results=(), sleep=time.sleep, clock=time.monotonic):
    """`play_results`: every play host's kept results of the stages before (for `only_if`)."""
    run = NodeRun()
    for step in steps:
        if step.get("action") == "gate":
            raise ValueError("node steps hold a gate: ask for one stage (node_steps' stage)")
        if (check_mode and step.get("live_only")) or (
                step.get("only_if") and not function_named(step["only_if"])(run.results, list(play_results))):
            continue
        found = attempt(run, step, execute, check_mode, sleep, clock)
        if step.get("secret"):
            found = masked(found, step)
        run.results[step["key"]] = found
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
