"""kube_router_install against the real programs (tools/lab up -i inventories/kube-router-tor:
seed 003 with a ToR and an outside client): a kube-apiserver, kube-proxy (iptables mode) making
real rules from real Services and EndpointSlices, flannel's DaemonSet (its install-cni), then
kube-router (built at v2.10.0) started by the lab's kubelet stand-in from the DaemonSet the role
applies, peering with the ToR's FRR over TCP MD5. Judged by the kernel, kube-router's gobgp, FRR
and the API server."""
import json
import os
import re
import subprocess

import pytest
import yaml

from lab_run import NODE_ROOT, ROOT, job_changed, lab, module_runs, playbook, recap, rules_save, survey_job, vtysh

INVENTORY = ROOT / "inventories" / "kube-router-tor"
PLAYBOOK = "playbooks/kube_router_install.yml"
NODES = {"k8s-1": "172.26.6.1", "k8s-2": "172.26.6.2", "k8s-3": "172.26.6.3"}
CIDRS = {"k8s-1": "10.244.0.0/24", "k8s-2": "10.244.1.0/24", "k8s-3": "10.244.2.0/24"}
PODS = {"k8s-1": "10.244.0.1", "k8s-2": "10.244.1.1", "k8s-3": "10.244.2.1"}
GOBGP = str(ROOT / ".k8s" / "bin" / "gobgp")
TOR = "172.26.6.250"
SECRET = "Kr-T0r-s3cret-7"
PEERS = {}  # -e for every run: the ToR peer with its password file (written by the fixture)
# What a node already has that is not kube-proxy's: Docker's, Calico's and a user's rules.
FOREIGN = ["iptables -A INPUT -p tcp --dport 22 -j ACCEPT", "iptables -N DOCKER-USER",
           "iptables -A DOCKER-USER -j RETURN", "iptables -A FORWARD -j DOCKER-USER",
           "iptables -t nat -N cali-nat-outgoing",
           "iptables -t nat -A cali-nat-outgoing -s 10.244.0.0/16 -j MASQUERADE",
           "iptables -t nat -A POSTROUTING -m comment --comment cali:O3lYWMrLQYEMJtB5 -j cali-nat-outgoing"]
KUBE_ROUTER_ACCEPT = re.compile(r'^-A FORWARD (-[io] \S+ )?-m comment --comment "allow (inbound traffic to pods|'
                                r'outbound traffic from pods|outbound node port traffic on node interface with which '
                                r'node ip is associated)" -j ACCEPT$')
KUBE_PROXY_CHAIN = re.compile(r"^KUBE-(SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|PROXY-CANARY|EXTERNAL-SERVICES|FORWARD|"
                              r"PROXY-FIREWALL|SVC-|SVL-|SEP-|FW-|EXT-)")


def run(*argv, runs=None):
    return playbook(INVENTORY, "-e", json.dumps(PEERS), *argv, playbook=PLAYBOOK, runs=runs)


def job(runs=None, **answers):
    """The role's AWX job template run through ansible-runner: the survey's answers, and the ToR
    peer as the template's own extra variables."""
    runner, text = survey_job("kube_router_install", INVENTORY, PEERS, runs=runs, **answers)
    assert SECRET not in text  # AWX stores every event: the ToR password is in none
    return runner, text


def expected_peers(host, others=None):
    """What a node's gobgp must show: the other nodes (or `others`), AS 64512, and the ToR, AS
    65100, all established (6)."""
    found = dict((NODES[o], (64512, 6)) for o in (others if others is not None else NODES) if o != host)
    found[TOR] = (65100, 6)
    return found



def routes(host):
    return subprocess.run(["ip", "-n", host, "route"], capture_output=True, text=True).stdout


def sh(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True)


def save(host):
    return rules_save(host)


def chains(lines):
    return set(line[1:].split()[0] for line in lines if line.startswith(":"))


def kube_proxy_lines(lines):
    """Lines of kube-proxy's: its chains' declarations and rules, and jumps into them."""
    def owned(line):
        words = line.split()
        if line.startswith(":"):
            return bool(KUBE_PROXY_CHAIN.match(words[0][1:]))
        if line.startswith("-A "):
            target = words[words.index("-j") + 1] if "-j" in words else ""
            return bool(KUBE_PROXY_CHAIN.match(words[1]) or KUBE_PROXY_CHAIN.match(target))
        return False
    return [line for line in lines if owned(line)]


