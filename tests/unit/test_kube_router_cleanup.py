"""kube_router_cleanup: kube-router's own leftovers (captured from the lab's real kube-router
v2.10 on node k8s-2, kube-proxy already gone, a user's ssh rule planted) go; kubelet's,
kube-proxy's and everybody else's stay."""
import json
from pathlib import Path

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover import engine, ipset, iptables
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_PROXY, KUBE_ROUTER
from ansible_collections.nodenet.fabric.plugins.modules import kube_router_cleanup as module
from fake_dataplane import FakeNode

FIXTURES = Path(__file__).parent / "fixtures"
RUNNING = (FIXTURES / "kube_router" / "running.nft.save").read_text()
RUNNING6 = (FIXTURES / "kube_router" / "running.ip6.nft.save").read_text()
SETS = (FIXTURES / "kube_router" / "running.ipsets").read_text()
KUBE_PROXY_IPT = (FIXTURES / "kube_proxy" / "iptables-mode.nft.save").read_text()
OPTIONS = {"iptables_backends": ["nft", "legacy"], "ipset": True, "links": True, "routes": True}
ROUTES = [{"family": 4, "dst": "10.244.0.0/24", "gateway": "172.26.6.1", "dev": "eth0", "protocol": "17"},
          {"family": 6, "dst": "fd00:10:244:1::/64", "gateway": "fd00::2", "dev": "eth0", "protocol": "17"}]
EGRESS = ("-A POSTROUTING -m set --match-set kube-router-pod-subnets src -m set ! --match-set kube-router-pod-subnets "
          "dst -m set ! --match-set kube-router-node-ips dst -j MASQUERADE --random-fully")
BRIDGE_ACCEPTS = [
    '-A FORWARD -o eth0 -m comment --comment "allow outbound node port traffic on node interface with which node ip '
    'is associated" -j ACCEPT',
    '-A FORWARD -o kube-bridge -m comment --comment "allow inbound traffic to pods" -j ACCEPT',
    '-A FORWARD -i kube-bridge -m comment --comment "allow outbound traffic from pods" -j ACCEPT']


def plan(text, owner=KUBE_ROUTER):
    return iptables.plan_iptables(text, owner)


def test_kube_routers_netpol_chains_their_jumps_and_the_pod_egress_rule_go():
    found = plan(RUNNING)
    assert found["conflicts"] == []
    assert found["remove"]["filter"] == {
        "jumps": ['-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT',
                  '-A FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD',
                  '-A OUTPUT -m comment --comment "kube-router netpol - VEAAIY32XVBHCSCY" -j KUBE-ROUTER-OUTPUT'],
        "chains": ["KUBE-NWPLCY-COMMON", "KUBE-NWPLCY-DEFAULT", "KUBE-NWPLCY-TAIL", "KUBE-ROUTER-FORWARD",
                   "KUBE-ROUTER-INPUT", "KUBE-ROUTER-OUTPUT"]}
    assert found["remove"]["nat"] == {"jumps": [EGRESS], "chains": []}
    assert set(found["remove"]) == {"filter", "nat"}


def test_what_stays_is_every_other_line_unchanged_and_in_order():
    after = iptables.after_text(RUNNING, plan(RUNNING)["remove"]).splitlines()
    assert not [line for line in after if "KUBE-ROUTER" in line or "NWPLCY" in line or "kube-router-" in line]
    # kubelet's chain, the user's ssh rule and kube-router's FORWARD accepts (left, as its own cleanup leaves them)
    kept = [line for line in RUNNING.splitlines() if line in after]
    assert kept == after
    for line in BRIDGE_ACCEPTS + ["-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A INPUT -j KUBE-FIREWALL",
                                  ":KUBE-FIREWALL - [0:0]"]:
        assert line in after, line
    assert plan("\n".join(after) + "\n")["remove"] == {}


def test_the_two_owners_never_take_each_others_lines():
    assert plan(RUNNING, KUBE_PROXY)["remove"] == {}  # kube-proxy's cleanup already ran on that node
    # a kube-proxy node (with one kube-router chain planted): only that chain and its jump
    assert plan(KUBE_PROXY_IPT)["remove"] == {"filter": {
        "jumps": ['-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT'],
        "chains": ["KUBE-ROUTER-INPUT"]}}
    assert ipset.plan_ipsets(["KUBE-CLUSTER-IP"], set(), KUBE_ROUTER)[0] == []
    assert ipset.plan_ipsets(ipset.parse_ipset_names(SETS), set(), KUBE_PROXY)[0] == []


