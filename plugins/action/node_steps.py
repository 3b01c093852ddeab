# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node_steps action: one host's node steps, each a module run on the host, in order."""

from __future__ import annotations

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster.objects import plain
from ansible_collections.nodenet.fabric.plugins.plugin_utils.node import engine
from ansible_collections.nodenet.fabric.plugins.plugin_utils.node.steps import PREFLIGHT, START

ARGUMENT_SPEC = dict(
    steps=dict(type="list", elements="dict", required=True),
    stage=dict(type="str"),
)
KEPT = "node_base_node_results"
PLAY_KEPT = "node_base_play_results"  # every play host's, as the node_results filter gives them


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

        def execute(module, module_args, check, become=True):
            saved = self._task.check_mode, self._task.no_log, self._connection.become
            self._task.check_mode = check
            if not become:
                self._connection.set_become_plugin(None)
            self._task.no_log = saved[1] or any(s.get("secret") for s in steps if s.get("module") == module)
            try:
                return self._execute_module(module_name=module, module_args=dict(module_args), task_vars=task_vars)
            except AnsibleError as exc:  # become or the connection failed before the module ran
                return {"failed": True, "msg": to_text(exc.message),
                        "unreachable": isinstance(exc, AnsibleConnectionFailure)}
            finally:
                self._task.check_mode, self._task.no_log = saved[:2]
                self._connection.set_become_plugin(saved[2])

        try:
            play = engine.Play(task_vars.get(KEPT), task_vars.get(PLAY_KEPT))
            run = engine.run_steps(steps, execute, check_mode, play)
        except (KeyError, TypeError, ValueError, LookupError) as exc:
            return dict(result, failed=True, msg="the node steps are not runnable (%s): they come from the "
                                                 "node_steps filter" % exc)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(run.result())
        if args["stage"]:
            result["ansible_facts"] = {KEPT: self.kept(args["stage"], task_vars.get(KEPT) or {}, run.kept)}
        if self._task.diff and run.diffs:
            result["diff"] = run.diffs
        return result

    @staticmethod
    def kept(stage, before, now):
        """This host's kept results with this stage's: a preflight starts them afresh; the start
        of a role's stages keeps only its preflight (the run's own, moments before)."""
        if stage == PREFLIGHT:
            kept = {}
        elif stage == START:
            kept = dict((k, v) for k, v in before.items() if k == PREFLIGHT)
        else:
            kept = dict(before)
        kept[stage] = now
        return kept
