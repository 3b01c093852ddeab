#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bgp_sessions
short_description: Compare a node's BGP sessions and routes (BIRD or kube-router's gobgp) with the expected table, waiting until they match
version_added: 0.4.0
description:
  - One module, a backend per daemon (O(daemon)).
  - C(bird) reads calico-node's BIRD through its control socket (C(birdc show protocols)), the way
    C(calicoctl node status) does, and compares every BGP session with the expected table, by
    peer, type (C(node-to-node mesh), C(node specific), C(global)) and state Established; and
    checks that BIRD has programmed a route (C(proto bird)) to every expected destination via the
    expected gateway.
  - C(gobgp) reads kube-router's embedded gobgp with the gobgp CLI (C(gobgp neighbor -j) against
    its admin port, 127.0.0.1:50051 by default), the way seed 003 checks with C(gobgp neighbor),
    and compares every peer with the expected table by address, AS and state established; and
    checks that kube-router has injected a route (protocol 17, C(zebra)) to every expected
    destination via the expected gateway.
  - Polls until everything matches or O(timeout) runs out, so a role can wait for new sessions
    before it removes old ones (kube-router before kube-proxy goes).
  - Read-only, so it also runs in check mode.
author: nodenet.fabric developers (!UNKNOWN)
options:
  daemon:
    description: Whose sessions, C(bird) (calico-node's BIRD) or C(gobgp) (kube-router's embedded gobgp).
    type: str
    choices: [bird, gobgp]
    default: bird
  expected:
    description:
      - The expected sessions (the C(verify.sessions) of P(nodenet.fabric.calico_bgp_rr_node_plan#filter));
        for C(gobgp), the expected peers [{ip, asn}] (of P(nodenet.fabric.kube_router_install_node_plan#filter)).
    type: list
    elements: dict
    required: true
  routes:
    description: "Routes the daemon must have programmed: [{dst, via}]; a null C(via) accepts any gateway."
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
        alone. Omit to hold every session to the table. C(bird) only.
    type: list
    elements: str
  timeout:
    description: Seconds to keep polling before failing; 0 reads once.
    type: int
    default: 0
  birdc:
    description: The birdc command line, with the control socket calico-node's BIRD (IPv4) uses.
    type: list
    elements: str
    default: [birdc, -s, /var/run/calico/bird.ctl]
  birdc6:
    description:
      - The birdc command line for calico-node's IPv6 BIRD (it runs C(bird6.cfg) on its own socket).
        Read when O(families) holds 6.
    type: list
    elements: str
    default: [birdc, -s, /var/run/calico/bird6.ctl]
  families:
    description:
      - The address families to read, 4 and 6 (the cluster's pod families). C(bird) reads the
        BIRD of each; both backends read the routes of each (C(ip -4)/C(ip -6)).
    type: list
    elements: int
    choices: [4, 6]
    default: [4]
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
requirements: [birdc (BIRD 2) or the gobgp CLI v4, iproute2]
"""

EXAMPLES = r"""
- name: The node's sessions are the expected ones, all Established
  nodenet.fabric.bgp_sessions:
    expected: "{{ calico_bgp_rr_plan.verify.sessions }}"
    routes: "{{ calico_bgp_rr_plan.verify.routes }}"
    timeout: 60

- name: kube-router peers with every other node, and its routes are in place
  nodenet.fabric.bgp_sessions:
    daemon: gobgp
    expected: [{ip: 172.26.6.2, asn: 64512}, {ip: 172.26.6.3, asn: 64512}]
    routes: [{dst: 10.244.1.0/24, via: 172.26.6.2}, {dst: 10.244.2.0/24, via: 172.26.6.3}]
    timeout: 120
"""

RETURN = r"""
table:
  description:
    - One row per expected session with the state the daemon reports (C(missing) when it has none).
    - gobgp's rows are C({ip, asn, state, asn_seen, ok}).
  returned: always
  type: list
  elements: dict
  sample: [{"ip": "172.31.13.116", "type": "node specific", "name": "Node_172_31_13_116", "state": "up",
            "since": "07:52:37", "info": "Established", "ok": true}]
missing:
  description: Expected sessions the daemon does not have.
  returned: always
  type: list
  elements: str
down:
  description: Expected sessions that are not Established (for gobgp, or that answer with another AS).
  returned: always
  type: list
  elements: str
unexpected:
  description: BGP sessions the daemon has that the table does not expect (with O(exact)).
  returned: always
  type: list
  elements: str
other:
  description: BGP sessions to addresses outside O(scope), which are not the table's business.
  returned: with C(bird)
  type: list
  elements: str
routes_missing:
  description: Expected routes the daemon has not programmed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nodenet.fabric.plugins.module_utils import bird, gobgp, session_table

BACKENDS = {"bird": bird, "gobgp": gobgp}


def main():
    module = AnsibleModule(argument_spec=dict(
        daemon=dict(type="str", choices=list(BACKENDS), default="bird"),
        expected=dict(type="list", elements="dict", required=True),
        routes=dict(type="list", elements="dict", default=[]),
        exact=dict(type="bool", default=True),
        scope=dict(type="list", elements="str"),
        timeout=dict(type="int", default=0),
        birdc=dict(type="list", elements="str", default=["birdc", "-s", "/var/run/calico/bird.ctl"]),
        birdc6=dict(type="list", elements="str", default=["birdc", "-s", "/var/run/calico/bird6.ctl"]),
        families=dict(type="list", elements="int", choices=[4, 6], default=[4]),
        gobgp=dict(type="list", elements="str", default=["gobgp"]),
        port=dict(type="int", default=50051)),
        supports_check_mode=True)
    backend = BACKENDS[module.params["daemon"]]
    session_table.wait(module, lambda m: backend.read(m, session_table.routes_of), backend.ESTABLISHED, backend.LABEL)


if __name__ == "__main__":
    main()