def test_its_ipsets_go_by_kube_routers_names_only():
    names = ipset.parse_ipset_names(SETS) + ["KUBE-SRC-ABCDEF", "inet6:kube-router-pod-subnets", "KUBE-DST-XYZ",
                                          "cali40all-ipam-pools", "KUBE-CLUSTER-IP", "my-kube-router-set"]
    remove, kept, conflicts = ipset.plan_ipsets(names, set(), KUBE_ROUTER)
    assert remove == ["kube-router-pod-subnets", "kube-router-node-ips", "KUBE-SRC-ABCDEF",
                      "inet6:kube-router-pod-subnets", "KUBE-DST-XYZ"]
    assert kept == 3 and conflicts == []


def test_the_ipvs_masquerade_snat_goes_and_a_users_snat_stays():
    text = RUNNING.replace(EGRESS, EGRESS + "\n" + "\n".join([
        '-A POSTROUTING -m ipvs --ipvs --vdir ORIGINAL --vmethod MASQ -m comment --comment "" -j SNAT '
        '--to-source 172.26.6.2 --random-fully',
        "-A POSTROUTING -s 10.9.0.0/16 -j SNAT --to-source 172.26.6.2",
        "-A PREROUTING -m set --match-set kube-router-pod-subnets src -j ACCEPT"]))
    assert text != RUNNING
    found = plan(text)
    assert found["remove"]["nat"]["jumps"] == [EGRESS, '-A POSTROUTING -m ipvs --ipvs --vdir ORIGINAL --vmethod MASQ '
                                               '-m comment --comment "" -j SNAT --to-source 172.26.6.2 --random-fully']
    # a PREROUTING rule is not one kube-router makes: it stays, and keeps the set in use
    assert "kube-router-pod-subnets" in found["sets"]
    remove, _, conflicts = ipset.plan_ipsets(ipset.parse_ipset_names(SETS), found["sets"], KUBE_ROUTER)
    assert conflicts == ["ipset kube-router-pod-subnets is kube-router's but a rule that stays uses it"]


def test_a_foreign_rule_jumping_into_a_kube_router_chain_refuses_the_run():
    text = RUNNING.replace(":KUBE-FIREWALL - [0:0]\n", ":KUBE-FIREWALL - [0:0]\n:MY-CHAIN - [0:0]\n").replace(
        "-A KUBE-FIREWALL ", "-A MY-CHAIN -j KUBE-NWPLCY-COMMON\n-A KUBE-FIREWALL ", 1)
    node = FakeNode(iptables={"iptables-nft": text}, ipsets=SETS)
    with pytest.raises(engine.CleanupError, match="MY-CHAIN -j KUBE-NWPLCY-COMMON.*kube-router's cleanup deletes"):
        engine.cleanup(node, OPTIONS, owner=KUBE_ROUTER)
    assert [c for c in node.calls if not c[0].endswith("-save") and c[1][:1] != ["list"]
            and "-json" not in c[1]] == []
    assert node.iptables["iptables-nft"] == text


