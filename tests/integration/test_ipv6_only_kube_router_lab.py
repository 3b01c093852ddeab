"""kube_router_install on an IPv6-only cluster (tests/integration/data/kube-router-ipv6-only), against
the real kube-router and the real kube-proxy running IPv6 only: kube-router starts (IPv4 off, a
generated router ID: a BGP router ID is IPv4 and it exits without one), peers the nodes over
IPv6 with the IPv6 family only, routes the IPv6 pod CIDRs, and kube-proxy's ip6tables rules go."""
import json
import subprocess

import pytest

from lab_run import NODE_ROOT, ROOT, lab_session, playbook, recap, rules_save

INVENTORY = ROOT / "tests" / "integration" / "data" / "kube-router-ipv6-only"
NODES = {"v6-1": ("fd00:20:3::31", "fd90:0:0:1::/64"), "v6-2": ("fd00:20:3::32", "fd90:0:0:2::/64"),
         "v6-3": ("fd00:20:3::33", "fd90:0:0:3::/64")}
GOBGP = str(ROOT / ".k8s" / "bin" / "gobgp")


def proxy_rules(host):
    return [line for line in rules_save(host, "ip6tables-save") if "KUBE-SVC-" in line or "KUBE-SEP-" in line]


@pytest.fixture(scope="module")
def ipv6_only():
    import time
    session = lab_session(INVENTORY)
    next(session)
    deadline = time.monotonic() + 60
    while not all(proxy_rules(h) for h in NODES):
        assert time.monotonic() < deadline, "kube-proxy made no ip6tables rules"
        time.sleep(1)
    yield
    next(session, None)


def test_kube_router_peers_and_routes_over_ipv6_alone(ipv6_only):
    rc, out = playbook(INVENTORY, playbook="playbooks/kube_router_install.yml")
    assert rc == 0, out[-4000:]
    for host, (ip, _cidr) in NODES.items():
        found = json.loads(subprocess.run(["ip", "netns", "exec", host, GOBGP, "neighbor", "-j"], capture_output=True,
                                          text=True).stdout or "[]")
        sessions = dict((p["state"]["neighbor_address"], (p["state"].get("session_state"), sorted(
            (a["config"]["family"]["afi"], (a.get("state") or {}).get("received", 0)) for a in p.get("afi_safis", []))))
            for p in found)
        assert sessions == dict((NODES[o][0], (6, [(2, 1)])) for o in NODES if o != host), host  # IPv6 only
        routes = json.loads(subprocess.run(["ip", "-n", host, "-6", "-j", "route", "show", "proto", "17"],
                                           capture_output=True, text=True).stdout or "[]")
        assert dict((r["dst"], r["gateway"]) for r in routes) == dict(
            (NODES[o][1], NODES[o][0]) for o in NODES if o != host), host
        assert proxy_rules(host) == [], host
        for other in NODES:
            if other != host:
                pod = NODES[other][1].replace("::/64", "::1")
                ping = subprocess.run(["ip", "netns", "exec", "%s-pod" % host, "ping", "-6", "-c", "1", "-W", "2", pod],
                                      capture_output=True, text=True)
                assert ping.returncode == 0, (host, pod, ping.stdout)
        conf = json.loads((NODE_ROOT / host / "etc" / "cni" / "net.d" / "10-kuberouter.conflist").read_text())
        assert conf["plugins"][0]["ipam"]["ranges"] == [[{"subnet": NODES[host][1]}]]
    from kubernetes import client, config
    api = config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / "v6" / "kubeconfig"))
    args = client.AppsV1Api(api).read_namespaced_daemon_set("kube-router", "kube-system").spec.template.spec.containers[0].args
    assert {"--enable-ipv6=true", "--enable-ipv4=false", "--router-id=generate",
            "--service-cluster-ip-range=fd90:ffff::/112"} <= set(args)
    rc, out = playbook(INVENTORY, playbook="playbooks/kube_router_install.yml")
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]