def foreign(lines):
    """Every line that is not kube-proxy's (kube-router's own come later): what must stay."""
    theirs = set(kube_proxy_lines(lines))
    return [line for line in lines if line not in theirs]


def kept_in_order(lines, after):
    """The lines still in `after`, unchanged and in the same order (kube-router adds its own
    rules between them); the lines that are not."""
    rest = iter(after)
    return [line for line in lines if not any(line == other for other in rest)]


def peers(host):
    out = sh("ip", "netns", "exec", host, GOBGP, "neighbor", "-j").stdout
    return dict((p["state"]["neighbor_address"], (p["state"].get("peer_asn"), p["state"].get("session_state")))
                for p in json.loads(out or "[]"))


def kube_router_routes(host):
    routes = json.loads(sh("ip", "-n", host, "-j", "route", "show", "proto", "17").stdout or "[]")
    return dict((r["dst"], r.get("gateway")) for r in routes)


def pings(src, targets):
    procs = [(ip, subprocess.Popen(["ip", "netns", "exec", src, "ping", "-n", "-q", "-c", "1", "-W", "1", ip],
                                   stdout=subprocess.DEVNULL)) for ip in targets]
    return dict((ip, proc.wait() == 0) for ip, proc in procs)


def api():
    from kubernetes import config
    return config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / "k8s" / "kubeconfig"))


def daemonset(name, namespace="kube-system"):
    from kubernetes import client
    try:
        return client.AppsV1Api(api()).read_namespaced_daemon_set(name, namespace)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def conflist(host):
    path = NODE_ROOT / host / "etc" / "cni" / "net.d" / "10-kuberouter.conflist"
    return path.read_text() if path.exists() else None


def wait_for(check, what, timeout=60):
    import time
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "no %s" % what
        time.sleep(1)


def wait_for_kube_proxy_rules(host, timeout=60):
    wait_for(lambda: any(line.startswith(":KUBE-SVC-") for line in save(host)), "kube-proxy rules on %s" % host,
             timeout)


def flannel_conf():
    from kubernetes import client
    return client.CoreV1Api(api()).read_namespaced_config_map("kube-flannel-cfg", "kube-flannel").data["cni-conf.json"]


@pytest.fixture(scope="module")
def kr_lab(tmp_path_factory):
    proc = lab("up", "-i", str(INVENTORY))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    secret = tmp_path_factory.mktemp("tor") / "tor.pw"
    secret.write_text(SECRET + "\n")
    os.chmod(secret, 0o600)
    PEERS["kube_router_peers"] = [{"ip": TOR, "asn": 65100, "password_file": str(secret)}]
    for host in NODES:
        for rule in FOREIGN:
            assert sh("ip", "netns", "exec", host, *rule.split()).returncode == 0, rule
        wait_for_kube_proxy_rules(host)
    # flannel's DaemonSet runs; its install-cni wrote its conflist, which the role must set aside (and keep)
    for host in NODES:
        wait_for(lambda: (NODE_ROOT / host / "etc" / "cni" / "net.d" / "10-flannel.conflist").exists(),
                 "flannel's conflist on %s" % host)
    yield {"before": dict((h, save(h)) for h in NODES), "tmp": tmp_path_factory.mktemp("kr")}
    lab("down")


def test_a_node_whose_pod_cidr_differs_from_the_api_is_refused_and_nothing_changes(kr_lab):
    wrong = kr_lab["tmp"] / "wrong.yml"
    wrong.write_text(yaml.safe_dump({"all": {"hosts": {"k8s-3": {"node_pod_cidrs": ["10.244.7.0/24"]}}}}))
    rc, out = run("-i", str(wrong))
    assert rc != 0
    assert "cluster k8s, node k8s-3, node_pod_cidrs: 10.244.7.0/24 differs from the Node's spec.podCIDR 10.244.2.0/24" in out
    assert "nothing was changed on any host" in out
    assert daemonset("kube-router") is None and daemonset("kube-proxy") is not None
    for host in NODES:
        assert conflist(host) is None
        assert kube_proxy_lines(save(host)), host  # kube-proxy's rules are all still there


def test_a_replaced_daemonset_the_cluster_does_not_run_is_refused_and_nothing_changes(kr_lab):
    rc, out = run("-e", json.dumps({"kube_router_replaced_daemonsets": [
        {"namespace": "kube-flannel", "name": "kube-flannel"}]}))
    assert rc != 0
    assert ("cluster k8s, kube_router_replaced_daemonsets: DaemonSet kube-flannel/kube-flannel is not in the "
            "cluster and no copy of it is kept") in out, out[-3000:]
    assert daemonset("kube-flannel-ds", "kube-flannel") is not None and daemonset("kube-router") is None
    for host in NODES:
        assert conflist(host) is None