def test_a_whole_run_then_a_second_that_finds_nothing():
    dummy = [{"ifname": "kube-dummy-if", "linkinfo": {"info_kind": "dummy"}, "addr_info": [{"local": "10.254.0.1"}]},
             {"ifname": "eth0", "addr_info": [{"local": "172.26.6.2"}]}]
    node = FakeNode(iptables={"iptables-nft": RUNNING, "ip6tables-nft": RUNNING6},
                    ipsets=SETS + "cali40all-ipam-pools\n", addr=json.dumps(dummy), routes=ROUTES)
    result = engine.cleanup(node, OPTIONS, want_diff=True, owner=KUBE_ROUTER)
    assert result["changed"] is True and result["conflicts"] == []
    assert result["removed"]["ipsets"] == ["kube-router-pod-subnets", "kube-router-node-ips"]
    assert result["removed"]["links"] == ["kube-dummy-if"]
    assert result["removed"]["ipvs"] == [] and result["removed"]["nftables"] == []
    assert result["status"]["ipvs"] == "skipped" and result["status"]["nftables"] == "skipped"
    assert result["removed"]["routes"] == ["10.244.0.0/24 via 172.26.6.1 dev eth0",
                                           "-6 fd00:10:244:1::/64 via fd00::2 dev eth0"]
    # the link, the rules, then the sets they used, then the routes (both families), nothing else
    changes = [(c[0], c[1]) for c in node.calls if c[0] in ("iptables-nft-restore", "ipset") and c[2] is not None
               or c[1][:2] == ["link", "delete"] or "flush" in c[1]]
    assert changes == [("ip", ["link", "delete", "kube-dummy-if"]), ("iptables-nft-restore", ["--noflush"]),
                       ("ipset", ["restore"]), ("ip", ["route", "flush", "proto", "17"]),
                       ("ip", ["-6", "route", "flush", "proto", "17"])]
    assert node.routes == []
    assert node.ipsets == ["cali40all-ipam-pools"]
    assert node.iptables["ip6tables-nft"] == RUNNING6
    assert result["diff"][-1] == {"before_header": "kube-router objects", "after_header": "kube-router objects",
                                  "before": "ipset kube-router-pod-subnets\nipset kube-router-node-ips\n"
                                            "link kube-dummy-if\nroute 10.244.0.0/24 via 172.26.6.1 dev eth0\n"
                                            "route -6 fd00:10:244:1::/64 via fd00::2 dev eth0\n", "after": ""}
    again = engine.cleanup(node, OPTIONS, owner=KUBE_ROUTER)
    assert again["changed"] is False and again["commands"] == []


def test_routes_are_left_when_asked_and_kube_proxys_owner_never_reads_them():
    node = FakeNode(iptables={"iptables-nft": RUNNING}, ipsets=SETS, routes=ROUTES)
    result = engine.cleanup(node, dict(OPTIONS, routes=False), owner=KUBE_ROUTER)
    assert result["removed"]["routes"] == [] and result["status"]["routes"] == "skipped" and len(node.routes) == 2
    node = FakeNode(iptables={"iptables-nft": RUNNING}, routes=ROUTES)
    result = engine.cleanup(node, dict(OPTIONS, ipvs=False, nftables=False), owner=KUBE_PROXY)
    assert "routes" not in result["status"] and len(node.routes) == 2


def test_a_kube_dummy_if_that_is_not_a_dummy_is_a_conflict():
    bridge = [{"ifname": "kube-dummy-if", "linkinfo": {"info_kind": "bridge"}, "addr_info": []}]
    node = FakeNode(iptables={"iptables-nft": RUNNING}, ipsets=SETS, addr=json.dumps(bridge))
    with pytest.raises(engine.CleanupError, match="kube-dummy-if exists but is a bridge device, not kube-router's dummy"):
        engine.cleanup(node, OPTIONS, owner=KUBE_ROUTER)
    assert node.iptables["iptables-nft"] == RUNNING


def test_a_running_kube_router_that_puts_its_chain_back_fails_the_run():
    node = FakeNode(iptables={"iptables-nft": RUNNING}, ipsets=SETS)
    real = node.restore

    def restore(key, batch):
        rc = real(key, batch)
        node.iptables[key] = node.iptables[key].replace(":KUBE-FIREWALL - [0:0]\n",
                                                        ":KUBE-FIREWALL - [0:0]\n:KUBE-ROUTER-INPUT - [0:0]\n", 1)
        return rc
    node.restore = restore
    with pytest.raises(engine.CleanupError, match="kube-router objects are still there"):
        engine.cleanup(node, OPTIONS, owner=KUBE_ROUTER)


def test_the_module(monkeypatch, capsys):
    node = FakeNode(iptables={"iptables-nft": RUNNING}, ipsets=SETS)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, tool, *a, **k: node.which(tool))
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, argv, data=None, **k: node.run(argv, data))

    def run(**args):
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(capsys.readouterr().out)

    out = run(_ansible_check_mode=True)
    assert out["changed"] is True and node.iptables["iptables-nft"] == RUNNING
    out = run()
    assert out["changed"] is True and "failed" not in out
    assert run()["changed"] is False
