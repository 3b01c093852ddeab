"""kube_router_install with a ToR (tools/lab up -i inventories/kube-router-tor): every node's
kube-router also peers with the ToR's FRR over eBGP with a TCP MD5 password from a 0600 file,
the role configures FRR's neighbors and the outside client's route, and the client reaches every
pod via the ToR. Judged by kube-router's gobgp, FRR and pings."""
import os
import stat
import subprocess

import pytest
from lab_run import NODE_ROOT, ROOT, lab, playbook, recap
from test_kube_router_lab import kube_router_routes, peers, pings

INVENTORY = ROOT / "inventories" / "kube-router-tor"
PLAYBOOK = "playbooks/kube_router_install.yml"
NODES = {"k8s-1": "172.26.6.1", "k8s-2": "172.26.6.2", "k8s-3": "172.26.6.3"}
CIDRS = {"k8s-1": "10.244.0.0/24", "k8s-2": "10.244.1.0/24", "k8s-3": "10.244.2.0/24"}
TOR = "172.26.6.250"
SECRET = "Kr-T0r-s3cret-7"


def run(*argv):
    return playbook(INVENTORY, *argv, playbook=PLAYBOOK)


def vtysh(*commands):
    folder = str(NODE_ROOT / "tor" / "frr")
    argv = ["ip", "netns", "exec", "tor", "vtysh", "--vty_socket", folder, "--config_dir", folder]
    for command in commands:
        argv += ["-c", command]
    return subprocess.run(argv, capture_output=True, text=True).stdout


def routes(host):
    return subprocess.run(["ip", "-n", host, "route"], capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def tor_lab(tmp_path_factory):
    proc = lab("up", "-i", str(INVENTORY))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    secret = tmp_path_factory.mktemp("tor") / "tor.pw"
    secret.write_text(SECRET + "\n")
    os.chmod(secret, 0o600)
    yield {"peers": '{"kube_router_peers": [{"ip": "%s", "asn": 65100, "password_file": "%s"}]}' % (TOR, secret)}
    lab("down")


def test_every_node_peers_with_the_tor_over_md5_and_the_client_reaches_every_pod(tor_lab):
    rc, out = run("-v", "-e", tor_lab["peers"])
    assert rc == 0, out[-3000:]
    assert SECRET not in out
    for host, ip in NODES.items():
        expected = dict((NODES[o], (64512, 6)) for o in NODES if o != host)
        expected[TOR] = (65100, 6)  # 6: established
        assert peers(host) == expected, host
        assert kube_router_routes(host) == dict((CIDRS[o], NODES[o]) for o in NODES if o != host), host
    config = vtysh("show running-config")
    for ip in NODES.values():  # both ends hold the password: the sessions above are TCP MD5 ones
        assert "neighbor %s password %s" % (ip, SECRET) in config
        assert "neighbor %s remote-as 64512" % ip in config
    tor = routes("tor")
    for host, cidr in CIDRS.items():
        assert "%s nhid" % cidr in tor and "via %s dev eth0 proto bgp" % NODES[host] in tor, tor
    assert "10.244.0.0/16 via %s" % TOR in routes("outside")
    assert all(pings("outside", ["10.244.0.1", "10.244.1.1", "10.244.2.1"]).values())
    rendered = ROOT / "manifests" / "k8s" / "kube-router-base.yml"
    assert stat.S_IMODE(rendered.stat().st_mode) == 0o600


def test_a_tor_that_runs_another_as_is_refused_before_any_host_changes(tor_lab):
    """FRR runs AS 65100 now; an inventory saying 65101 (for the ToR and the peer alike) is the
    live-state refusal, not the inventory one."""
    before = (vtysh("show running-config"), dict((h, routes(h)) for h in list(NODES) + ["tor", "outside"]))
    rc, out = run("-e", '{"bgp_router_as": 65101, "kube_router_peers": [{"ip": "%s", "asn": 65101}]}' % TOR)
    assert rc != 0 and "node tor: refusing to change the router" in out and "not 65101" in out, out[-3000:]
    assert all(r.get("changed", 0) == 0 for r in recap(out).values()), recap(out)
    assert (vtysh("show running-config"), dict((h, routes(h)) for h in list(NODES) + ["tor", "outside"])) == before


def test_a_rerun_changes_nothing_anywhere(tor_lab):
    rc, out = run("-e", tor_lab["peers"])
    assert rc == 0, out[-3000:]
    assert set(recap(out)) == set(NODES) | {"tor", "outside"}
    assert all(counts["changed"] == 0 for counts in recap(out).values()), recap(out)


def test_without_the_tor_the_client_loses_the_pods_so_the_pings_above_prove_the_path(tor_lab):
    import time

    def until(check, timeout=30):
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline
            time.sleep(0.5)

    vtysh("configure terminal", "router bgp 65100", "neighbor %s shutdown" % NODES["k8s-2"])
    try:
        until(lambda: "10.244.1.0/24" not in routes("tor"))
        assert pings("outside", ["10.244.1.1", "10.244.0.1"]) == {"10.244.1.1": False, "10.244.0.1": True}
    finally:
        vtysh("configure terminal", "router bgp 65100", "no neighbor %s shutdown" % NODES["k8s-2"])
    until(lambda: "10.244.1.0/24" in routes("tor"), 60)
    assert pings("outside", ["10.244.1.1"]) == {"10.244.1.1": True}
