"""A no-op run's check is the preflight's sweep only when no node of the play has anything to
change; a node whose sweep missed a peer, or any node out of sync, means a check after the apply."""
from ansible_collections.nodenet.fabric.plugins.filter.verified_at_preflight import verified_at_preflight

HOSTS = ["a", "b", "c"]


def preflight(in_sync=True, ok=True):
    result = {"changed": not in_sync, "in_sync": in_sync}
    if in_sync:
        result["verify"] = {"ok": ok, "unreachable": [] if ok else ["172.31.0.9"]}
    return result


def hostvars(**results):
    return dict((h, {"node_base_preflight_result": results.get(h, preflight())}) for h in HOSTS)


def test_every_node_in_sync_and_answered_needs_no_check_after_the_apply():
    assert verified_at_preflight(hostvars(), HOSTS, "node_base_preflight_result") == HOSTS


def test_a_node_whose_sweep_missed_a_peer_is_checked_again():
    assert verified_at_preflight(hostvars(b=preflight(ok=False)), HOSTS, "node_base_preflight_result") == ["a", "c"]


def test_one_node_out_of_sync_means_every_node_is_checked_after_the_apply():
    assert verified_at_preflight(hostvars(c=preflight(in_sync=False)), HOSTS, "node_base_preflight_result") == []


def test_a_node_without_a_result_or_without_a_sweep_is_never_taken_as_checked():
    vars_ = hostvars()
    del vars_["b"]["node_base_preflight_result"]
    assert verified_at_preflight(vars_, HOSTS, "node_base_preflight_result") == []
    assert verified_at_preflight(hostvars(), HOSTS + ["gone"], "node_base_preflight_result") == []
    no_sweep = dict(preflight(), verify=None)
    assert verified_at_preflight(hostvars(a=no_sweep), HOSTS, "node_base_preflight_result") == ["b", "c"]
