"""calico_bgp_rr against real daemons: a kube-apiserver per cluster, BIRD 2 per node configured by
the lab's calico-node stand-in from what the role left in the API, FRR's bgpd on the ToR and an
outside client (tools/lab up --k8s -i inventories/calico-rr, seed 004). Everything is judged by
the daemons and the kernel: sessions Established, routes present, pings answered, objects read
back."""
import json
import os
import stat
import subprocess
import time

import pytest

from lab_run import NODE_ROOT, ROOT, lab, module_runs, playbook, recap, survey_job, vtysh

INVENTORY = ROOT / "inventories" / "calico-rr"
PLAYBOOK = "playbooks/calico_bgp_rr.yml"
NODES = {"k8s-1": "172.31.13.27", "k8s-2": "172.31.13.28", "k8s-3": "172.31.13.29"}
BLOCKS = {"k8s-1": "172.27.208.0/26", "k8s-2": "172.27.209.0/26", "k8s-3": "172.27.210.0/26"}
PODS = {"k8s-1": "172.27.208.1", "k8s-2": "172.27.209.1", "k8s-3": "172.27.210.1"}
TOR = "172.31.13.116"
MESH = ["-e", json.dumps({"calico_bgp_route_reflector": False, "calico_bgp_peers": [
    {"name": "rr-peer", "ip": TOR, "as": 7675, "peers": "all"}]})]
FOREIGN_FRR = ["router bgp 7675", "neighbor 10.9.9.9 remote-as 65000", "neighbor 10.9.9.9 description core uplink",
               "exit", "ip prefix-list CORE seq 5 permit 0.0.0.0/0"]


def run(*argv, runs=None):
    return playbook(INVENTORY, *argv, playbook=PLAYBOOK, runs=runs)


def sh(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True)



def sessions(host):
    """{peer ip: (type, state, info, since)} from the node's BIRD, as calicoctl node status reads it."""
    import sys
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.nodenet.fabric.plugins.module_utils import bird
    out = sh("birdc", "-s", str(NODE_ROOT / host / "bird" / "bird.ctl"), "show", "protocols").stdout
    return dict((s["ip"], (s["type"], s["state"], s["info"], s["since"])) for s in bird.parse_protocols(out))


def steady(before, after):
    """The same sessions in the same states, none re-established: BIRD prints `since` from its
    monotonic clock shifted to wall time at each read, so one session's `since` may move by a
    millisecond between two reads; a flap moves it by the seconds the run took."""
    def seconds(since):
        hours, minutes, rest = since.split()[-1].split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)
    if {h: {ip: s[:3] for ip, s in t.items()} for h, t in before.items()} != \
            {h: {ip: s[:3] for ip, s in t.items()} for h, t in after.items()}:
        return False
    return all(abs(seconds(after[h][ip][3]) - seconds(s[3])) < 0.5 for h, t in before.items() for ip, s in t.items())


def table(host):
    """The sessions to the cluster's nodes and the ToR (a user's own peer is not the role's)."""
    return dict((ip, (kind, info)) for ip, (kind, _, info, _) in sessions(host).items() if ip != "192.0.2.9")


def bird_routes(host):
    routes = json.loads(sh("ip", "-n", host, "-j", "route", "show", "proto", "bird").stdout or "[]")
    return dict((r["dst"], r.get("gateway")) for r in routes if r.get("gateway"))


def pings(src, targets):
    procs = [(ip, subprocess.Popen(["ip", "netns", "exec", src, "ping", "-n", "-q", "-c", "1", "-W", "1", ip],
                                   stdout=subprocess.DEVNULL)) for ip in targets]
    return dict((ip, proc.wait() == 0) for ip, proc in procs)


def eventually(check, timeout=30):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def api():
    from kubernetes import config
    return config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / "k8s" / "kubeconfig"))


def calico(plural, name=None):
    from kubernetes import client
    objects = client.CustomObjectsApi(api())
    if name:
        return objects.get_cluster_custom_object("crd.projectcalico.org", "v1", plural, name)
    return dict((o["metadata"]["name"], o) for o in
                objects.list_cluster_custom_object("crd.projectcalico.org", "v1", plural)["items"])


