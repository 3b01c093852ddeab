"""kube_router_install on a dual-stack cluster (inventories/kube-router-dual-stack), against the real
kube-router (--enable-ipv6), the real kube-proxy running both families (its ip6tables rules beside
its iptables ones) and FRR on the ToR: kube-router peers over the nodes' IPv4 addresses, one session
carrying both families; each node routes the others' IPv6 pod CIDRs via their IPv6 addresses;
kube-proxy's rules go in both families and nothing else does; the ToR and the outside client
reach the pods in both; the rollback brings kube-proxy's rules back in both and takes kube-router's
IPv6 leftovers too."""
import json
import re
import subprocess

import pytest

from lab_run import NODE_ROOT, ROOT, lab_session, playbook, recap, rules_save

INVENTORY = ROOT / "inventories" / "kube-router-dual-stack"
PLAYBOOK = "playbooks/kube_router_install.yml"
NODES = {"k8s-1": ("172.26.6.1", "fd26:6::1"), "k8s-2": ("172.26.6.2", "fd26:6::2"),
         "k8s-3": ("172.26.6.3", "fd26:6::3")}
CIDRS4 = {"k8s-1": "10.244.0.0/24", "k8s-2": "10.244.1.0/24", "k8s-3": "10.244.2.0/24"}
CIDRS6 = {"k8s-1": "fd44:0:0:1::/64", "k8s-2": "fd44:0:0:2::/64", "k8s-3": "fd44:0:0:3::/64"}
PODS = {"k8s-1": ("10.244.0.1", "fd44:0:0:1::1"), "k8s-2": ("10.244.1.1", "fd44:0:0:2::1"),
        "k8s-3": ("10.244.2.1", "fd44:0:0:3::1")}
TOR = "172.26.6.250"
GOBGP = str(ROOT / ".k8s" / "bin" / "gobgp")
# What a node's ip6tables already has that is not kube-proxy's: it must stay.
FOREIGN6 = ["ip6tables -A INPUT -p tcp --dport 22 -j ACCEPT", "ip6tables -N DOCKER-USER",
            "ip6tables -A DOCKER-USER -j RETURN", "ip6tables -A FORWARD -j DOCKER-USER"]
KUBE_PROXY = re.compile(r"KUBE-(SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|SVC-|SEP-|EXT-|FW-|SVL-|FORWARD|"
                        r"PROXY-|EXTERNAL-SERVICES)")


def sh(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True)


def save6(host):
    return rules_save(host, "ip6tables-save")


def kube_proxy6(host):
    return [line for line in save6(host) if KUBE_PROXY.search(line)]


def wait_for(check, what, timeout=60):
    import time
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "no %s" % what
        time.sleep(1)


@pytest.fixture(scope="module")
def dual_stack():
    session = lab_session(INVENTORY)
    next(session)
    for host in NODES:
        wait_for(lambda h=host: any(line.startswith(":KUBE-SVC-") for line in save6(h)), "kube-proxy's ip6tables rules")
        for rule in FOREIGN6:
            assert sh("ip", "netns", "exec", host, *rule.split()).returncode == 0, rule
    yield dict((h, save6(h)) for h in NODES)
    next(session, None)


def run(*argv):
    return playbook(INVENTORY, *argv, playbook=PLAYBOOK)


def peers(host):
    """{peer: (session state (6: established), {AFI (1: IPv4, 2: IPv6): prefixes received})} from gobgp."""
    out = sh("ip", "netns", "exec", host, GOBGP, "neighbor", "-j").stdout
    return dict((p["state"]["neighbor_address"], (p["state"].get("session_state"), dict(
        (a["config"]["family"]["afi"], (a.get("state") or {}).get("received", 0)) for a in p.get("afi_safis", []))))
        for p in json.loads(out or "[]"))


def routes6(host, protocol):
    routes = json.loads(sh("ip", "-n", host, "-6", "-j", "route", "show", "proto", protocol).stdout or "[]")
    return dict((r["dst"], r.get("gateway")) for r in routes)


def reached(src, targets):
    procs = [(ip, subprocess.Popen(["ip", "netns", "exec", src, "ping", "-6" if ":" in ip else "-4", "-n", "-q", "-c",
                                    "2", "-W", "1", ip], stdout=subprocess.DEVNULL)) for ip in targets]
    return dict((ip, proc.wait() == 0) for ip, proc in procs)


