"""The one ownership policy (module_utils/reconcile/ownership.py): every owner is a Policy, answers
`owns(kind, item)` for each of its kinds in its own implementation, tells its own objects from
another's, and refuses a kind it does not answer for."""
import pytest

from ansible_collections.nodenet.fabric.plugins.module_utils import frr
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_PROXY, KUBE_ROUTER
from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.kinds import Ownership
from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.ownership import Policy
from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster import owners

KERNEL = Ownership({"device": {"name": "vxlan-test"}, "route_protocol": 201, "route_table": 254})
LABELLED = {"metadata": {"name": "p", "labels": {"app.kubernetes.io/managed-by": "nodenet.fabric"}}}
APPLIED = {"metadata": {"name": "n", "managedFields": [
    {"manager": "nodenet.fabric", "operation": "Apply", "fieldsV1": {"f:metadata": {"f:labels": {"f:route-reflector": {}}}}},
    {"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}}}]}}

# (owner, kind, one of its own, one that is not)
CASES = [
    (KERNEL, "neighbor", {"dev": "vxlan-test", "permanent": True}, {"dev": "eth0", "permanent": True}),
    (KERNEL, "fdb", {"dev": "vxlan-test", "permanent": True}, {"dev": "vxlan-test", "permanent": False}),
    (KERNEL, "route", {"protocol": 201}, {"protocol": 4}),
    (KERNEL, "nexthop", {"protocol": 201}, {"protocol": 17}),
    (KUBE_PROXY, "chain", ("nat", "KUBE-SVC-ABC"), ("nat", "KUBE-MARK-DROP")),
    (KUBE_PROXY, "base_rule", ("nat", {"chain": "PREROUTING", "target": "KUBE-SERVICES"}),
     ("nat", {"chain": "PREROUTING", "target": "CALI-PREROUTING"})),
    (KUBE_ROUTER, "base_rule", ("nat", {"chain": "POSTROUTING", "target": "MASQUERADE", "sets": {"kube-router-pod-subnets"},
                                        "tokens": []}),
     ("nat", {"chain": "POSTROUTING", "target": "MASQUERADE", "sets": set(), "tokens": []})),
    (KUBE_PROXY, "ipset", "KUBE-CLUSTER-IP", "KUBE-6-CLUSTER-IP"),
    (KUBE_ROUTER, "ipset", "inet6:kube-router-svip", "cali40all-hosts"),
    (KUBE_PROXY, "link", "kube-ipvs0", "kube-dummy-if"),
    (KUBE_PROXY, "nft_table", "ip kube-proxy", "inet kube-proxy"),
    (frr.OURS, "neighbor", ("10.0.0.2", ["neighbor 10.0.0.2 description nodenet.fabric k8s-1"]),
     ("10.0.0.3", ["neighbor 10.0.0.3 description uplink"])),
    (frr.OURS, "prefix_list", "NODENET-k8s-IN", "UPLINK-IN"),
    (frr.OURS, "route_map", "NODENET-k8s-OUT", "UPLINK-OUT"),
    (owners.OURS, "object", LABELLED, {"metadata": {"name": "q", "labels": {"app.kubernetes.io/managed-by": "helm"}}}),
    (owners.OURS, "field", (APPLIED, "nodenet.fabric", "route-reflector"), (APPLIED, "nodenet.fabric", "team")),
]


@pytest.mark.parametrize("owner, kind, own, other", CASES, ids=["%s-%s" % (type(c[0]).__name__, c[1]) for c in CASES])
def test_each_owner_tells_its_own_from_anothers(owner, kind, own, other):
    assert isinstance(owner, Policy) and kind in owner.KINDS
    assert owner.owns(kind, own) is True and owner.owns(kind, other) is False


def test_every_kind_of_every_owner_is_tried_and_another_kind_is_refused():
    tried = set((type(c[0]).__name__, c[1]) for c in CASES)
    for owner in (KERNEL, KUBE_PROXY, frr.OURS, owners.OURS):
        assert set((type(owner).__name__, k) for k in owner.KINDS) <= tried
        with pytest.raises(ValueError, match="answers for"):
            owner.owns("helm_release", {})
