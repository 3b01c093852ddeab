#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bgp_sessions
short_description: Compare a node's BIRD sessions and routes with the expected table, waiting until they match
version_added: 0.4.0
description:
  - Reads calico-node's BIRD through its control socket (C(birdc show protocols)), the way
    C(calicoctl node status) does, and compares every BGP session with the expected table, by
    peer, type (C(node-to-node mesh), C(node specific), C(global)) and state Established.
  - Also checks that BIRD has programmed a route (C(proto bird)) to every expected destination via
    the expected gateway.
  - Polls until everything matches or O(timeout) runs out, so a role can wait for new sessions
    before it removes old ones.
  - Read-only, so it also runs in check mode.
author: nodenet.fabric developers (!UNKNOWN)
options:
  expected:
    description: The expected sessions (the C(verify.sessions) of P(nodenet.fabric.calico_bgp_node_plan#filter)).
    type: list
    elements: dict
    required: true
  routes:
    description: "Routes BIRD must have programmed: [{dst, via}]; a null C(via) accepts any gateway."
    type: list
    elements: dict
    default: []
  exact:
    description: Also fail on BGP sessions the table does not expect (to an address in O(scope)).
    type: bool
    default: true
  scope:
    description:
      - The addresses the table speaks for (the cluster's nodes and its external peers). A session
        to any other address, from a BGPPeer someone else made, is reported in RV(other) and left
        alone. Omit to hold every session to the table.
    type: list
    elements: str
  timeout:
    description: Seconds to keep polling before failing; 0 reads once.
    type: int
    default: 0
  birdc:
    description: The birdc command line, with the control socket calico-node's BIRD uses.
    type: list
    elements: str
    default: [birdc, -s, /var/run/calico/bird.ctl]
attributes:
  check_mode: {support: full, description: Read-only; runs the same in check mode.}
  diff_mode: {support: none, description: Changes nothing.}
requirements: [birdc (BIRD 2), iproute2]
"""

EXAMPLES = r"""
- name: The node's sessions are the expected ones, all Established
  nodenet.fabric.bgp_sessions:
    expected: "{{ calico_bgp_rr_plan.verify.sessions }}"
    routes: "{{ calico_bgp_rr_plan.verify.routes }}"
    timeout: 60
"""

RETURN = r"""
table:
  description: One row per expected session with the state BIRD reports (C(missing) when BIRD has none).
  returned: always
  type: list
  elements: dict
  sample: [{"ip": "172.31.13.116", "type": "node specific", "name": "Node_172_31_13_116", "state": "up",
            "since": "07:52:37", "info": "Established", "ok": true}]
missing:
  description: Expected sessions BIRD does not have.
  returned: always
  type: list
  elements: str
down:
  description: Expected sessions that are not Established.
  returned: always
  type: list
  elements: str
unexpected:
  description: BGP sessions BIRD has that the table does not expect (with O(exact)).
  returned: always
  type: list
  elements: str
other:
  description: BGP sessions to addresses outside O(scope), which are not the table's business.
  returned: always
  type: list
  elements: str
routes_missing:
  description: Expected routes BIRD has not programmed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nodenet.fabric.plugins.module_utils import bird, session_table


def read(module):
    rc, out, err = module.run_command(list(module.params["birdc"]) + ["show", "protocols"])
    if rc != 0:
        return None, "birdc failed: %s" % (err or out).strip()
    sessions = bird.parse_protocols(out)
    routes, error = session_table.routes_of(module, bird.BIRD_PROTOCOL) if module.params["routes"] else ([], None)
    if error:
        return None, error
    result = bird.compare(module.params["expected"], sessions, module.params["exact"], module.params["scope"])
    result["routes_missing"] = bird.missing_routes(module.params["routes"], routes)
    return result, None


def main():
    module = AnsibleModule(argument_spec=dict(
        expected=dict(type="list", elements="dict", required=True),
        routes=dict(type="list", elements="dict", default=[]),
        exact=dict(type="bool", default=True),
        scope=dict(type="list", elements="str"),
        timeout=dict(type="int", default=0),
        birdc=dict(type="list", elements="str", default=["birdc", "-s", "/var/run/calico/bird.ctl"])),
        supports_check_mode=True)
    session_table.wait(module, read, "Established", "BGP sessions")


if __name__ == "__main__":
    main()
