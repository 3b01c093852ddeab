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

    def __call__(self, module, args, check, become=True):
        name = module.rpartition(".")[2]
        self.calls.append((name, check) if become else (name, check, "unprivileged"))
        found = self.answers.get(name, [{"changed": False}])
        return dict(found.pop(0) if len(found) > 1 else found[0])


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def run(order, runner, check_mode=False, play=None, clock=None):
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
    return [s["name"] if s["action"] == "gate" else s["action"] if s["action"] in ("fail", "warn") else "%s%s" % (
        s["module"].rpartition(".")[2], " (check)" if s.get("check") else "") for s in order]


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
    assert not calico_node.moving({}, engine.Play(hosts={"a": in_sync, "b": in_sync}))
    assert calico_node.moving({}, engine.Play(hosts={"a": in_sync, "b": {"start": {"before": {"failed": True}}}}))
    assert calico_node.moving({}, engine.Play(hosts=lambda: {"a": in_sync, "b": None}))  # a host that kept nothing
    assert modules(facet.node_steps(fabric, host, options={"bridge": False})).count("reconcile") == 1


def test_every_role_with_node_steps_shares_its_gates_with_its_cluster_order(seed003, seed004):
    for inventory, group in ((seed003, "kube_router_install"), (seed004, "calico_bgp_rr"),
                             (inventory_of("inventories/flannel-hostgw"), "flannel_hostgw"),
                             (inventory_of("inventories/seed"), "vxlan_mesh")):
        facet = registry.role(group)
        fabric = read_model(inventory, set_on_group(group, **API))
        host = sorted(fabric.facets[group])[0]
        for state in ("present", "absent") if facet.STATE else ("present",):
            node_gates = steps.gates(facet.node_steps(fabric, host, state))
            assert node_gates == list(facet.gates(state))
            assert steps.gates(facet.cluster_steps(fabric, state, {"k8s-pw": "x"}, {})) == node_gates


def test_a_router_configures_frr_and_a_client_routes_the_pods_as_a_kernel_state(seed004):
    fabric = read_model(seed004)
    router = tor_node.node_steps(fabric, "tor")
    assert modules(router) == ["frr_bgp"] and router[0]["secret"] and "secret" not in router[0]["args"]
    assert modules(tor_node.node_steps(fabric, "tor", preflight_only=True)) == ["node_facts (check)", "frr_bgp (check)"]
    client = tor_node.node_steps(fabric, "outside", preflight_only=True, options={"systemd": "true"})
    assert modules(client) == ["reconcile (check)"] and client[0]["args"]["node_check"]["systemd"] is True
    assert client[0]["args"]["persist"]["unit"] == "/etc/systemd/system/nodenet-fabric-calico-bgp-client.service"
    order = tor_node.node_steps(fabric, "outside", options={"client_targets": ["10.0.0.1", "10.0.0.2"]})
    assert modules(order) == ["reconcile", "applied", "reconcile", "fail", "systemd_service", "systemd_service",
                              "reachability"]
    assert order[-1]["args"] == {"targets": "10.0.0.1,10.0.0.2"}
    assert "reachability" not in modules(tor_node.node_steps(fabric, "outside", options={"verify": False}))


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


# --- a kernel state as node steps (node/reconcile.py), across the hosts of a play ---------------

def kernel_order(state="present", options=None, verify="10.9.0.2,10.9.0.3"):
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.node import reconcile
    options = reconcile.settings({}, options)
    return reconcile.apply("mesh", '{"route_protocol": 201}', state, options, verify)


def play_through(order, answers, preflight):
    """Run `order`'s stages on every host as node_base's stage entry point does, each host keeping
    its results as the node_steps action keeps them; `answers`: {host: Runner}."""
    from ansible_collections.nodenet.fabric.plugins.action.node_steps import ActionModule
    kept = dict((h, ActionModule.kept(steps.PREFLIGHT, {}, {"mesh": p})) for h, p in preflight.items())
    runs = {}
    for stage in [None] + steps.gates(order):
        name = stage or steps.START
        now = {}
        for host in sorted(answers):
            play = engine.Play(kept[host], lambda: dict((h, engine.shared(k)) for h, k in kept.items()))
            runs[host] = run(steps.stage(order, stage), answers[host], play=play)
            now[host] = runs[host]
        for host, found in now.items():
            kept[host] = ActionModule.kept(name, kept[host], found.kept)
    return runs


def test_a_kernel_state_applies_only_where_the_preflight_found_a_difference():
    preflight = {"a": {"in_sync": True, "verify": {"ok": True}}, "b": {"in_sync": False, "restore": "{}"}}
    answers = {"a": Runner(), "b": Runner(reconcile=[{"changed": True}])}
    runs = play_through(kernel_order(), answers, preflight)
    assert [c[0] for c in answers["a"].calls] == ["systemd_service", "reachability"]  # b changed: a pings too
    assert [c[0] for c in answers["b"].calls] == ["reconcile", "systemd_service", "reachability"]
    assert answers["b"].calls[-1] == ("reachability", False, "unprivileged")  # a ping needs no root
    assert not any(r.failed for r in runs.values())


