# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster_steps action: the cluster engine, in the controller's own process."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster import engine
from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster.objects import plain

ARGUMENT_SPEC = dict(
    steps=dict(type="list", elements="dict", required=True),
    folder=dict(type="path"),
    wait_timeout=dict(type="int", default=300),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            run = engine.run_steps(plain(args["steps"]), check_mode=self._task.check_mode,
                                   timeout=args["wait_timeout"], folder=args["folder"])
        except (KeyError, TypeError) as exc:
            return dict(result, failed=True, msg="a step lacks %s (steps come from a plan filter)" % exc)
        result.update(run.result())
        if self._task.diff and run.diffs:
            result["diff"] = run.diffs
        return result
