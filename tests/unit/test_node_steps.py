"""The node engine (node/engine.py) against a module runner in memory, and the node orders of
kube_router_install, calico_bgp_rr and the tor facet as step lists, stage by stage."""
import json

import pytest
from helpers import inventory_of, read_model, set_on_group

from ansible_collections.nodenet.fabric.plugins.plugin_utils import registry
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import node as calico_node
from ansible_collections.nodenet.fabric.plugins.plugin_utils.node import engine, steps
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import node as tor_node

API = {"cluster_kubeconfig": "/etc/k8s/admin.conf"}


class Runner:
    """Module runs in memory: each module answers from a list of results (the last one repeats)."""

    def __init__(self, **answers):
        self.answers = dict((k, list(v)) for k, v in answers.items())
        self.calls = []

    def __call__(self, module, args, check):
        name = module.rpartition(".")[2]
        self.calls.append((name, check))
        found = self.answers.get(name, [{"changed": False}])
        return dict(found.pop(0) if len(found) > 1 else found[0])


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def run(order, runner, check_mode=False, play=(), clock=None):
    clock = clock or Clock()
    return engine.run_steps(order, runner, check_mode, play, sleep=clock.sleep, clock=clock)


def test_steps_run_in_order_and_a_failure_stops_the_rest_naming_the_step():
    order = [steps.module("first", "cni_config", {}), steps.module("second", "kube_proxy_cleanup", {}),
             steps.module("third", "cni_config", {}, key="again")]
    runner = Runner(cni_config=[{"changed": True}], kube_proxy_cleanup=[{"failed": True, "msg": "a foreign rule",
                                                                          "conflicts": ["x"]}])
    result = run(order, runner).result()
    assert [c[0] for c in runner.calls] == ["cni_config", "kube_proxy_cleanup"]
    assert result["failed"] and result["msg"] == "a foreign rule" and result["step"] == "second" and result["conflicts"] == ["x"]
    assert result["changed"] is True  # what changed before the failure is reported


def test_a_read_keeps_its_failure_and_the_steps_go_on():
    order = [steps.module("read", "bgp_sessions", {}, key="before", read=True, check=True),
             steps.module("next", "reconcile", {})]
    runner = Runner(bgp_sessions=[{"failed": True, "msg": "missing Node_10_0_0_2"}])
    result = run(order, runner).result()
    assert "failed" not in result and result["steps"]["before"]["failed"]
    assert runner.calls == [("bgp_sessions", True), ("reconcile", False)]


def test_a_check_step_never_counts_as_a_change_and_live_only_steps_skip_in_check_mode():
    order = [steps.module("plan", "cni_config", {}, check=True), steps.module("wait", "kube_router_sessions", {},
                                                                             live_only=True)]
    runner = Runner(cni_config=[{"changed": True}])
    assert run(order, runner).changed is False
    assert runner.calls == [("cni_config", True), ("kube_router_sessions", False)]
    runner = Runner()
    run(order, runner, check_mode=True)
    assert runner.calls == [("cni_config", True)]


def test_until_runs_again_while_its_condition_fails_and_gives_the_last_result_when_time_is_up():
    order = [steps.module("cleanup", "kube_proxy_cleanup", {}, until=steps.named(engine.settled), timeout=10)]
    runner = Runner(kube_proxy_cleanup=[{"failed": True, "msg": "still syncing"}, {"changed": True}])
    result = run(order, runner).result()
    assert len(runner.calls) == 2 == result["module_runs"] and result["changed"] and "failed" not in result
    runner = Runner(kube_proxy_cleanup=[{"failed": True, "msg": "still syncing"}])
    clock = Clock()
    result = run(order, runner, clock=clock).result()
    assert result["failed"] and clock.now >= 10 and len(runner.calls) == 6  # every 2 s for 10 s
    runner = Runner(kube_proxy_cleanup=[{"failed": True, "msg": "a foreign rule", "conflicts": ["KUBE-X"]}])
    assert run(order, runner).result()["failed"] and len(runner.calls) == 1  # a conflict: reading again won't help


def test_a_secret_steps_result_is_cut_and_its_passwords_masked():
    order = [steps.module("frr", "frr_bgp", {"neighbors": [{"ip": "10.0.0.1", "password": "hunter2"}]}, secret=True)]
    runner = Runner(frr_bgp=[{"changed": True, "msg": "neighbor 10.0.0.1 password hunter2 refused", "failed": True,
                              "config": "neighbor 10.0.0.1 password hunter2"}])
    result = run(order, runner).result()
    assert "hunter2" not in json.dumps(result) and "config" not in result["steps"]["frr_bgp"]
    assert result["msg"] == "neighbor 10.0.0.1 password ******** refused"


def test_a_gate_in_the_steps_is_refused():
    with pytest.raises(ValueError):
        run([steps.gate("peered")], Runner())


# --- the orders ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed003():
    return inventory_of("inventories/kube-router")


@pytest.fixture(scope="module")
def seed004():
    return inventory_of("inventories/calico-rr")


def modules(order):
    return [s["name"] if s["action"] == "gate" else "%s%s" % (s["module"].rpartition(".")[2],
                                                                " (check)" if s.get("check") else "")
            for s in order]