def foreign_routes(host):
    """The node's routes that are neither BIRD's nor ours (protocol 203): they must never change."""
    out = sh("ip", "-n", host, "-N", "-4", "route", "show", "table", "all").stdout.splitlines()
    return sorted(line for line in out if "proto 12 " not in line and "proto 203 " not in line)


@pytest.fixture(scope="module")
def bgp_lab():
    proc = lab("up", "-i", str(INVENTORY), "--k8s")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # What a real ToR and cluster already have, which is not ours: it must stay as it is.
    vtysh("configure terminal", *FOREIGN_FRR)
    from kubernetes import client
    client.CustomObjectsApi(api()).create_cluster_custom_object("crd.projectcalico.org", "v1", "bgppeers", {
        "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer", "metadata": {"name": "user-peer"},
        "spec": {"node": "k8s-3", "peerIP": "192.0.2.9", "asNumber": 65009}})
    yield {"foreign_routes": dict((h, foreign_routes(h)) for h in NODES)}
    lab("down")


def test_seed_004_end_to_end(bgp_lab):
    # Before: Calico's default (mesh, ipip pool): the outside client reaches no pod.
    assert not any(pings("outside", PODS.values()).values())
    rc, out = run(runs=("calico_bgp_rr", "converge"))
    assert rc == 0, out[-4000:]
    # calicoctl node status as seed 004 prints it on k8s-1, and on every other node.
    established = lambda peers: dict((NODES.get(p, p) if p in NODES else p, ("node specific", "Established"))  # noqa
                                     for p in peers)
    assert table("k8s-1") == established([NODES["k8s-2"], NODES["k8s-3"], TOR])
    assert table("k8s-2") == established([NODES["k8s-1"], NODES["k8s-3"], TOR])
    assert table("k8s-3") == established([NODES["k8s-1"], NODES["k8s-2"]])
    # The ToR learns every node's block through the RRs.
    tor = json.loads(sh("ip", "-n", "tor", "-j", "route", "show", "proto", "bgp").stdout)
    assert sorted(r["dst"] for r in tor) == sorted(BLOCKS.values())
    # Every node routes the other nodes' blocks via their node IPs, proto bird.
    for host in NODES:
        assert bird_routes(host) == dict((BLOCKS[o], NODES[o]) for o in NODES if o != host), host
    # Pods answer from every node's pod and from outside the cluster (via the ToR).
    for host in NODES:
        assert all(pings("%s-pod" % host, [PODS[o] for o in NODES if o != host]).values()), host
    assert all(pings("outside", PODS.values()).values())
    assert "proto 203" in sh("ip", "-n", "outside", "-N", "route", "show", "172.27.208.0/22").stdout


def test_the_objects_read_back_from_the_api_server(bgp_lab):
    from kubernetes import client
    config = calico("bgpconfigurations", "default")["spec"]
    assert config["nodeToNodeMeshEnabled"] is False and config["asNumber"] == 64512
    peers = calico("bgppeers")
    assert peers["peer-with-route-reflectors"]["spec"] == {"nodeSelector": "all()",
                                                          "peerSelector": "route-reflector == 'true'"}
    assert peers["rr-peer"]["spec"] == {"peerIP": TOR, "asNumber": 7675, "nodeSelector": "route-reflector == 'true'"}
    assert peers["user-peer"]["spec"]["peerIP"] == "192.0.2.9"  # not ours: untouched
    assert "192.0.2.9" in sessions("k8s-3")  # and calico-node peers with it as the user asked
    pool = calico("ippools", "default-ipv4-ippool")["spec"]
    assert (pool["ipipMode"], pool["vxlanMode"], pool["natOutgoing"]) == ("Never", "Never", False)
    assert (pool["cidr"], pool["blockSize"], pool["nodeSelector"]) == ("172.27.208.0/22", 26, "all()")
    core = client.CoreV1Api(api())
    for host, ip in NODES.items():
        node = core.read_node(host).metadata
        rr = host in ("k8s-1", "k8s-2")
        assert ((node.labels or {}).get("route-reflector") == "true") is rr
        assert (node.annotations or {}).get("projectcalico.org/RouteReflectorClusterID") == (ip if rr else None)
    assert core.read_namespaced_config_map("calico-config", "kube-system").data["calico_backend"] == "bird"
    ds = client.AppsV1Api(api()).read_namespaced_daemon_set("calico-node", "kube-system")
    env = dict((e.name, e.value) for e in ds.spec.template.spec.containers[0].env)
    assert env["FELIX_IPINIPENABLED"] == "false" and env["CALICO_IPV4POOL_IPIP"] == "Never"
    assert env["DATASTORE_TYPE"] == "kubernetes"  # the installer's env stays


