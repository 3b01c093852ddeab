# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counts module runs per host, for the fleet benchmark and the lab tests: each task result (each
loop item) that ran a module, on the node itself or delegated to the controller, by role, and
each module run of a node_steps task (its `module_runs`).
Actions that only run in the controller's process (set_fact, fail, assert, manifest_files, ...)
and skipped results are not module runs. Writes JSON to $NODENET_MODULE_RUNS at the end."""

from __future__ import annotations

import json
import os
from collections import defaultdict

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: module_runs
type: aggregate
short_description: Count module runs per host and role (the lab's and the fleet benchmark's)
description: "Writes C({host: {role: {node: n, controller: n}}}) as JSON to the file named by E(NODENET_MODULE_RUNS)."
requirements: [NODENET_MODULE_RUNS set to a file path]
"""

CONTROLLER_ONLY = {"set_fact", "fail", "assert", "debug", "meta", "include_tasks", "import_tasks", "include_role",
                   "import_role", "validate_argument_spec", "add_host", "group_by", "include_vars", "pause",
                   "cluster_steps"}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "module_runs"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.counts = defaultdict(lambda: defaultdict(lambda: {"node": 0, "controller": 0}))

    def count(self, result, *_args, **_kwargs):
        task = result._task
        if task.action.rsplit(".", 1)[-1] in CONTROLLER_ONLY:
            return
        data = result._result
        if data.get("skipped"):
            return
        role = task._role.get_name(include_role_fqcn=False) if task._role else "playbook"
        if "module_runs" in data:  # node_steps: the modules it ran on the node, and which steps
            runs = data["module_runs"]
            ran = self.counts[result._host.get_name()][role].setdefault("steps", [])
            ran.extend(k for k in sorted(data.get("steps") or {}) if k not in ran)
        else:
            runs = len([r for r in data["results"] if not r.get("skipped")] if "results" in data else [data])
        if not runs:
            return
        where = "controller" if task.delegate_to in ("localhost", "127.0.0.1") else "node"
        self.counts[result._host.get_name()][role][where] += runs

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_unreachable = count

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("NODENET_MODULE_RUNS")
        if path:
            with open(path, "w") as handle:
                json.dump(self.counts, handle, indent=1, sort_keys=True)
