"""flannel_hostgw against the real flanneld (v0.28.10, from each cluster's DaemonSet): a canal and a
flannel cluster of three nodes each switch from vxlan to host-gw under pings every 20 ms between
every pair of pods, as AWX runs the job template (ansible-runner). Afterwards the routes to the
other nodes' pods are flanneld's own, ours are gone, flannel.1 is gone, the Nodes say host-gw, a
restart of flanneld changes no route and a rerun changes nothing. The tests share one lab and
run in order."""
import json
import re
import subprocess
import time

import pytest

from lab_run import NODE_ROOT, job_changed, lab, module_runs, playbook, recap, survey_job

INVENTORY = "inventories/flannel-hostgw"
CLUSTERS = {"edge": ("eth0", {"edge-1": "10.30.1.11", "edge-2": "10.30.1.12", "edge-3": "10.30.1.13"},
                     {"edge-1": "10.244.1.0/24", "edge-2": "10.244.2.0/24", "edge-3": "10.244.3.0/24"}),
            "core": ("ens4", {"core-1": "10.30.2.21", "core-2": "10.30.2.22", "core-3": "10.30.2.23"},
                     {"core-1": "10.245.1.0/24", "core-2": "10.245.2.0/24", "core-3": "10.245.3.0/24"})}
NODES = sorted(h for _, ips, _ in CLUSTERS.values() for h in ips)
# cluster: (namespace, ConfigMap, DaemonSet)
FLANNEL = {"edge": ("kube-system", "canal-config", "canal"), "core": ("kube-flannel", "kube-flannel-cfg", "kube-flannel-ds")}
BACKEND = "flannel.alpha.coreos.com/backend-type"
SEEDED = {}  # the ConfigMaps as the lab seeded them


def api(cluster):
    from kubernetes import config
    return config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / cluster / "kubeconfig"))


def core_api(cluster):
    from kubernetes import client
    return client.CoreV1Api(api(cluster))


def apps_api(cluster):
    from kubernetes import client
    return client.AppsV1Api(api(cluster))