def test_kube_routers_node_order_waits_for_its_peers_before_kube_proxy_goes(seed003):
    facet = registry.role("kube_router_install")
    fabric = read_model(seed003, set_on_group("kube_router_install", **API))
    assert modules(facet.node_steps(fabric, "k8s-1", "present")) == [
        "cni_config", "peered", "bgp_sessions", "replaced", "kube_proxy_cleanup", "cni_config",
        "bgp_sessions"]
    order = facet.node_steps(fabric, "k8s-1", "present")
    assert order[0]["args"]["set_aside"] is False and order[5]["args"]["set_aside"] is True
    assert order[2]["args"]["exact"] is False and order[6]["args"]["exact"] is True and order[6]["report"] == "table"
    assert modules(facet.node_steps(fabric, "k8s-1", "absent")) == [
        "proxy_back", "kube_proxy_cleanup (check)", "cni_config", "router_gone", "kube_router_cleanup"]
    assert facet.node_steps(fabric, "k8s-1", "absent")[1]["until"].endswith("kube_proxy_back")
    assert modules(facet.node_steps(fabric, "k8s-1", "absent", preflight_only=True)) == [
        "node_facts (check)", "cni_config (check)", "kube_router_cleanup (check)"]
    render_only = read_model(seed003)
    assert modules(facet.node_steps(render_only, "k8s-1", "present")) == [
        "cni_config", "peered", "replaced"]  # only the conflist: nothing runs to wait for


def test_calicos_node_order_bridges_only_while_some_node_moves(seed004):
    facet = registry.role("calico_bgp_rr")
    fabric = read_model(seed004, set_on_group("calico_bgp_rr", **API))
    host = sorted(fabric.facets["calico_bgp_rr"])[0]
    order = facet.node_steps(fabric, host)
    assert modules(order) == ["bgp_sessions (check)", "bridged", "reconcile", "sessions_up", "bgp_sessions",
                              "settled", "bgp_sessions", "reconcile"]
    assert order[2]["only_if"].endswith("moving") and order[0]["read"]
    in_sync = {"start": {"before": {"changed": False}}}
    assert not calico_node.moving({}, [in_sync, in_sync])
    assert calico_node.moving({}, [in_sync, {"start": {"before": {"failed": True}}}])
    assert calico_node.moving({}, [in_sync, None])  # a host that kept nothing
    assert modules(facet.node_steps(fabric, host, options={"bridge": False})).count("reconcile") == 1


def test_every_role_with_node_steps_shares_its_gates_with_its_cluster_order(seed003, seed004):
    for inventory, group in ((seed003, "kube_router_install"), (seed004, "calico_bgp_rr")):
        facet = registry.role(group)
        fabric = read_model(inventory, set_on_group(group, **API))
        host = sorted(fabric.facets[group])[0]
        for state in ("present", "absent") if facet.STATE else ("present",):
            node_gates = steps.gates(facet.node_steps(fabric, host, state))
            assert node_gates == list(facet.gates(state))
            assert steps.gates(facet.cluster_steps(fabric, state, {"k8s-pw": "x"}, {})) == node_gates


def test_a_router_configures_frr_and_a_client_only_checks_its_routes(seed004):
    fabric = read_model(seed004)
    router = tor_node.node_steps(fabric, "tor")
    assert modules(router) == ["frr_bgp"] and router[0]["secret"] and "secret" not in router[0]["args"]
    assert modules(tor_node.node_steps(fabric, "tor", preflight_only=True)) == ["node_facts (check)", "frr_bgp (check)"]
    assert tor_node.node_steps(fabric, "outside") == []
    client = tor_node.node_steps(fabric, "outside", preflight_only=True, options={"systemd": True})
    assert modules(client) == ["node_facts (check)", "reconcile (check)"] and client[0]["args"]["systemd"] is True


def test_flannels_node_steps_remove_the_old_boot_unit_only_where_it_is():
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.flannel_hostgw import node as flannel_node
    order = flannel_node.legacy({"root": "/lab/n1", "systemd": True, "state_dir": "/etc/nodenet-fabric"})
    assert [s["module"] for s in order] == ["ansible.builtin.stat", "ansible.builtin.systemd_service",
                                            "ansible.builtin.file", "ansible.builtin.file",
                                            "ansible.builtin.systemd_service"]
    assert order[0]["args"] == {"path": "/lab/n1/etc/systemd/system/nodenet-fabric-flannel-hostgw.service"}
    assert order[3]["args"]["path"] == "/lab/n1/etc/nodenet-fabric/flannel-hostgw.json"
    runner = Runner(stat=[{"stat": {"exists": False}}])
    run(order, runner)
    assert [c[0] for c in runner.calls] == ["stat"]  # nothing else runs where the unit is not
    runner = Runner(stat=[{"stat": {"exists": True}}], file=[{"changed": True}])
    assert run(order, runner).changed
    assert [c[0] for c in runner.calls] == ["stat", "systemd_service", "file", "file", "systemd_service"]
    without = flannel_node.legacy({"root": "", "systemd": False, "state_dir": "/etc/nodenet-fabric"})
    assert "ansible.builtin.systemd_service" not in [s["module"] for s in without]
