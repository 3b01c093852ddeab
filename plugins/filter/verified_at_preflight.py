# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: verified_at_preflight
short_description: The nodes whose preflight already checked the final fabric, when no node of the play changes
version_added: 0.8.0
description:
  - Takes the registered results of a check-mode C(nodenet.fabric.reconcile) preflight given
    O(nodenet.fabric.reconcile#module:verify), on every host of the play.
  - When every host is in sync, nothing will change anywhere, so what each node's preflight
    pinged is the fabric as the run leaves it. Returns the hosts whose every target answered
    then; their check after the apply can be skipped.
  - When any host is not in sync, or has no result, returns an empty list, and every node is
    checked after every node applied.
  - Roles run it once (C(run_once)), so that its cost does not grow with the square of the hosts.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory.play_results
options:
  result:
    description: The name the preflight's results were registered as.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Note which nodes need no check after the apply
  ansible.builtin.set_fact:
    node_base_verified_hosts: "{{ hostvars | nodenet.fabric.verified_at_preflight(ansible_play_hosts_all, 'node_base_preflight_result') }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: Sorted host names; empty unless every host was in sync.
  type: list
  elements: str
  sample: ["fleet00-01", "fleet00-02"]
"""


def verified_at_preflight(hostvars, hosts, result):
    found = dict((host, hostvars[host].get(result) if host in hostvars else None) for host in hosts)
    if not all(isinstance(r, dict) and r.get("in_sync") is True for r in found.values()):
        return []
    return sorted(host for host, r in found.items() if (r.get("verify") or {}).get("ok") is True)


class FilterModule:
    def filters(self):
        return {"verified_at_preflight": verified_at_preflight}
