# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: flannel_hostgw_rp_filter
short_description: Why a node's strict reverse-path filtering would break the switch to host-gw
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.hostgw_rp_filter) still works (deprecated).
  - During the switch a node that already routes its peers over the underlay still receives
    packets of peers on vxlan over C(flannel.<VNI>), and the other way round. Under strict
    reverse-path filtering (C(rp_filter) 1, the effective value being the higher of C(all) and the
    interface's) each side drops them. Returns the problem, or an empty string.
options:
  _input:
    description: The output of C(grep -H '') over the files in the node plan's C(preflight.rp_filter).
    type: str
    required: true
  host:
    description: The node, named in the message.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse strict reverse-path filtering
  ansible.builtin.assert:
    that: (flannel_hostgw_rp_filter.stdout | nodenet.fabric.flannel_hostgw_rp_filter(inventory_hostname)) == ""
"""

RETURN = r"""
_value:
  description: The problem, naming the node and the interfaces, or an empty string.
  type: str
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.flannel_hostgw import model as hostgw


def flannel_hostgw_rp_filter(read, host):
    return hostgw.rp_filter_problem(host, read)


class FilterModule:
    def filters(self):
        return {"flannel_hostgw_rp_filter": flannel_hostgw_rp_filter}
