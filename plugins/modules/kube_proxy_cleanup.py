#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kube_proxy_cleanup
short_description: Remove kube-proxy's leftovers from a node, as C(kube-proxy --cleanup) does and nothing else
version_added: 0.5.0
description:
  - Reads the node's iptables (both address families, each backend in O(iptables_backends)),
    ipsets, IPVS virtual services, links and nftables tables, and removes what kube-proxy
    (iptables, IPVS and nftables modes) creates. Needs no kube-proxy binary and no cluster.
  - "Ownership is kube-proxy's own list (Kubernetes 1.36): in nat C(KUBE-SERVICES),
    C(KUBE-NODEPORTS), C(KUBE-POSTROUTING), C(KUBE-MARK-MASQ), C(KUBE-PROXY-CANARY),
    C(KUBE-NODE-PORT), C(KUBE-LOAD-BALANCER) and every C(KUBE-SVC-*), C(KUBE-SVL-*), C(KUBE-SEP-*),
    C(KUBE-FW-*), C(KUBE-EXT-*); in filter C(KUBE-SERVICES), C(KUBE-EXTERNAL-SERVICES),
    C(KUBE-FORWARD), C(KUBE-NODEPORTS), C(KUBE-PROXY-FIREWALL), C(KUBE-PROXY-CANARY),
    C(KUBE-NODE-PORT), C(KUBE-SOURCE-RANGES-FIREWALL), C(KUBE-IPVS-FILTER),
    C(KUBE-IPVS-OUT-FILTER); in mangle C(KUBE-PROXY-CANARY). These chains are flushed and deleted,
    and every rule of filter C(INPUT), C(FORWARD), C(OUTPUT) and nat C(PREROUTING), C(OUTPUT),
    C(POSTROUTING) that jumps to one of them is deleted, whatever its comment says (older
    kube-proxy versions worded them differently)."
  - "Never touched: kubelet's chains (C(KUBE-FIREWALL), C(KUBE-KUBELET-CANARY),
    C(KUBE-IPTABLES-HINT), C(KUBE-MARK-DROP)), the nat C(KUBE-FIREWALL) and C(KUBE-XLB-*) of old
    kube-proxy versions (kube-proxy 1.36 no longer lists them), every other chain (Calico's,
    Docker's, kube-router's, a user's) and every rule that does not jump to a kube-proxy chain."
  - Each backend and family gets one C(iptables-restore --noflush) batch; the kube-proxy ipsets
    are destroyed after it (a set in use cannot go), in one C(ipset restore) batch. Those are the
    IPv4 names (C(KUBE-CLUSTER-IP), ...); kube-proxy's cleanup leaves the IPv6 C(KUBE-6-*) sets,
    and so does this module.
  - "IPVS: kube-proxy flushes every virtual service. This module deletes only those kube-proxy
    would have made: the address is bound to C(kube-ipvs0) (cluster, external and load-balancer
    IPs), lies in O(service_cidrs), or is a node address (not loopback, not IPv6 link-local, not
    on C(kube-ipvs0)) with a port in O(nodeport_range). Then the C(kube-ipvs0) dummy link goes."
  - The nftables tables C(kube-proxy) of families C(ip) and C(ip6) are deleted.
  - A missing tool, or a kernel without the feature (IPVS, ipset, nftables), means nothing of
    that kind to remove; RV(status) says so.
  - Refuses, changing nothing, when a rule that stays jumps to a kube-proxy chain or uses a
    kube-proxy ipset (kube-proxy's own cleanup would fail there too), or when C(kube-ipvs0) is
    not a dummy device.
  - "After applying, reads everything again: RV(removed) is what is really gone, and the run
    fails when kube-proxy objects are still there (for example while kube-proxy still runs)."
author: nodenet.fabric developers (!UNKNOWN)
options:
  ipvs:
    description: Delete kube-proxy's IPVS virtual services and the C(kube-ipvs0) link.
    type: bool
    default: true
  nodeport_range:
    description:
      - kube-proxy's NodePort range (C(--service-node-port-range) of the API server). A virtual
        service on a node address with a port in it is a NodePort. An empty string matches none.
    type: str
    default: "30000-32767"
  service_cidrs:
    description:
      - The cluster's Service CIDRs. A virtual service whose address lies in one is kube-proxy's
        even when C(kube-ipvs0) is already gone (for example after an interrupted run).
    type: list
    elements: str
    default: []
  nftables:
    description: Delete the nftables tables C(ip kube-proxy) and C(ip6 kube-proxy).
    type: bool
    default: true
extends_documentation_fragment: [nodenet.fabric.leftover_cleanup]
requirements: [iproute2, "iptables (nft and/or legacy), ipset, ipvsadm, nft: each where present"]
notes:
  - Stop kube-proxy first (delete its DaemonSet); a running kube-proxy puts everything back.
"""

EXAMPLES = r"""
- name: Remove kube-proxy's leftovers after moving to a CNI that replaces it
  nodenet.fabric.kube_proxy_cleanup:
    service_cidrs: [10.96.0.0/12]

- name: Show what would go, legacy iptables only
  nodenet.fabric.kube_proxy_cleanup:
    iptables_backends: [legacy]
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
    - What was removed (in check mode, would be). C(iptables) is keyed by tool
      (C(iptables-nft), C(ip6tables-nft), C(iptables-legacy), C(ip6tables-legacy)) then table, with
      the jump rules as iptables-save printed them and the chains flushed and deleted. C(ipvs)
      holds services as ipvsadm takes them.
  returned: always
  type: dict
  sample: {"iptables": {"iptables-nft": {"nat": {"jumps": ["-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"],
                                                 "chains": ["KUBE-SERVICES", "KUBE-SVC-NPX46M4PTMTKRN6Y"]}}},
           "ipsets": ["KUBE-CLUSTER-IP"], "ipvs": ["-t 10.96.0.1:443"], "links": ["kube-ipvs0"],
           "nftables": ["ip kube-proxy"]}
kept:
  description: What was seen and left alone, as counts; C(iptables) per tool and table counts other chains and the rules that stay.
  returned: always
  type: dict
  sample: {"iptables": {"iptables-nft": {"filter": {"chains": 9, "rules": 21}}}, "ipsets": 2, "ipvs": 1, "nftables": 4}
status:
  description:
    - Per source, C(read), C(empty) (iptables without tables), C(unavailable) (the tool is missing
      or the kernel lacks the feature, as IPVS with "Protocol not available") or C(skipped) (by option).
  returned: always
  type: dict
  sample: {"iptables-nft": "read", "ip6tables-nft": "empty", "iptables-legacy": "unavailable", "ipset": "read",
           "ipvs": "unavailable", "links": "read", "nftables": "read"}
notes:
  description: Why a source is unavailable.
  returned: always
  type: list
  elements: str
  sample: ["ipvs: Can't initialize ipvs: Protocol not available"]
conflicts:
  description: Why nothing was changed (a rule that stays uses a kube-proxy chain or ipset, a missing restore tool).
  returned: always
  type: list
  elements: str
commands:
  description: The commands that ran (in check mode, would run) and their standard input, in order.
  returned: always
  type: list
  elements: dict
  sample: [{"command": "iptables-nft-restore --noflush",
            "stdin": "*nat\n-D OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
                      -F KUBE-SERVICES\n-X KUBE-SERVICES\nCOMMIT\n"}]
remaining:
  description: What kube-proxy left or put back after the cleanup ran (the shape of RV(removed)).
  returned: when the cleanup ran and kube-proxy objects are still there
  type: dict
"""

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.module import run_module
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_PROXY


def main():
    run_module(KUBE_PROXY, dict(
        ipvs=dict(type="bool", default=True),
        nodeport_range=dict(type="str", default="30000-32767"),
        service_cidrs=dict(type="list", elements="str", default=[]),
        nftables=dict(type="bool", default=True),
    ))


if __name__ == "__main__":
    main()
