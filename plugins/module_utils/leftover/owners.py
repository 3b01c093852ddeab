# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who owns which leftovers on a node: each owner is the list its own cleanup code works from.

kube-proxy: Kubernetes 1.36, pkg/proxy/{iptables,ipvs,nftables} (`kube-proxy --cleanup`).
kube-router: v2.10, the Cleanup() of its netpol, proxy and routing controllers
(`kube-router --cleanup-config`), narrowed where that code reaches past its own objects: it
flushes every IPVS virtual service and destroys every ipset on the node; here only sets named
as kube-router names them go, and IPVS is not touched (kube-proxy, back after a rollback,
serves the same Service addresses).
"""

from __future__ import absolute_import, division, print_function

from collections import namedtuple

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.ownership import Policy

__metaclass__ = type

# chains: {table: names}; prefixes: {table: name prefixes}; base: {table: the built-in chains the
# owner hooks}, where a rule jumping to an owned chain goes with it; base_rule(table, rule):
# a rule in a base chain that is the owner's without jumping to one of its chains;
# ipsets / ipset_prefixes: set names; dummy: the dummy link it makes; ipvs: whether it makes
# IPVS services this cleanup deletes; nft_tables: "FAMILY NAME"; route_protocol: the protocol
# number of the routes it injects (all of them are its own), or None.
OwnerFields = namedtuple("OwnerFields", "name chains prefixes base base_rule ipsets ipset_prefixes dummy ipvs "
                                        "nft_tables route_protocol")


class Owner(OwnerFields, Policy):
    """Another program as the owner of what its cleanup removes (the ownership policy,
    reconcile/ownership.py): each backend asks it before it plans to remove anything."""

    __slots__ = ()
    KINDS = ("chain", "base_rule", "ipset", "link", "nft_table")  # its routes: read by route_protocol

    def owns_chain(self, item):
        """(table, chain): one of its chains, by name or prefix."""
        table, chain = item
        return chain in self.chains.get(table, ()) or chain.startswith(self.prefixes.get(table, ("\0",)))

    def owns_base_rule(self, item):
        """(table, rule): a rule of a built-in chain it hooks that jumps to one of its chains, or
        one it writes there without a chain of its own."""
        table, rule = item
        if rule["chain"] not in self.base.get(table, ()):
            return False
        return self.owns_chain((table, rule["target"] or "")) or bool(self.base_rule and self.base_rule(table, rule))

    def owns_ipset(self, name):
        return name in self.ipsets or bool(self.ipset_prefixes) and name.startswith(self.ipset_prefixes)

    def owns_link(self, name):
        return name == self.dummy

    def owns_nft_table(self, table):
        """"FAMILY NAME", as `nft list tables` gives it."""
        return table in self.nft_tables


# KUBE-FIREWALL (filter: kubelet's; nat: old IPVS versions), KUBE-MARK-DROP, KUBE-KUBELET-CANARY,
# KUBE-IPTABLES-HINT and KUBE-XLB-* are not in kube-proxy's list, so they stay. IPv6 sets are
# named KUBE-6-*, but kube-proxy's cleanup destroys only these names, so they stay too.
KUBE_PROXY = Owner(
    name="kube-proxy",
    chains={
        "nat": frozenset(["KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-PROXY-CANARY",
                          "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER"]),
        "filter": frozenset(["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS",
                             "KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY", "KUBE-NODE-PORT",
                             "KUBE-SOURCE-RANGES-FIREWALL", "KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER"]),
        "mangle": frozenset(["KUBE-PROXY-CANARY"]),
    },
    prefixes={"nat": ("KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-", "KUBE-FW-", "KUBE-EXT-")},
    base={"filter": frozenset(["INPUT", "FORWARD", "OUTPUT"]), "nat": frozenset(["PREROUTING", "OUTPUT", "POSTROUTING"])},
    base_rule=None,
    ipsets=("KUBE-LOOP-BACK", "KUBE-CLUSTER-IP", "KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL", "KUBE-LOAD-BALANCER",
            "KUBE-LOAD-BALANCER-FW", "KUBE-LOAD-BALANCER-LOCAL", "KUBE-LOAD-BALANCER-SOURCE-IP",
            "KUBE-LOAD-BALANCER-SOURCE-CIDR", "KUBE-NODE-PORT-TCP", "KUBE-NODE-PORT-LOCAL-TCP", "KUBE-NODE-PORT-UDP",
            "KUBE-NODE-PORT-LOCAL-UDP", "KUBE-NODE-PORT-SCTP-HASH", "KUBE-NODE-PORT-LOCAL-SCTP-HASH",
            "KUBE-HEALTH-CHECK-NODE-PORT", "KUBE-IPVS-IPS"),
    ipset_prefixes=(),
    dummy="kube-ipvs0",
    ipvs=True,
    nft_tables=("ip kube-proxy", "ip6 kube-proxy"),  # not inet: kube-proxy makes one table per family
    route_protocol=None,
)

# IPv6 sets carry kube-router's "inet6:" family prefix (utils.IPSetName).
KUBE_ROUTER_SET_PREFIXES = tuple(family + name for family in ("", "inet6:")
                                 for name in ("kube-router-", "KUBE-SRC-", "KUBE-DST-"))


def kube_router_base_rule(table, rule):
    """kube-router's rules with no chain of their own, both in nat POSTROUTING: the pod egress
    MASQUERADE (it matches kube-router's sets) and the IPVS masquerade SNAT rules."""
    if table != "nat" or rule["chain"] != "POSTROUTING":
        return False
    if any(name.startswith(KUBE_ROUTER_SET_PREFIXES) for name in rule["sets"]):
        return True
    return rule["target"] == "SNAT" and "--ipvs" in rule["tokens"]


# Left alone, as kube-router's own cleanup leaves them: its three FORWARD ACCEPT rules for
# kube-bridge (pods stay on kube-bridge until they restart), kube-bridge, its tunnels and the DSR
# mangle marks. Its routes (protocol 17, routes.ZebraOriginator), which its cleanup leaves too, go
# here: once it is gone they are half withdrawn, and the CNI that comes back installs its own.
KUBE_ROUTER = Owner(
    name="kube-router",
    chains={
        "filter": frozenset(["KUBE-ROUTER-INPUT", "KUBE-ROUTER-FORWARD", "KUBE-ROUTER-OUTPUT", "KUBE-ROUTER-SERVICES"]),
        "nat": frozenset(["KUBE-ROUTER-HAIRPIN"]),
    },
    prefixes={"filter": ("KUBE-NWPLCY-", "KUBE-POD-FW-")},
    base={"filter": frozenset(["INPUT", "FORWARD", "OUTPUT"]), "nat": frozenset(["POSTROUTING"])},
    base_rule=kube_router_base_rule,
    ipsets=(),
    ipset_prefixes=KUBE_ROUTER_SET_PREFIXES,
    dummy="kube-dummy-if",
    ipvs=False,
    nft_tables=(),
    route_protocol=17,
)

OWNERS = {owner.name: owner for owner in (KUBE_PROXY, KUBE_ROUTER)}