def api():
    from kubernetes import config
    return config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / "k8s" / "kubeconfig"))


def test_both_families_over_one_session_and_kube_proxys_ip6tables_rules_go(dual_stack):
    assert not any(reached("k8s-1-pod", [PODS["k8s-2"][1], PODS["k8s-3"][1]]).values())
    for host in NODES:
        assert len(kube_proxy6(host)) > 20, host  # the dual-stack kube-proxy's IPv6 rules: the check can fail
    rc, out = run()
    assert rc == 0, out[-4000:]
    for host, (ip4, ip6) in NODES.items():
        # one session per peer, over the IPv4 addresses (no IPv6 session anywhere), carrying both families:
        # each node's pod CIDR of each family, the ToR sending nothing back
        assert peers(host) == dict([(NODES[o][0], (6, {1: 1, 2: 1})) for o in NODES if o != host]
                                   + [(TOR, (6, {1: 0, 2: 0}))]), host
        assert routes6(host, "17") == dict((CIDRS6[o], NODES[o][1]) for o in NODES if o != host), host
        assert reached("%s-pod" % host, [ip for o in NODES if o != host for ip in PODS[o]]) == dict(
            (ip, True) for o in NODES if o != host for ip in PODS[o])
        after = save6(host)
        assert kube_proxy6(host) == [], host
        rest = iter(after)  # every line that was not kube-proxy's is still there, in order
        assert [line for line in dual_stack[host] if not KUBE_PROXY.search(line) and line not in rest] == [], host
        conf = json.loads((NODE_ROOT / host / "etc" / "cni" / "net.d" / "10-kuberouter.conflist").read_text())
        assert conf["plugins"][0]["ipam"]["ranges"] == [[{"subnet": CIDRS4[host]}], [{"subnet": CIDRS6[host]}]]
    # the ToR learned the IPv6 pod CIDRs over its IPv4 neighbors; the client reaches every pod in both families
    assert routes6("tor", "bgp") == dict((CIDRS6[h], NODES[h][1]) for h in NODES)
    assert routes6("outside", "203") == {"fd44::/56": "fd26:6::250"}
    assert reached("outside", [ip for pair in PODS.values() for ip in pair]) == dict(
        (ip, True) for pair in PODS.values() for ip in pair)
    from kubernetes import client
    args = client.AppsV1Api(api()).read_namespaced_daemon_set("kube-router", "kube-system").spec.template.spec.containers[0].args
    assert "--service-cluster-ip-range=10.254.0.0/16,fd54::/112" in args and "--enable-ipv6=true" in args
    assert not [a for a in args if a.startswith("--enable-ipv4")]
    rc, out = run()
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]


def test_an_ipv6_peer_is_refused_and_nothing_changes(dual_stack):
    before = dict((h, save6(h)) for h in NODES)
    rc, out = run("-e", json.dumps({"kube_router_peers": [{"ip": "fd26:6::250", "asn": 65100}]}))
    assert rc != 0
    assert "kube_router_peers[0].ip: fd26:6::250 is IPv6, but kube-router peers from each node's primary address" in out
    assert dict((h, save6(h)) for h in NODES) == before


def test_the_rollback_brings_kube_proxys_ipv6_rules_back_and_takes_kube_routers(dual_stack):
    rc, out = run("-e", "kube_router_install_state=absent")
    assert rc == 0, out[-3000:]
    for host in NODES:
        wait_for(lambda h=host: any(line.startswith(":KUBE-SVC-") for line in save6(h)), "kube-proxy's ip6tables rules")
        assert not [line for line in save6(host) if "KUBE-ROUTER" in line or "NWPLCY" in line], host
        assert not [n for n in sh("ip", "netns", "exec", host, "ipset", "list", "-n").stdout.split()
                    if n.startswith("inet6:kube-router-")], host
        assert routes6(host, "17") == {}, host
        assert {"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A FORWARD -j DOCKER-USER",
                "-A DOCKER-USER -j RETURN"} <= set(save6(host)), host
    rc, out = run("-e", "kube_router_install_state=absent")
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]
