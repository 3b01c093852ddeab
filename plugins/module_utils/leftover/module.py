# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The thin shell of a leftover-cleanup module: the node through an AnsibleModule, the options
both modules share, and main()."""

from __future__ import absolute_import, division, print_function

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.engine import CleanupError, cleanup

__metaclass__ = type


class ModuleNode:
    """The node as the backend sees it through an AnsibleModule: tools found in PATH and the sbin
    folders, commands run with the C locale so kernel messages read the same everywhere."""

    def __init__(self, module):
        self.module = module

    def which(self, tool):
        return self.module.get_bin_path(tool)

    def run(self, argv, stdin=None):
        return self.module.run_command(argv, data=stdin, binary_data=True,
                                       environ_update={"LC_ALL": "C", "LANG": "C"})


# The options both modules share (the leftover_cleanup doc fragment documents them).
COMMON_ARGS = dict(
    iptables_backends=dict(type="list", elements="str", choices=["nft", "legacy"], default=["nft", "legacy"]),
    ipset=dict(type="bool", default=True),
)


def run_module(owner, argument_spec):
    """A leftover-cleanup module's main(): the shared options plus its own, the cleanup for
    `owner`, then fail or exit."""
    module = AnsibleModule(argument_spec=dict(COMMON_ARGS, **argument_spec), supports_check_mode=True)
    try:
        result = cleanup(ModuleNode(module), module.params, check_mode=module.check_mode, want_diff=module._diff,
                         owner=owner)
    except ValueError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except CleanupError as exc:
        module.fail_json(msg=str(exc), **dict(dict(changed=False), **exc.result))
    module.exit_json(**result)
