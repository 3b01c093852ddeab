#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kube_router_cleanup
short_description: Remove kube-router's leftovers from a node once kube-router has stopped, as C(kube-router --cleanup-config) does
version_added: 0.5.0
description:
  - Reads the node's iptables (both address families, each backend in O(iptables_backends)),
    ipsets, links and routes, and removes what kube-router v2 (router, firewall and service proxy)
    leaves behind. Needs no kube-router binary and no cluster.
  - "Ownership is the list kube-router's own cleanup works from: in filter C(KUBE-ROUTER-INPUT),
    C(KUBE-ROUTER-FORWARD), C(KUBE-ROUTER-OUTPUT), C(KUBE-ROUTER-SERVICES) and every
    C(KUBE-NWPLCY-*) and C(KUBE-POD-FW-*) chain; in nat C(KUBE-ROUTER-HAIRPIN). These chains are
    flushed and deleted, with every rule of filter C(INPUT), C(FORWARD), C(OUTPUT) and nat
    C(POSTROUTING) that jumps to one of them. In nat C(POSTROUTING) the pod egress MASQUERADE
    rules (they match kube-router's sets) and the IPVS masquerade C(SNAT) rules go too."
  - The ipsets kube-router names (C(kube-router-*), C(KUBE-SRC-*), C(KUBE-DST-*) and their
    C(inet6:) forms) are destroyed after the rules, and the C(kube-dummy-if) dummy link is deleted.
  - "Narrower than kube-router's own cleanup, which flushes every IPVS virtual service and
    destroys every ipset on the node: here other sets stay, and IPVS is not touched (kube-proxy,
    back after a rollback, serves the same Service addresses and keeps its virtual services in sync)."
  - "Its routes (protocol 17) are flushed (O(routes)); no other program uses that number."
  - "Left alone, as kube-router's own cleanup leaves them: its three C(FORWARD) ACCEPT rules for
    C(kube-bridge) (pods stay on kube-bridge until they are restarted), C(kube-bridge) itself, its
    tunnels and the DSR marks in mangle."
  - Refuses, changing nothing, when a rule that stays jumps to a kube-router chain or uses a
    kube-router ipset, or when C(kube-dummy-if) is not a dummy device.
  - After applying, reads everything again; the run fails when kube-router objects are still
    there (for example while kube-router still runs).
author: nodenet.fabric developers (!UNKNOWN)
options:
  links:
    description: Delete the C(kube-dummy-if) link of kube-router's service proxy.
    type: bool
    default: true
  routes:
    description:
      - Flush the routes kube-router injected (protocol 17, both families). kube-router's own
        cleanup leaves them, half withdrawn once its peers stop; the CNI that takes over installs
        its own for the same pod CIDRs. Run it only once kube-router has stopped.
    type: bool
    default: true
extends_documentation_fragment: [nodenet.fabric.leftover_cleanup]
requirements: [iproute2, "iptables (nft and/or legacy), ipset: each where present"]
notes:
  - Stop kube-router first (delete its DaemonSet and wait until its pods are gone); a running kube-router puts everything back.
seealso:
  - module: nodenet.fabric.kube_proxy_cleanup
"""

EXAMPLES = r"""
- name: Remove kube-router's leftovers after its DaemonSet is gone
  nodenet.fabric.kube_router_cleanup:

- name: Show what would go
  nodenet.fabric.kube_router_cleanup:
  check_mode: true
  diff: true
"""

RETURN = r"""
changed:
  description: Whether anything was removed (in check mode, would be); true after a failure too when something went.
  returned: always
  type: bool
removed:
  description:
    - What was removed (in check mode, would be). C(iptables) is keyed by tool then table, with
      the rules as iptables-save printed them and the chains flushed and deleted; C(routes) the
      routes flushed (C(-6) marks IPv6 ones). C(ipvs) and C(nftables) are always empty.
  returned: always
  type: dict
  sample: {"iptables": {"iptables-nft": {"filter": {"jumps": ["-A INPUT -m comment --comment \"kube-router netpol - 4IA2OSFRMVNDXBVV\" -j KUBE-ROUTER-INPUT"],
                                                    "chains": ["KUBE-ROUTER-INPUT", "KUBE-NWPLCY-DEFAULT"]}}},
           "ipsets": ["kube-router-pod-subnets"], "ipvs": [], "links": [], "nftables": [],
           "routes": ["10.244.1.0/24 via 172.26.6.2 dev eth0"]}
kept:
  description: What was seen and left alone, as counts; C(iptables) per tool and table counts other chains and the rules that stay.
  returned: always
  type: dict
status:
  description: Per source, C(read), C(empty), C(unavailable) or C(skipped), as in M(nodenet.fabric.kube_proxy_cleanup).
  returned: always
  type: dict
notes:
  description: Why a source is unavailable.
  returned: always
  type: list
  elements: str
conflicts:
  description: Why nothing was changed.
  returned: always
  type: list
  elements: str
commands:
  description: The commands that ran (in check mode, would run) and their standard input, in order.
  returned: always
  type: list
  elements: dict
remaining:
  description: What kube-router left or put back after the cleanup ran (the shape of RV(removed)).
  returned: when the cleanup ran and kube-router objects are still there
  type: dict
"""

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.module import run_module
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_ROUTER


def main():
    run_module(KUBE_ROUTER, dict(
        links=dict(type="bool", default=True),
        routes=dict(type="bool", default=True),
    ))


if __name__ == "__main__":
    main()