def test_hosts_that_disagree_on_the_direction_are_refused(kr_lab):
    split = kr_lab["tmp"] / "split.yml"
    split.write_text(yaml.safe_dump({"all": {"hosts": {"k8s-3": {"kube_router_install_state": "absent"}}}}))
    rc, out = run("-i", str(split))
    assert rc != 0 and "kube_router_install_state: absent on 1 of 3 nodes (k8s-3), present on the others" in out, out[-3000:]
    assert daemonset("kube-router") is None and all(conflist(h) is None for h in NODES)


def test_check_mode_reports_changes_and_changes_nothing(kr_lab):
    rc, out = run("--check", "--diff")
    assert rc == 0, out[-3000:]
    assert any(counts["changed"] for counts in recap(out).values())
    assert daemonset("kube-router") is None and daemonset("kube-proxy") is not None
    for host in NODES:
        assert conflist(host) is None
        assert kept_in_order(foreign(kr_lab["before"][host]), save(host)) == [], host
        assert kube_proxy_lines(save(host)), host
        assert (NODE_ROOT / host / "etc" / "cni" / "net.d" / "10-flannel.conflist").exists()


def test_seed_003_end_to_end(kr_lab):
    # Before: kube-proxy only; no node routes another node's pods.
    assert not any(pings("k8s-1-pod", [PODS["k8s-2"], PODS["k8s-3"]]).values())
    runner, out = job(runs=("kube_router_install", "converge"))  # as AWX runs the job template, with its survey's answers
    assert runner.status == "successful", out[-4000:]
    changed = job_changed(runner)
    assert sorted(changed) == sorted(list(NODES) + ["outside", "tor"]) and all(changed.values()), changed
    for host, ip in NODES.items():
        # kube-router's gobgp: every other node (AS 64512) and the ToR (AS 65100, TCP MD5), established (6)
        assert peers(host) == expected_peers(host), host
        assert kube_router_routes(host) == dict((CIDRS[o], NODES[o]) for o in NODES if o != host), host
        assert all(pings("%s-pod" % host, [PODS[o] for o in NODES if o != host]).values()), host
        after = save(host)
        # every chain and rule kube-proxy made is gone; kubelet's KUBE-FIREWALL and every foreign line stay
        assert kube_proxy_lines(after) == [], host
        assert kept_in_order(foreign(kr_lab["before"][host]), after) == [], host
        assert "KUBE-FIREWALL" in chains(after) and "DOCKER-USER" in chains(after)
        # the CNI: ours in place, byte for byte as kube-router left it; flannel's set aside with a copy
        cni = NODE_ROOT / host / "etc" / "cni" / "net.d"
        assert json.loads(conflist(host))["plugins"][0]["ipam"]["ranges"] == [[{"subnet": CIDRS[host]}]]
        assert not (cni / "10-flannel.conflist").exists()
        kept = NODE_ROOT / host / "var" / "lib" / "nodenet-fabric" / "cni-replaced" / "10-flannel.conflist"
        assert kept.read_text() == flannel_conf()
    # the ToR: a neighbor per node with the password (both ends hold it: the sessions above are MD5
    # ones), every pod CIDR via its node; the outside client reaches every pod through it
    config = vtysh("show running-config")
    for host, ip in NODES.items():
        assert "neighbor %s password %s" % (ip, SECRET) in config and "neighbor %s remote-as 64512" % ip in config
        assert "%s nhid" % CIDRS[host] in routes("tor") and "via %s dev eth0 proto bgp" % ip in routes("tor")
    assert "10.244.0.0/16 via %s" % TOR in routes("outside")
    assert all(pings("outside", list(PODS.values())).values())
    before, after = kr_lab["before"]["k8s-2"], save("k8s-2")
    print("k8s-2 iptables-save lines: before %d (kube-proxy's %d, foreign %d), after %d (foreign %d kept, "
          "kube-router's %d)" % (len(before), len(kube_proxy_lines(before)), len(foreign(before)), len(after),
                                len(foreign(before)) - len(kept_in_order(foreign(before), after)),
                                len(after) - len(foreign(before))))


