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
  - One process sweeps every target with ICMP echo over one socket (raw as root, else an
    unprivileged ICMP socket where C(net.ipv4.ping_group_range) allows it), in paced bursts; each
    round asks again only the targets still silent, and O(deadline) bounds the whole sweep. The
    cost grows with the number of targets in packets, not in processes.
  - Where no ICMP socket can be opened, falls back to the C(ping) program, at most 16 at a time.
  - Read-only, so it also runs in check mode.
author: nodenet.fabric developers (!UNKNOWN)
options:
  targets:
    description:
      - IPv4 and IPv6 addresses to ping, as a list or one comma-separated string (the plan filters'
        C(verify.targets)). Empty entries are ignored, so no targets means nothing to ping. Each
        family is swept over its own socket (ICMP, ICMPv6), both at once.
    type: list
    elements: str
    required: true
  attempts:
    description: Rounds of pings before a target counts as unreachable.
    type: int
    default: 3
  timeout:
    description: Seconds a round waits for replies.
    type: int
    default: 1
  deadline:
    description: Seconds the whole sweep may take, whatever the rounds left; 0 gives O(attempts) times O(timeout) and one more.
    type: int
    default: 0
attributes:
  check_mode: {support: full, description: Read-only; runs the same in check mode.}
  diff_mode: {support: none, description: Changes nothing.}
requirements: [ping (iputils-ping), only where no ICMP socket can be opened]
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
method:
  description:
    - C(socket) (one process, one socket per family), C(ping) (the fallback), or C(none) (no
      targets); C(ping+socket) where one family had to fall back.
  type: str
  returned: always
  sample: socket
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nodenet.fabric.plugins.module_utils.icmp_sweep import reach


def main():
    module = AnsibleModule(argument_spec=dict(
        targets=dict(type="list", elements="str", required=True),
        attempts=dict(type="int", default=3),
        timeout=dict(type="int", default=1),
        deadline=dict(type="int", default=0)), supports_check_mode=True)
    result = reach(module, module.params["targets"], module.params["attempts"], module.params["timeout"],
                   module.params["deadline"])
    result["changed"] = False
    unreachable = result["unreachable"]
    if unreachable:
        module.fail_json(msg="unreachable: %s" % ", ".join(sorted(unreachable)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
