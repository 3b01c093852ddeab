# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: node_failures
short_description: Every node whose registered reconcile result failed, so one node stops the whole run
version_added: 0.3.0
description:
  - Takes the registered results of a C(nodenet.fabric.reconcile) task on every host of the play
    and returns one line per node whose result failed (in the preflight, a foreign device or route
    in the way, a missing underlay device, a VNI and port another device holds; in the apply, a
    line the kernel refused), or that has no result at all (unreachable, or failed before it).
  - Roles run it once (C(run_once)) after the preflight, so that no node changes when any node
    would refuse, and after the apply, so that the other nodes give back their state.
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts that must have passed, normally C(ansible_play_hosts_all) or C(ansible_play_batch).
    type: list
    elements: str
    required: true
  result:
    description: The name the results were registered as.
    type: str
    required: true
  skipped_ok:
    description: A host whose task was skipped (by its C(when)) passed, instead of having no result.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Stop every node if any node's preflight failed
  ansible.builtin.fail:
    msg: "{{ failures | join('\n') }}"
  vars:
    failures: "{{ hostvars | nodenet.fabric.node_failures(ansible_play_hosts_all, 'node_base_preflight_result') }}"
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


def node_failures(hostvars, hosts, result, skipped_ok=False):
    lines = []
    for host in sorted(hosts):
        found = hostvars[host].get(result) if host in hostvars else None
        if skipped_ok and isinstance(found, dict) and found.get("skipped"):
            continue
        if not isinstance(found, dict) or found.get("skipped") and "failed" not in found:
            lines.append("node %s: no result (unreachable, or it failed before this step)" % host)
        elif found.get("failed") or "msg" in found:  # failed_when: false clears `failed`; reconcile sets msg only on failure
            lines.append("node %s: %s" % (host, found.get("msg") or "it failed"))
    return lines


class FilterModule:
    def filters(self):
        return {"node_failures": node_failures}