def test_the_objects_read_back_from_the_api_server(kr_lab):
    from kubernetes import client
    assert daemonset("kube-proxy") is None
    assert daemonset("kube-flannel-ds", "kube-flannel") is None  # so its install-cni cannot put flannel back
    ds = daemonset("kube-router")
    container = ds.spec.template.spec.containers[0]
    assert "--run-router=true" in container.args and "--run-firewall=true" in container.args
    assert "--run-service-proxy=false" in container.args  # the lab's overlay: no IPVS here
    assert "--service-cluster-ip-range=10.254.0.0/16" in container.args
    assert not ds.spec.template.spec.host_ipc and not ds.spec.template.spec.host_pid  # no DSR service
    core = client.CoreV1Api(api())
    kept = core.read_namespaced_config_map("kube-proxy-replaced-by-kube-router", "kube-system")
    assert yaml.safe_load(kept.data["daemonset.yaml"])["metadata"]["name"] == "kube-proxy"
    kept = core.read_namespaced_config_map("kube-flannel-ds-replaced-by-kube-router", "kube-flannel")
    assert yaml.safe_load(kept.data["daemonset.yaml"])["metadata"]["name"] == "kube-flannel-ds"
    kubeadm = yaml.safe_load(core.read_namespaced_config_map("kubeadm-config", "kube-system").data["ClusterConfiguration"])
    assert kubeadm["proxy"] == {"disabled": True}
    nginx = core.read_namespaced_service("nginx", "default")
    assert nginx.metadata.annotations["kube-router.io/service.scheduler"] == "dh"
    managers = [m.manager for m in nginx.metadata.managed_fields]
    assert "nodenet.fabric" in managers


def test_a_rerun_changes_nothing(kr_lab):
    rc, out = run(runs=("kube_router_install", "no-op"))
    assert rc == 0, out[-3000:]
    assert all(counts["changed"] == 0 for counts in recap(out).values()), recap(out)
    converge, noop = module_runs("kube_router_install", "converge"), module_runs("kube_router_install", "no-op")
    # kube-router's node steps (CNI config, leftovers, sessions) each read, compare and act, so
    # a no-op runs them all again: never more than a converge
    assert all(noop[h] <= converge[h] for h in NODES), (converge, noop)


def test_a_tor_that_runs_another_as_is_refused_before_any_host_changes(kr_lab):
    before = (vtysh("show running-config"), dict((h, routes(h)) for h in list(NODES) + ["tor", "outside"]))
    rc, out = playbook(INVENTORY, "-e", json.dumps({"bgp_router_as": 65101, "kube_router_peers": [
        {"ip": TOR, "asn": 65101}]}), playbook=PLAYBOOK)
    assert rc != 0 and "node tor: refusing to change the router" in out and "not 65101" in out, out[-3000:]
    assert all(r.get("changed", 0) == 0 for r in recap(out).values()), recap(out)
    assert (vtysh("show running-config"), dict((h, routes(h)) for h in list(NODES) + ["tor", "outside"])) == before


def test_without_the_tor_the_client_loses_a_nodes_pods_so_the_pings_prove_the_path(kr_lab):
    import time

    def until(check, timeout=30):
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline
            time.sleep(0.5)

    vtysh("configure terminal", "router bgp 65100", "neighbor %s shutdown" % NODES["k8s-2"])
    try:
        until(lambda: CIDRS["k8s-2"] not in routes("tor"))
        assert pings("outside", [PODS["k8s-2"], PODS["k8s-1"]]) == {PODS["k8s-2"]: False, PODS["k8s-1"]: True}
    finally:
        vtysh("configure terminal", "router bgp 65100", "no neighbor %s shutdown" % NODES["k8s-2"])
    until(lambda: CIDRS["k8s-2"] in routes("tor"), 60)
    assert pings("outside", [PODS["k8s-2"]]) == {PODS["k8s-2"]: True}


def test_a_service_dropped_from_the_list_gets_our_annotations_back_and_nothing_else(kr_lab):
    from kubernetes import client
    core = client.CoreV1Api(api())
    before = core.read_namespaced_service("nginx", "default")
    assert before.metadata.annotations["kube-router.io/service.scheduler"] == "dh"
    rc, out = run("-e", json.dumps({"kube_router_services": []}))
    assert rc == 0, out[-3000:]
    after = core.read_namespaced_service("nginx", "default")
    assert "kube-router.io/service.scheduler" not in (after.metadata.annotations or {})
    assert after.spec.to_dict() == before.spec.to_dict() and after.metadata.labels == before.metadata.labels
    assert "nodenet.fabric" not in [m.manager for m in after.metadata.managed_fields]


