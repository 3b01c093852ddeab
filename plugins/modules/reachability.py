#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: reachability
short_description: Ping many targets from the node at once and fail if any is unreachable
version_added: 0.1.0
description:
  - Runs one C(ping) per target, all concurrently, retrying failures, and reports which answered.
  - Read-only, so it also runs in check mode.
author: nodenet.fabric developers (!UNKNOWN)
options:
  targets:
    description:
      - IPv4 addresses to ping, as a list or one comma-separated string (the plan filters'
        C(verify.targets)). Empty entries are ignored, so no targets means nothing to ping.
    type: list
    elements: str
    required: true
  attempts:
    description: Rounds of pings before a target counts as unreachable.
    type: int
    default: 3
  timeout:
    description: Seconds to wait for each reply.
    type: int
    default: 1
attributes:
  check_mode: {support: full, description: Read-only; runs the same in check mode.}
  diff_mode: {support: none, description: Changes nothing.}
requirements: [ping (iputils-ping)]
"""

EXAMPLES = r"""
- name: Every mesh peer answers on its vxlan IP
  nodenet.fabric.reachability:
    targets: "{{ vxlan_mesh_plan.verify.targets }}"
"""

RETURN = r"""
reachable:
  description: Targets that answered.
  type: list
  elements: str
  returned: always
unreachable:
  description: Targets that did not answer in any attempt.
  type: list
  elements: str
  returned: always
"""

import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule


def ping_all(module, ping, targets, attempts, timeout):
    """Every target pinged at once (a thread per ping), so unreachable ones cost one timeout."""
    pending, reachable = list(targets), []

    def answers(target):
        return module.run_command([ping, "-n", "-q", "-c", "1", "-W", str(timeout), target])[0] == 0

    with ThreadPoolExecutor(max_workers=32) as pool:
        for attempt in range(attempts):
            if attempt:
                time.sleep(0.3)
            results = list(zip(pending, pool.map(answers, pending)))
            reachable += [t for t, ok in results if ok]
            pending = [t for t, ok in results if not ok]
            if not pending:
                break
    return reachable, pending


def main():
    module = AnsibleModule(argument_spec=dict(
        targets=dict(type="list", elements="str", required=True),
        attempts=dict(type="int", default=3),
        timeout=dict(type="int", default=1)), supports_check_mode=True)
    targets = [t.strip() for t in module.params["targets"] if t.strip()]
    if not targets:
        module.exit_json(changed=False, reachable=[], unreachable=[])
    ping = module.get_bin_path("ping", required=True)
    reachable, unreachable = ping_all(module, ping, targets, module.params["attempts"], module.params["timeout"])
    result = dict(changed=False, reachable=sorted(reachable), unreachable=sorted(unreachable))
    if unreachable:
        module.fail_json(msg="unreachable: %s" % ", ".join(sorted(unreachable)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
