#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kube_router_sessions
short_description: Compare kube-router's BGP peers and routes on a node with the expected table, waiting until they match
version_added: 0.5.0
description:
  - Reads kube-router's embedded gobgp with the gobgp CLI (C(gobgp neighbor -j) against its admin
    port, 127.0.0.1:50051 by default), the way seed 003 checks with C(gobgp neighbor), and
    compares every peer with the expected table by address, AS and state established.
  - Also checks that kube-router has injected a route (protocol 17, C(zebra)) to every expected
    destination via the expected gateway.
  - Polls until everything matches or O(timeout) runs out, so a role can wait for kube-router
    before it removes kube-proxy.
  - Read-only, so it also runs in check mode.
author: nodenet.fabric developers (!UNKNOWN)
options:
  expected:
    description: The expected peers, [{ip, asn}] (the C(verify.sessions) of P(nodenet.fabric.kube_router_node_plan#filter)).
    type: list
    elements: dict
    required: true
  routes:
    description: "Routes kube-router must have injected: [{dst, via}]; a null C(via) accepts any gateway."
    type: list
    elements: dict
    default: []
  exact:
    description: Also fail on peers the table does not expect.
    type: bool
    default: true
  timeout:
    description: Seconds to keep polling before failing; 0 reads once.
    type: int
    default: 0
  gobgp:
    description:
      - The gobgp CLI command line (gobgp v4, as kube-router v2.10 embeds), without arguments.
        Where the CLI is only in the kube-router image, give a command that runs it there, such
        as C([crictl, exec, <container>, gobgp]).
    type: list
    elements: str
    default: [gobgp]
  port:
    description: kube-router's gobgp admin port (C(--gobgp-admin-port)).
    type: int
    default: 50051
attributes:
  check_mode: {support: full, description: Read-only; runs the same in check mode.}
  diff_mode: {support: none, description: Changes nothing.}
requirements: [gobgp CLI v4, iproute2]
"""

EXAMPLES = r"""
- name: kube-router peers with every other node, and its routes are in place
  nodenet.fabric.kube_router_sessions:
    expected: [{ip: 172.26.6.2, asn: 64512}, {ip: 172.26.6.3, asn: 64512}]
    routes: [{dst: 10.244.1.0/24, via: 172.26.6.2}, {dst: 10.244.2.0/24, via: 172.26.6.3}]
    timeout: 120
"""

RETURN = r"""
table:
  description: One row per expected peer with the state gobgp reports (C(missing) when it has none).
  returned: always
  type: list
  elements: dict
  sample: [{"ip": "172.26.6.2", "asn": 64512, "state": "established", "asn_seen": 64512, "ok": true}]
missing:
  description: Expected peers gobgp does not have.
  returned: always
  type: list
  elements: str
down:
  description: Expected peers that are not established, or that answer with another AS.
  returned: always
  type: list
  elements: str
unexpected:
  description: Peers gobgp has that the table does not expect (with O(exact)).
  returned: always
  type: list
  elements: str
routes_missing:
  description: Expected routes kube-router has not injected.
  returned: always
  type: list
  elements: str
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nodenet.fabric.plugins.module_utils import gobgp, session_table


def read(module):
    argv = list(module.params["gobgp"]) + ["-p", str(module.params["port"]), "neighbor", "-j"]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        return None, "gobgp failed (is kube-router running with --run-router?): %s" % (err or out).strip()
    try:
        sessions = gobgp.parse_neighbors(json.loads(out or "[]"))
    except ValueError:
        return None, "gobgp printed no JSON: %s" % out[:200]
    routes, error = (session_table.routes_of(module, gobgp.KUBE_ROUTER_PROTOCOL) if module.params["routes"]
                     else ([], None))
    if error:
        return None, error
    result = gobgp.compare(module.params["expected"], sessions, module.params["exact"])
    result["routes_missing"] = gobgp.missing_routes(module.params["routes"], routes)
    return result, None


def main():
    module = AnsibleModule(argument_spec=dict(
        expected=dict(type="list", elements="dict", required=True),
        routes=dict(type="list", elements="dict", default=[]),
        exact=dict(type="bool", default=True),
        timeout=dict(type="int", default=0),
        gobgp=dict(type="list", elements="str", default=["gobgp"]),
        port=dict(type="int", default=50051)),
        supports_check_mode=True)
    session_table.wait(module, read, "established", "kube-router's BGP peers")


if __name__ == "__main__":
    main()