def test_a_rerun_changes_nothing_and_no_session_flaps(bgp_lab):
    before = dict((h, sessions(h)) for h in NODES)
    rc, out = run(runs=("calico_bgp_rr", "no-op"))
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]
    converge, noop = module_runs("calico_bgp_rr", "converge"), module_runs("calico_bgp_rr", "no-op")
    assert all(noop[h] < converge[h] for h in NODES), (converge, noop)
    assert steady(before, dict((h, sessions(h)) for h in NODES))  # same sessions, same `since`


def test_one_route_reflector_down_keeps_the_pods_reachable(bgp_lab):
    def reach(src, hosts):
        return all(pings(src, [PODS[h] for h in hosts]).values())
    assert lab("bird", "stop", "k8s-1").returncode == 0
    try:
        assert eventually(lambda: table("k8s-3")[NODES["k8s-1"]][1] != "Established")
        # k8s-1's own pods go with its calico-node (nobody announces its block any more); every
        # other pod stays reachable from every other node and from outside, through k8s-2.
        for src in ("k8s-2-pod", "k8s-3-pod", "outside"):
            assert reach(src, [h for h in ("k8s-2", "k8s-3") if "%s-pod" % h != src]), src
        # The counter-check: with both RRs down, k8s-3's pods are lost from outside.
        assert lab("bird", "stop", "k8s-2").returncode == 0
        assert eventually(lambda: not reach("outside", ["k8s-3"]))
    finally:
        lab("bird", "start", "k8s-1")
        lab("bird", "start", "k8s-2")
    assert eventually(lambda: all(v[1] == "Established" for v in table("k8s-3").values()), 60)
    assert eventually(lambda: reach("outside", list(NODES)), 60)


def ping_run(*argv):
    """Continuous pod-to-pod pings (20 ms) across a run: (lost, sent, the run's output)."""
    assert lab("ping", "start", "-i", str(INVENTORY)).returncode == 0
    rc, out = run(*argv)
    stopped = lab("ping", "stop")
    lost, sent = [int(x) for x in stopped.stdout.split("lab: ")[-1].split()[:3:2]]
    return rc, out, lost, sent, stopped.stdout


def test_mesh_to_route_reflectors_loses_no_packet(bgp_lab):
    rc, out = run(*MESH)
    assert rc == 0, out[-3000:]
    assert table("k8s-3")[NODES["k8s-1"]] == ("node-to-node mesh", "Established")
    rc, out, lost, sent, report = ping_run()
    assert rc == 0, out[-3000:]
    assert sent > 1000 and lost == 0, report
    assert table("k8s-3") == {NODES["k8s-1"]: ("node specific", "Established"),
                              NODES["k8s-2"]: ("node specific", "Established")}
    assert not [l for l in sh("ip", "-n", "k8s-3", "-N", "route").stdout.splitlines() if "proto 203" in l]


def test_the_loss_counter_catches_the_wrong_order(bgp_lab):
    """Mesh off first (by hand, as calico issues 3819 and 4992 describe): routes drop until the
    route-reflector sessions are up."""
    from kubernetes import client
    rc, out = run(*MESH)
    assert rc == 0, out[-3000:]
    assert lab("ping", "start", "-i", str(INVENTORY)).returncode == 0
    time.sleep(1)
    client.CustomObjectsApi(api()).patch_cluster_custom_object(
        "crd.projectcalico.org", "v1", "bgpconfigurations", "default", {"spec": {"nodeToNodeMeshEnabled": False}})
    time.sleep(3)
    rc, out = run()
    stopped = lab("ping", "stop")
    assert rc == 0, out[-3000:]
    lost = int(stopped.stdout.split("lab: ")[-1].split()[0])
    assert lost > 0, stopped.stdout


