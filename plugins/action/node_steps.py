# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node_steps action: one host's node steps, each a module run on the host, in order."""

from __future__ import annotations

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster.objects import plain
from ansible_collections.nodenet.fabric.plugins.plugin_utils.node import engine
from ansible_collections.nodenet.fabric.plugins.plugin_utils.node.steps import START

ARGUMENT_SPEC = dict(
    steps=dict(type="list", elements="dict", required=True),
    stage=dict(type="str"),
)
KEPT = "node_base_node_results"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        task_vars = task_vars or {}
        steps = plain(args["steps"])
        check_mode = bool(self._task.check_mode)

        def execute(module, module_args, check):
            saved = self._task.check_mode, self._task.no_log
            self._task.check_mode = check
            self._task.no_log = saved[1] or any(s.get("secret") for s in steps if s["module"] == module)
            try:
                return self._execute_module(module_name=module, module_args=dict(module_args), task_vars=task_vars)
            except AnsibleError as exc:  # become or the connection failed before the module ran
                return {"failed": True, "msg": to_text(exc.message),
                        "unreachable": isinstance(exc, AnsibleConnectionFailure)}
            finally:
                self._task.check_mode, self._task.no_log = saved

        try:
            run = engine.run_steps(steps, execute, check_mode, play_results=self.kept_by_play(task_vars))
        except (KeyError, TypeError, ValueError, LookupError) as exc:
            return dict(result, failed=True, msg="the node steps are not runnable (%s): they come from the "
                                                 "node_steps filter" % exc)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(run.result())
        if args["stage"]:
            kept = {} if args["stage"] == START else dict(task_vars.get(KEPT) or {})
            # only what a later stage decides on: facts of every host stay in the controller
            kept[args["stage"]] = dict((k, dict((f, bool(v.get(f))) for f in ("changed", "failed")))
                                       for k, v in run.results.items())
            result["ansible_facts"] = {KEPT: kept}
        if self._task.diff and run.diffs:
            result["diff"] = run.diffs
        return result

    @staticmethod
    def kept_by_play(task_vars):
        """Every play host's kept results of the stages before ({stage: {key: result}}), read
        lazily: only a step with only_if reads them."""
        hostvars = task_vars.get("hostvars") or {}
        return (hostvars[h].get(KEPT) for h in task_vars.get("ansible_play_hosts_all") or () if h in hostvars)
