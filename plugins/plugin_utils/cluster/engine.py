# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A facet's ordered cluster steps, run in order. A step is one action on one cluster:
{cluster, kubeconfig, context, api, action, name, objects, ...} (the verbs say what each action
reads). A step with `file` renders its objects into <folder>/<cluster>/<file> first, on every
cluster, also one without API access (render only), where nothing else runs. After a step fails,
the steps of the same name on the other clusters still run, so the run names every cluster that
failed there, and nothing after them runs. Check mode changes nothing and reports what would."""

from __future__ import annotations

import re
from collections import OrderedDict

from . import files as manifest_files

from . import verbs
from .api import Api, ApiError

# A secret's token or password that an error message might quote.
SECRET = re.compile(r"(?i)(bearer\s+|token[\"']?\s*[:=]\s*[\"']?|password[\"']?\s*[:=]\s*[\"']?)[^\s\"',]+")


def redacted(message):
    return " ".join(SECRET.sub(r"\1<redacted>", str(message)).split())


class Run:
    """The outcome: what changed (rows per step), the diffs, the files written, the checks'
    problems, and the failures (one line per cluster and object)."""

    def __init__(self):
        self.rows = []
        self.diffs = []
        self.files = []
        self.problems = []
        self.failures = []

    @property
    def changed(self):
        return bool(self.rows or self.files)

    def result(self):
        result = {"changed": self.changed, "changes": self.rows, "files": self.files, "problems": self.problems}
        if self.failures:
            result.update(failed=True, msg="\n".join(self.failures))
        return result


def render(run, step, folder, check_mode):
    files = manifest_files.rendered([{"cluster": step["cluster"], "manifests": step.get("objects", [])}], folder, step["file"], bool(step.get("secret")))
    for path, before in manifest_files.sync(files, check_mode):
        run.files.append(path)
        if not step.get("secret"):
            run.diffs.append({"before_header": path, "after_header": path, "before": before or "",
                              "after": files[path][0]})


def run_steps(steps, check_mode=False, timeout=300, folder=None, api=None, sleep=1.0):
    """Run the steps in order; `api(kubeconfig, context)` makes a cluster's client (one per cluster)."""
    clients = {}
    make = api or Api
    run = Run()
    failed_at = None
    changed = {}
    for step in steps:
        if failed_at is not None and step.get("name") != failed_at:
            break
        try:
            if step.get("file") and folder:
                render(run, step, folder, check_mode)
        except (IOError, OSError) as exc:
            run.failures.append("cluster %s: writing %s failed: %s" % (step["cluster"], step["file"], exc))
            failed_at = step.get("name")
            continue
        if not step.get("api"):
            continue
        access = (step.get("kubeconfig"), step.get("context"))
        if access not in clients:
            clients[access] = make(*access)
        ctx = verbs.Context(clients[access], check_mode, timeout, sleep=sleep)
        try:
            if step["action"] == "check":
                run.problems += verbs.check(ctx, step)
                continue
            done = changed.setdefault(step["cluster"], set())
            changes = verbs.VERBS[step["action"]](ctx, step) if verbs.wanted(ctx, step, done) else []
        except verbs.StepFailed as exc:
            run.failures.append("cluster %s, %s: %s" % (step["cluster"], exc.what, redacted(exc.message)))
            failed_at = step.get("name")
            continue
        except ApiError as exc:
            run.failures.append("cluster %s: %s" % (step["cluster"], redacted(exc.message)))
            failed_at = step.get("name")
            continue
        if changes:
            done.add(step.get("name"))
        for change in changes:
            run.rows.append("cluster %s, %s: %s" % (step["cluster"], step.get("name") or step["action"], change.row()))
            if change.before != change.after:
                run.diffs.append({"before_header": "%s (cluster %s)" % (change.what, step["cluster"]),
                                  "after_header": "%s (cluster %s)" % (change.what, step["cluster"]),
                                  "before": change.before or {}, "after": change.after or {}})
    return run


def steps_by_name(steps):
    """{name: [steps]} in order, for tests and reports."""
    grouped = OrderedDict()
    for step in steps:
        grouped.setdefault(step.get("name"), []).append(step)
    return grouped
