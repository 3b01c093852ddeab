# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The manifest_files action: renders on the controller, in its own process."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.nodenet.fabric.plugins.plugin_utils.manifest_files import rendered, sync

ARGUMENT_SPEC = dict(
    items=dict(type="list", elements="dict", required=True),
    folder=dict(type="path", required=True),
    file=dict(type="str", required=True),
    secret=dict(type="bool", default=False),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            files = rendered(args["items"], args["folder"], args["file"], args["secret"])
            changed = sync(files, self._task.check_mode)
        except (KeyError, TypeError) as exc:
            return dict(result, failed=True, msg="an item lacks cluster or manifests: %s" % exc)
        except (IOError, OSError) as exc:
            return dict(result, failed=True, msg="writing the manifests failed: %s" % exc)
        result.update(changed=bool(changed), files=[path for path, _before in changed])
        if self._task.diff and not args["secret"]:
            result["diff"] = [dict(before_header=path, after_header=path, before=before or "", after=files[path][0])
                              for path, before in changed]
        return result