def test_without_bridge_routes_even_the_right_order_loses_packets(bgp_lab):
    """Why the role bridges: a node with a cluster ID leaves the mesh at once (Calico's confd),
    before its route-reflector sessions are up."""
    rc, out = run(*MESH)
    assert rc == 0, out[-3000:]
    rc, out, lost, sent, report = ping_run("-e", "calico_bgp_rr_bridge=false")
    assert rc == 0, out[-3000:]
    assert lost > 0, report


def test_passwords_come_from_a_0600_file_and_never_show(bgp_lab, tmp_path):
    secret = tmp_path / "tor.pw"
    secret.write_text("Tor-S3cret-9\n")
    os.chmod(secret, 0o600)
    peer = {"calico_bgp_peers": [
        {"name": "rr-peer", "ip": TOR, "as": 7675, "peers": "route_reflectors", "password_file": str(secret)}]}
    with_password = ["-v", "-e", json.dumps(peer)]
    # As AWX runs the job template (ansible-runner, the survey's answers, the peer as the template's
    # variables): AWX stores every event, and the password is in none.
    runner, out = survey_job("calico_bgp_rr", INVENTORY, peer)
    assert runner.status == "successful", out[-3000:]
    assert "Tor-S3cret-9" not in out
    assert eventually(lambda: table("k8s-1")[TOR] == ("node specific", "Established"), 60)  # TCP MD5 both ends
    assert "neighbor 172.31.13.27 password Tor-S3cret-9" in vtysh("show running-config")
    conf = NODE_ROOT / "k8s-1" / "bird" / "bird.conf"
    assert 'password "Tor-S3cret-9";' in conf.read_text() and stat.S_IMODE(conf.stat().st_mode) == 0o600
    rendered = ROOT / "manifests" / "k8s" / "calico-bgp-peers.yml"
    assert stat.S_IMODE(rendered.stat().st_mode) == 0o600
    rc, out = run(*with_password)
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]
    os.chmod(secret, 0o644)
    rc, out = run(*with_password)
    assert rc != 0 and "readable by others" in out and "calico_bgp_peers[0].password_file" in out


def test_a_router_running_another_as_is_refused_and_nothing_changes(bgp_lab):
    before_frr = vtysh("show running-config")
    before_peers = calico("bgppeers")
    before_routes = dict((h, sh("ip", "-n", h, "route").stdout) for h in list(NODES) + ["outside"])
    rc, out = run("-e", json.dumps({"bgp_router_as": 7676, "calico_bgp_peers": [
        {"name": "rr-peer", "ip": TOR, "as": 7676, "peers": "route_reflectors"}]}))
    assert rc != 0 and "tor" in out and "runs BGP as AS 7675" in out, out[-3000:]
    assert all(r.get("changed", 0) == 0 for r in recap(out).values()), out[-3000:]
    assert vtysh("show running-config") == before_frr
    assert calico("bgppeers").keys() == before_peers.keys()
    assert [p["spec"] for p in calico("bgppeers").values()] == [p["spec"] for p in before_peers.values()]
    assert dict((h, sh("ip", "-n", h, "route").stdout) for h in list(NODES) + ["outside"]) == before_routes


def world():
    """Everything a run could change: FRR's configuration, the Calico objects, the nodes' labels and
    annotations, and every namespace's routes."""
    from kubernetes import client
    nodes = dict((n.metadata.name, (n.metadata.labels, n.metadata.annotations))
                 for n in client.CoreV1Api(api()).list_node().items)
    objects = dict((kind, dict((name, o["spec"]) for name, o in calico(kind).items()))
                   for kind in ("bgpconfigurations", "bgppeers", "ippools"))
    routes = dict((h, sh("ip", "-n", h, "route", "show", "table", "all").stdout)
                  for h in list(NODES) + ["outside", "tor"])
    return vtysh("show running-config"), objects, nodes, routes


