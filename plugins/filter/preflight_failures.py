# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_failures
short_description: Every node's preflight conflict, so one failing node stops the whole run
version_added: 0.3.0
description:
  - Takes the registered results of a check-mode C(nodenet.fabric.reconcile) task on every host
    of the play and returns one line per node that cannot be applied (a foreign device or route in
    the way, a missing underlay device, a VNI and port another device holds), or that has no
    result at all (unreachable, or failed before the preflight).
  - Roles run it once (C(run_once)) between the preflight and the apply, so that no node changes
    when any node would refuse.
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts that must have passed, normally C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  result:
    description: The name the preflight result was registered as.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Stop every node if any node's preflight failed
  ansible.builtin.fail:
    msg: "{{ failures | join('\n') }}"
  vars:
    failures: "{{ hostvars | nodenet.fabric.preflight_failures(ansible_play_hosts_all, 'nodenet_preflight') }}"
  when: failures | length > 0
  run_once: true
  any_errors_fatal: true
"""

RETURN = r"""
_value:
  description: One line per node that failed its preflight, sorted by node; empty when all passed.
  type: list
  elements: str
  sample: ["node edge-2: device flannel.1 exists and is of kind vxlan ..."]
"""


def preflight_failures(hostvars, hosts, result):
    lines = []
    for host in sorted(hosts):
        found = hostvars[host].get(result) if host in hostvars else None
        if not isinstance(found, dict) or found.get("skipped") and "failed" not in found:
            lines.append("node %s: no preflight result (unreachable, or it failed before the preflight)" % host)
        elif found.get("failed") or "msg" in found:  # failed_when: false clears `failed`; reconcile sets msg only on failure
            lines.append("node %s: %s" % (host, found.get("msg") or "the preflight failed"))
    return lines


class FilterModule:
    def filters(self):
        return {"preflight_failures": preflight_failures}