def test_rollback_brings_kube_proxy_and_the_replaced_cni_back_then_removes_kube_router(kr_lab):
    from kubernetes import client
    runner, out = job(kube_router_install_state="absent")  # the survey's answer
    assert runner.status == "successful", out[-3000:]
    assert all(job_changed(runner)[h] > 0 for h in NODES), job_changed(runner)
    for name, namespace in (("kube-proxy", "kube-system"), ("kube-flannel-ds", "kube-flannel")):
        ds = daemonset(name, namespace)
        assert ds is not None and ds.status.number_ready == len(NODES), name
    assert daemonset("kube-router") is None
    core = client.CoreV1Api(api())
    for read in (lambda: core.read_namespaced_service_account("kube-router", "kube-system"),
                 lambda: core.read_namespaced_config_map("kube-proxy-replaced-by-kube-router", "kube-system"),
                 lambda: core.read_namespaced_config_map("kube-flannel-ds-replaced-by-kube-router", "kube-flannel"),
                 lambda: client.RbacAuthorizationV1Api(api()).read_cluster_role("kube-router")):
        with pytest.raises(client.ApiException) as gone:
            read()
        assert gone.value.status == 404
    kubeadm = yaml.safe_load(core.read_namespaced_config_map("kubeadm-config", "kube-system").data["ClusterConfiguration"])
    assert kubeadm["proxy"] == {"disabled": False}
    assert not (core.read_namespaced_service("nginx", "default").metadata.annotations or {})
    for host in NODES:
        cni = NODE_ROOT / host / "etc" / "cni" / "net.d"
        assert sorted(p.name for p in cni.iterdir()) == ["10-flannel.conflist"], host
        assert (cni / "10-flannel.conflist").read_text() == flannel_conf()
        wait_for_kube_proxy_rules(host)  # the real kube-proxy is back and made its rules again
        after = save(host)
        assert kept_in_order(foreign(kr_lab["before"][host]), after) == [], host
        assert kube_router_routes(host) == {}, host  # its routes go too (flannel installs its own)
        # of kube-router only what its own cleanup leaves: the FORWARD accepts for pods still on kube-bridge
        added = [line for line in foreign(after) if line not in kr_lab["before"][host]]
        assert added and all(KUBE_ROUTER_ACCEPT.match(line) for line in added), (host, added)
        assert not [n for n in sh("ip", "netns", "exec", host, "ipset", "list", "-n").stdout.split()
                    if n.startswith(("kube-router-", "KUBE-SRC-", "KUBE-DST-"))], host
    rc, out = run("-e", "kube_router_install_state=absent")
    assert rc == 0 and all(c["changed"] == 0 for c in recap(out).values()), recap(out)


def test_forward_again_after_a_rollback(kr_lab):
    rc, out = run()
    assert rc == 0, out[-3000:]
    for host in NODES:
        assert peers(host) == expected_peers(host), host
        assert kube_proxy_lines(save(host)) == [], host
        assert all(pings("%s-pod" % host, [PODS[o] for o in NODES if o != host]).values()), host


def test_a_route_reflector_then_back_to_the_full_mesh(kr_lab):
    from kubernetes import client
    rr = kr_lab["tmp"] / "rr.yml"
    rr.write_text(yaml.safe_dump({"all": {"children": {"k8s": {
        "vars": {"kube_router_rr_cluster_id": "42", "kube_router_accept_single_rr": True},
        "hosts": {"k8s-1": {"kube_router_route_reflector": True}}}}}}))
    rc, out = run("-i", str(rr))
    assert rc == 0, out[-3000:]
    # the clients peer only with the reflector, which peers with both; kube-router reads its Node's
    # annotations when it starts, so the DaemonSet rolled it out again
    assert peers("k8s-1") == expected_peers("k8s-1")
    assert peers("k8s-2") == expected_peers("k8s-2", ["k8s-1"]) and peers("k8s-3") == expected_peers("k8s-3", ["k8s-1"])
    assert client.CoreV1Api(api()).read_node("k8s-3").metadata.annotations["kube-router.io/rr.client"] == "42"
    for host in NODES:  # reflected routes keep the originating node as next hop
        assert kube_router_routes(host) == dict((CIDRS[o], NODES[o]) for o in NODES if o != host), host
        assert all(pings("%s-pod" % host, [PODS[o] for o in NODES if o != host]).values()), host
    rc, out = run()
    assert rc == 0, out[-3000:]
    assert peers("k8s-2") == expected_peers("k8s-2")
    assert "kube-router.io/rr.client" not in (client.CoreV1Api(api()).read_node("k8s-3").metadata.annotations or {})