def test_check_mode_changes_nothing_and_says_what_would(bgp_lab):
    before = world()
    rc, out = run("--check", "--diff", *MESH)
    assert rc == 0, out[-3000:]
    assert world() == before
    changed = recap(out)
    assert changed["tor"]["changed"] > 0 and changed["k8s-1"]["changed"] > 0, out[-3000:]


BAD = [
    ("one RR", {"k8s-2": {"calico_bgp_route_reflector": False}}, "k8s-1", "calico_bgp_route_reflector"),
    ("cluster ID", {"k8s-1": {"calico_bgp_rr_cluster_id": "rr-one"}}, "k8s-1", "calico_bgp_rr_cluster_id"),
    ("AS 0", {"k8s": {"calico_bgp_as": 0}}, "k8s-2", "calico_bgp_as"),
    ("peer is a node", {"k8s": {"calico_bgp_peers": [{"ip": "172.31.13.29", "as": 7675}]}}, "k8s",
     "calico_bgp_peers[peer-172-31-13-29].ip"),
    ("own AS", {"k8s": {"calico_bgp_peers": [{"ip": TOR, "as": 64512}]}}, "k8s-1", "calico_bgp_peers[0].as"),
    ("inline password", {"k8s": {"calico_bgp_peers": [{"ip": TOR, "as": 7675, "password": "x"}]}}, "k8s-1",
     "calico_bgp_peers[0].password"),
    ("natOutgoing false, no peer", {"k8s": {"calico_bgp_peers": []}}, "k8s", "calico_bgp_nat_outgoing"),
    ("router AS", {"tor": {"bgp_router_as": 7676}}, "tor", "bgp_router_as"),
    ("client's router", {"outside": {"bgp_client_router": "tor-2"}}, "outside", "bgp_client_router"),
    ("ipip mode typo", {"k8s": {"calico_bgp_mode": "IPIP"}}, "k8s-3", "calico_bgp_mode"),
]


@pytest.mark.parametrize("case, changes, who, variable", BAD, ids=[c[0] for c in BAD])
def test_a_bad_bgp_inventory_changes_nothing_anywhere(bgp_lab, tmp_path, case, changes, who, variable):
    import yaml
    inv = yaml.safe_load((INVENTORY / "hosts.yml").read_text())
    for name, values in changes.items():
        groups = inv["all"]["children"]
        target = groups[name]["vars"] if name in groups else next(
            g["hosts"][name] for g in groups.values() if name in (g.get("hosts") or {}))
        target.update(values)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inv))
    before = world()
    rc, out = playbook(tmp_path)  # site.yml, as a user runs it
    assert rc != 0 and who in out and variable in out, out[-3000:]
    assert world() == before
    assert all(r.get("changed", 0) == 0 for r in recap(out).values()), out[-2000:]


def test_what_is_not_ours_stayed_identical(bgp_lab):
    running = vtysh("show running-config")
    for line in ("neighbor 10.9.9.9 remote-as 65000", "neighbor 10.9.9.9 description core uplink",
                 "ip prefix-list CORE seq 5 permit 0.0.0.0/0"):
        assert line in running
    for host, routes in bgp_lab["foreign_routes"].items():
        assert foreign_routes(host) == routes, host
    assert calico("bgppeers", "user-peer")["spec"] == {"node": "k8s-3", "peerIP": "192.0.2.9", "asNumber": 65009}


def test_a_node_missing_from_the_api_is_refused_and_never_created(bgp_lab):
    from kubernetes import client
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    from nnlab import k8s_seed
    core = client.CoreV1Api(api())
    saved = core.read_node("k8s-3")
    core.delete_node("k8s-3")
    try:
        before = world()
        rc, out = run()
        assert rc != 0 and "no Node named k8s-3" in out, out[-3000:]
        assert world() == before
        assert "k8s-3" not in [n.metadata.name for n in core.list_node().items]
    finally:
        node = k8s_seed.node_object(type("N", (), {"host": "k8s-3", "pod_cidrs": (BLOCKS["k8s-3"],)})())
        node["metadata"]["labels"] = saved.metadata.labels
        k8s_seed.apply(api(), node)