def routes(host):
    out = subprocess.run(["ip", "-n", host, "-N", "-j", "route", "show"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def links(host):
    out = subprocess.run(["ip", "-n", host, "-j", "link", "show"], check=True, capture_output=True, text=True)
    return [link["ifname"] for link in json.loads(out.stdout)]


def peer_routes(cluster, host):
    """{pod CIDR: route} of the node's routes to its peers' pod CIDRs."""
    _, _, cidrs = CLUSTERS[cluster]
    wanted = set(c for h, c in cidrs.items() if h != host)
    return dict((r["dst"], r) for r in routes(host) if r["dst"] in wanted)


def losses(output):
    """{cluster: (sent, lost)} from `tools/lab ping stop`."""
    found = {}
    for src, sent, lost in re.findall(r"^\s+(\S+)-\d+-pod\s+->\s+\S+\s+\S+\s+(\d+)\s+\d+\s+(\d+)$", output, re.M):
        total = found.get(src, (0, 0))
        found[src] = (total[0] + int(sent), total[1] + int(lost))
    return found


def configmaps():
    return dict((c, core_api(c).read_namespaced_config_map(cm, ns).data) for c, (ns, cm, _) in FLANNEL.items())


def restarted_at(cluster):
    ns, _, ds = FLANNEL[cluster]
    annotations = apps_api(cluster).read_namespaced_daemon_set(ds, ns).spec.template.metadata.annotations or {}
    return annotations.get("kubectl.kubernetes.io/restartedAt")


def flanneld_pids(cluster):
    folder = NODE_ROOT / ("kubelet-%s" % cluster)
    return json.loads((folder / "pids.json").read_text())


def rolled_out(cluster):
    ns, _, ds = FLANNEL[cluster]
    status = apps_api(cluster).read_namespaced_daemon_set(ds, ns).status
    return status.updated_number_scheduled == status.desired_number_scheduled == status.number_ready


@pytest.fixture(scope="module")
def flannel_lab():
    proc = lab("up", "-i", INVENTORY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield
    lab("down")


def test_flanneld_runs_vxlan_and_check_mode_changes_nothing(flannel_lab):
    for cluster, (_, _, cidrs) in CLUSTERS.items():
        for host in cidrs:
            assert "flannel.1" in links(host)
            assert all(r["dev"] == "flannel.1" for r in peer_routes(cluster, host).values()), routes(host)
        assert all(n.metadata.annotations[BACKEND] == "vxlan" for n in core_api(cluster).list_node().items)
    SEEDED.update(configmaps())
    assert lab("snapshot", "save", "-i", INVENTORY).returncode == 0
    rc, out = playbook(INVENTORY, "--check", "--diff", playbook="playbooks/flannel_hostgw.yml")
    assert rc == 0, out[-3000:]
    assert all(recap(out)[h]["changed"] >= 1 for h in NODES), out[-3000:]
    assert "+route 10.244.2.0/25 via 10.30.1.12 dev eth0" in out  # the bridge, in diff mode
    assert re.search(r"^-device flannel.1 vxlan id 1 .* \(retired\)$", out, re.M), out[-3000:]
    check = lab("snapshot", "check", "-i", INVENTORY)
    assert check.returncode == 0, check.stdout
    assert configmaps() == SEEDED and not restarted_at("edge") and not restarted_at("core")


def test_the_loss_counter_can_fail(flannel_lab):
    """A second of dropped forwarding on one node loses that node's packets: the counter sees it."""
    assert lab("ping", "start", "-i", INVENTORY).returncode == 0
    rule = ["-s", "10.245.0.0/16", "-j", "DROP"]
    subprocess.run(["ip", "netns", "exec", "core-2", "iptables", "-I", "FORWARD", "1"] + rule, check=True)
    time.sleep(1)
    subprocess.run(["ip", "netns", "exec", "core-2", "iptables", "-D", "FORWARD"] + rule, check=True)
    stop = lab("ping", "stop")
    assert stop.returncode == 1 and losses(stop.stdout)["core"][1] >= 20, stop.stdout


def route_events(host, log):
    """[(time, "add"|"del", dst)] of the route events `ip -ts monitor route` saw on the node."""
    events = []
    for stamp, deleted, dst in re.findall(r"^\[(\S+)\] (Deleted )?(\d+\.\d+\.\d+\.\d+/\d+) ", log, re.M):
        events.append((stamp, "del" if deleted else "add", dst))
    return events


def uncovered_gaps(events, cidrs):
    """flanneld's delete-then-add of a route to a peer's whole pod CIDR (a window without it) that
    happened while the bridge routes to its two halves were not both in place."""
    bridged, gaps = {}, []
    for stamp, action, dst in events:
        whole = next((c for c in cidrs if dst != c and dst.startswith(c.rsplit(".", 1)[0] + ".")), None)
        if whole:
            bridged.setdefault(whole, set())
            (bridged[whole].add if action == "add" else bridged[whole].discard)(dst)
        elif dst in cidrs and action == "del" and len(bridged.get(dst, ())) < 2:
            gaps.append("%s %s" % (stamp, dst))
    return gaps


def test_the_switch_under_pings_loses_no_packet(flannel_lab):
    """The pings must lose nothing, and every window flanneld opens when it replaces its vxlan route
    to a peer by its host-gw route (it deletes one, then adds the other: measured 3 to 300 us) must
    fall while the bridge routes carry that peer's pods."""
    monitors = dict((h, subprocess.Popen(["ip", "netns", "exec", h, "ip", "-ts", "monitor", "route"],
                                         stdout=subprocess.PIPE, text=True)) for h in NODES)
    assert lab("ping", "start", "-i", INVENTORY).returncode == 0
    runner, out = survey_job("flannel_hostgw", INVENTORY, runs=("flannel_hostgw", "converge"))
    stop = lab("ping", "stop")
    for proc in monitors.values():
        proc.terminate()
    logs = dict((h, proc.communicate()[0]) for h, proc in monitors.items())
    for cluster, (_, ips, cidrs) in CLUSTERS.items():
        for host in ips:
            events = route_events(host, logs[host])
            peers = [c for h, c in cidrs.items() if h != host]
            replaced = [e for e in events if e[1] == "del" and e[2] in peers]
            assert len(replaced) == len(peers), (host, events)  # flanneld replaced each vxlan route once
            assert uncovered_gaps(events, peers) == [], (host, events)
    assert runner.status == "successful", out[-4000:]
    assert sorted(job_changed(runner)) == NODES and all(job_changed(runner).values())
    counted = losses(stop.stdout)
    print("packets sent / lost during the switch: %s" % counted)
    assert sorted(counted) == ["core", "edge"] and all(sent > 500 for sent, _ in counted.values())
    assert stop.returncode == 0 and all(lost == 0 for _, lost in counted.values()), stop.stdout


def test_the_routes_are_flanneld_s_own_and_ours_are_gone(flannel_lab):
    for cluster, (iface, ips, cidrs) in CLUSTERS.items():
        for host in ips:
            own = peer_routes(cluster, host)
            assert sorted(own) == sorted(c for h, c in cidrs.items() if h != host)
            for cidr, route in own.items():
                peer = next(h for h, c in cidrs.items() if c == cidr)
                assert (route.get("protocol", "3"), route["gateway"], route["dev"]) == ("3", ips[peer], iface), route
            assert [r for r in routes(host) if r.get("protocol") == "202"] == []
            assert "flannel.1" not in links(host)
            log = (NODE_ROOT / ("kubelet-%s" % cluster) / ("%s-flannel.log" % host)).read_text()
            for cidr, route in own.items():  # flanneld itself added each one
                assert "Subnet added: %s via %s" % (cidr, route["gateway"]) in log
        nodes = core_api(cluster).list_node().items
        assert sorted(n.metadata.name for n in nodes) == sorted(ips)
        assert all(n.metadata.annotations[BACKEND] == "host-gw" for n in nodes)
    # flanneld keeps them: one deleted, its route check puts it back within ten seconds.
    subprocess.run(["ip", "-n", "edge-1", "route", "del", "10.244.2.0/24"], check=True)
    deadline = time.monotonic() + 20
    while "10.244.2.0/24" not in peer_routes("edge", "edge-1") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert peer_routes("edge", "edge-1")["10.244.2.0/24"].get("protocol", "3") == "3"  # iproute2 leaves out boot


def test_only_net_conf_changed_and_flanneld_restarted(flannel_lab):
    for cluster, data in configmaps().items():
        seeded = SEEDED[cluster]
        assert json.loads(data["net-conf.json"]) == dict(json.loads(seeded["net-conf.json"]), Backend={"Type": "host-gw"})
        assert dict((k, v) for k, v in data.items() if k != "net-conf.json") == dict(
            (k, v) for k, v in seeded.items() if k != "net-conf.json")  # byte-identical
        assert restarted_at(cluster)


def test_a_flanneld_restart_changes_no_route(flannel_lab):
    assert lab("snapshot", "save", "-i", INVENTORY).returncode == 0
    before = dict((c, flanneld_pids(c)) for c in CLUSTERS)
    for cluster, (ns, _, ds) in FLANNEL.items():
        apps_api(cluster).patch_namespaced_daemon_set(ds, ns, {"spec": {"template": {"metadata": {"annotations": {
            "lab.nodenet/restarted": str(time.time())}}}}})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not all(
            rolled_out(c) and not set(before[c]) & set(flanneld_pids(c)) for c in CLUSTERS):
        time.sleep(1)
    assert all(not set(before[c]) & set(flanneld_pids(c)) for c in CLUSTERS), "flanneld did not restart everywhere"
    time.sleep(3)  # each new flanneld has read every lease by now
    check = lab("snapshot", "check", "-i", INVENTORY)
    assert check.returncode == 0, check.stdout


def test_a_rerun_changes_nothing(flannel_lab):
    stamps = dict((c, restarted_at(c)) for c in CLUSTERS)
    rc, out = playbook(INVENTORY, playbook="playbooks/flannel_hostgw.yml", runs=("flannel_hostgw", "no-op"))
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]
    converge, noop = module_runs("flannel_hostgw", "converge"), module_runs("flannel_hostgw", "no-op")
    assert all(noop[h] < converge[h] for h in NODES), (converge, noop)
    assert dict((c, restarted_at(c)) for c in CLUSTERS) == stamps  # no second restart


def test_the_boot_unit_and_state_of_release_0_6_go(flannel_lab):
    """A node upgraded from 0.6: its boot unit and the state it re-applied go, nothing else; a node
    without them changes nothing."""
    unit = NODE_ROOT / "edge-1/etc/systemd/system/nodenet-fabric-flannel-hostgw.service"
    state = NODE_ROOT / "edge-1/etc/nodenet-fabric/flannel-hostgw.json"
    for path, text in ((unit, "[Service]\nExecStart=/bin/true\n"), (state, "{}\n")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    before = dict((h, routes(h)) for h in NODES)
    rc, out = playbook(INVENTORY, playbook="playbooks/flannel_hostgw.yml")
    assert rc == 0, out[-3000:]
    assert not unit.exists() and not state.exists()
    changed = dict((h, r["changed"]) for h, r in recap(out).items())
    assert changed["edge-1"] >= 1 and all(changed[h] == 0 for h in NODES if h != "edge-1"), changed
    assert dict((h, routes(h)) for h in NODES) == before


def test_absent_removes_only_the_roles_routes(flannel_lab):
    """A bridge route a failed switch left behind goes; flanneld's routes stay byte-identical."""
    subprocess.run(["ip", "-n", "edge-1", "route", "add", "10.244.3.0/25", "via", "10.30.1.13", "dev", "eth0",
                    "proto", "202"], check=True)
    before = [r for r in routes("edge-1") if r.get("protocol") != "202"]
    runner, out = survey_job("flannel_hostgw", INVENTORY, flannel_hostgw_state="absent")
    assert runner.status == "successful", out[-4000:]
    assert job_changed(runner)["edge-1"] >= 1 and job_changed(runner)["edge-2"] == 0
    assert routes("edge-1") == before
    assert not (NODE_ROOT / "edge-1/etc/systemd/system/nodenet-fabric-flannel-hostgw.service").exists()
