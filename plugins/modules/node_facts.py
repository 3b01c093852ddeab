#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_facts
short_description: Check a node's prerequisites and its underlay against the inventory, changing nothing
version_added: 0.8.0
description:
  - Reads what the roles need from a node and fails, naming the inventory variable to fix, where the
    node disagrees. Every role's preflight runs it with C(become) before any node changes, so a
    node where become does not give root is refused there too.
  - "Reads: the effective user (root), iproute2 and its JSON output (C(ip -j)), nexthop objects
    (C(ip nexthop show); without them the reconcile module uses plain routes, and a warning says
    so), vxlan support (loaded, built in, or loadable by modprobe; nothing is loaded), systemd
    (C(/run/systemd/system)), and the underlay device's addresses and MTU."
author: nodenet.fabric developers (!UNKNOWN)
options:
  expect:
    description: The inventory's view of the node's underlay; each key given is compared.
    type: dict
    default: {}
    suboptions:
      interface:
        description: The underlay device (C(node_interface)); it must exist.
        type: str
      address:
        description:
          - C(node_ip) with the prefix length of C(node_subnet), one per family; the device must hold
            each with that prefix.
        type: list
        elements: str
      mtu:
        description: C(node_mtu); the device's MTU must equal it.
        type: int
  require:
    description: Kernel features the node's plan needs; a missing one is a problem.
    type: list
    elements: str
    choices: [vxlan]
    default: []
  systemd:
    description: The role will enable a boot unit, so systemd must be running.
    type: bool
    default: false
  root:
    description: The module must run as root (uid 0).
    type: bool
    default: true
attributes:
  check_mode: {support: full, description: Read-only; runs the same in check mode.}
  diff_mode: {support: none, description: Changes nothing.}
requirements: [iproute2]
"""

EXAMPLES = r"""
- name: Check the node before any change
  become: true
  nodenet.fabric.node_facts:
    expect:
      interface: eth0
      address: 10.0.0.11/24
      mtu: 1500
    require: [vxlan]
  register: node_base_node_facts
  failed_when: false
"""

RETURN = r"""
facts:
  description: What was read.
  type: dict
  returned: always
  sample:
    uid: 0
    kernel: 6.1.0-18-amd64
    iproute2: ip utility, iproute2-6.1.0, libbpf 1.1.0
    iproute2_json: true
    nexthop: true
    vxlan: true
    systemd: true
    underlay: {name: eth0, addresses: [10.0.0.11/24], mtu: 1500, up: true}
problems:
  description: One line per disagreement, each naming the variable to fix where there is one; the module fails when any.
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nodenet.fabric.plugins.module_utils import node_facts


def main():
    module = AnsibleModule(argument_spec=node_facts.ARGUMENT_SPEC, supports_check_mode=True)
    facts, problems = node_facts.check(module.run_command, module.params)
    if not facts["nexthop"]:
        module.warn(node_facts.NO_NEXTHOP_WARNING)
    if problems:
        module.fail_json(msg="; ".join(problems), problems=problems, facts=facts, changed=False)
    module.exit_json(changed=False, problems=[], facts=facts)


if __name__ == "__main__":
    main()