def test_when_one_nodes_apply_fails_every_node_that_changed_gives_back_and_every_node_fails():
    preflight = dict((h, {"in_sync": False, "restore": '{"before": "%s"}' % h}) for h in "abc")
    answers = {"a": Runner(reconcile=[{"changed": True}, {"changed": True}]),
               "b": Runner(reconcile=[{"failed": True, "changed": True, "msg": "applying failed after 2 of 5"}]),
               "c": Runner(reconcile=[{"changed": False}])}
    calls = []
    answers["a"] = Runner(reconcile=[{"changed": True}, {"changed": True}])
    original = answers["a"].__call__

    def recording(module, args, check, **kw):
        calls.append(args)
        return original(module, args, check, **kw)
    runs = play_through(kernel_order(), dict(answers, a=recording), preflight)
    assert calls[1] == {"desired": '{"before": "a"}', "persist": calls[0]["persist"]}  # a's preflight's restore
    assert [c[0] for c in answers["c"].calls] == ["reconcile"]  # nothing changed on c: nothing to give back
    assert [c[0] for c in answers["b"].calls] == ["reconcile"]  # b rolled itself back (the module)
    for host in "abc":
        assert runs[host].failed and runs[host].result()["msg"].startswith("applying failed; the other nodes")
        assert "node b: applying failed after 2 of 5" in runs[host].result()["msg"]
    assert "node a" not in runs["a"].result()["msg"]


def test_a_run_every_node_found_in_sync_changes_nothing_and_its_preflight_pings_were_the_check():
    preflight = dict((h, {"in_sync": True, "verify": {"ok": h != "b"}}) for h in "ab")
    answers = {"a": Runner(), "b": Runner()}
    play_through(kernel_order(), answers, preflight)
    assert [c[0] for c in answers["a"].calls] == ["systemd_service"]  # enabled, no daemon-reload, no ping
    assert [c[0] for c in answers["b"].calls] == ["systemd_service", "reachability"]  # a target missed: check again


def test_a_kernel_states_boot_unit_follows_its_persist_and_systemd_switches():
    def unit_steps(order):
        return [(s["args"].get("enabled"), s["args"].get("daemon_reload", False)) for s in order
                if s.get("module", "").endswith("systemd_service")]
    assert unit_steps(kernel_order()) == [(True, True), (True, False)]
    assert unit_steps(kernel_order("absent")) == [(False, False)]
    assert unit_steps(kernel_order(options={"systemd": "false"})) == []
    assert unit_steps(kernel_order(options={"persist": False})) == []
    assert "persist" not in kernel_order(options={"persist": False})[0]["args"]


def test_another_host_reads_only_the_flags_and_failure_of_a_hosts_kept_results():
    from ansible_collections.nodenet.fabric.plugins.filter.node_results import node_results
    kept = {"preflight": {"mesh": {"changed": True, "failed": False, "in_sync": False, "restore": "{...}",
                                   "verify": {"ok": True}}},
            "start": {"mesh": {"changed": True, "failed": True, "msg": "refused"}}}
    found = node_results({"a": {"node_base_node_results": kept}, "b": {}}, ["a", "b", "gone"])
    assert found == {"a": {"preflight": {"mesh": {"changed": True, "failed": False, "in_sync": False}},
                           "start": {"mesh": {"changed": True, "failed": True, "msg": "refused"}}},
                     "b": {}, "gone": {}}


def test_the_kept_results_start_afresh_at_the_preflight_and_the_start_keeps_only_the_preflight():
    from ansible_collections.nodenet.fabric.plugins.action.node_steps import ActionModule
    before = {"preflight": {"x": {"in_sync": True}}, "start": {"y": {}}, "peered": {"z": {}}}
    assert ActionModule.kept("preflight", before, {"n": {}}) == {"preflight": {"n": {}}}
    assert ActionModule.kept("start", before, {"n": {}}) == {"preflight": {"x": {"in_sync": True}}, "start": {"n": {}}}
    assert ActionModule.kept("peered", before, {"n": {}})["start"] == {"y": {}}


def test_every_role_with_a_kernel_state_has_its_gate_applied_before_any_cluster_step(seed004):
    for role in ("vxlan_mesh", "flannel_hostgw"):
        facet = registry.role(role)
        assert list(facet.gates("present"))[0] == "applied"
    fabric = read_model(inventory_of("inventories/seed"), set_on_group("vxlan_mesh", **API))
    facet = registry.role("vxlan_mesh")
    host = sorted(fabric.facets["vxlan_mesh"])[0]
    assert steps.gates(facet.node_steps(fabric, host)) == steps.gates(facet.cluster_steps(fabric, "present", {}, {}))
    check = facet.node_steps(fabric, host, preflight_only=True)
    assert modules(check) == ["reconcile (check)"] and check[0]["args"]["node_check"]["require"] == ["vxlan"]
    assert check[0]["keep"] == ["in_sync", "restore", "verify"] and check[0]["args"]["verify"]["targets"]


def test_flannels_order_makes_then_after_the_switch_hands_over_and_warns_what_still_waits():
    facet = registry.role("flannel_hostgw")
    fabric = read_model(inventory_of("inventories/flannel-hostgw"), set_on_group("flannel_hostgw", **API))
    host = sorted(fabric.facets["flannel_hostgw"])[0]
    order = facet.node_steps(fabric, host, options={"wait": "90"})
    assert steps.gates(order) == ["applied", "switched"]
    assert modules(steps.stage(order, "switched")) == ["reconcile", "warn", "reachability"]
    handover = steps.stage(order, "switched")[0]["args"]["desired"]
    assert handover["retire_devices"] and handover["handover_wait"] == 90
    assert "persist" not in order[0]["args"]  # the bridge is never saved for boot
    runner = Runner(reconcile=[{"changed": False, "handover_pending": [{"dst": "10.244.2.0/24"}]}])
    result = run(steps.stage(order, "switched"), runner).result()
    assert "failed" not in result and len(result["warnings"]) == 1
    assert result["warnings"][0].startswith("flanneld does not route 10.244.2.0/24 over host-gw on %s yet" % host)
    assert "warnings" not in run(steps.stage(order, "switched"), Runner()).result()
    assert steps.stage(facet.node_steps(fabric, host, "absent"), "switched") == []  # a removal hands nothing over
