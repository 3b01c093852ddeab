"""kube_proxy_cleanup: what `kube-proxy --cleanup` removes, found in captured dumps of a node in
iptables mode (Calico, Docker, kube-router and a user's rules beside it) and one in IPVS mode,
and the module's whole run against a fake node whose tools apply the batches."""
import json
from pathlib import Path

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover import engine, ipset, iptables, ipvs, nft
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover import links as iproute
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_PROXY
from ansible_collections.nodenet.fabric.plugins.modules import kube_proxy_cleanup as module
from fake_dataplane import FakeNode

FIXTURES = Path(__file__).parent / "fixtures" / "kube_proxy"


def fixture(name):
    return (FIXTURES / name).read_text()


IPT = fixture("iptables-mode.nft.save")
IPT6 = fixture("iptables-mode.ip6.nft.save")
IPVS_SAVE = fixture("ipvs-mode.legacy.save")
IPVSADM = fixture("ipvs-mode.ipvsadm-S")
ADDR = fixture("ipvs-mode.addr.json")
IPSETS = fixture("ipvs-mode.ipsets")
NFT = fixture("nft-tables.txt")
OPTIONS = {"iptables_backends": ["nft", "legacy"], "ipset": True, "ipvs": True, "nodeport_range": "30000-32767",
           "service_cidrs": [], "nftables": True}


def rules(text):
    return [line for line in text.splitlines() if line.startswith("-A ")]


def chains(text):
    return [line[1:].split()[0] for line in text.splitlines() if line.startswith(":")]


# ---------------------------------------------------------------- iptables mode

IPT_JUMPS = {
    "filter": [
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    "nat": [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'],
}
IPT_CHAINS = {
    "mangle": ["KUBE-PROXY-CANARY"],
    "filter": ["KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS", "KUBE-PROXY-CANARY", "KUBE-PROXY-FIREWALL",
               "KUBE-SERVICES"],
    "nat": ["KUBE-EXT-LOLE4ISW44XBNF3G", "KUBE-FW-LOLE4ISW44XBNF3G", "KUBE-MARK-MASQ", "KUBE-NODEPORTS",
            "KUBE-POSTROUTING", "KUBE-PROXY-CANARY", "KUBE-SEP-6E7XQMQ4RAYOWTTM", "KUBE-SEP-IT2ZTR26TO4XFPTO",
            "KUBE-SEP-XLKPT2MUS3BZ6IVH", "KUBE-SEP-YIL6JZP7A3QYXJU2", "KUBE-SERVICES", "KUBE-SVC-LOLE4ISW44XBNF3G",
            "KUBE-SVC-NPX46M4PTMTKRN6Y", "KUBE-SVC-TCOU7JCQXEZGVUNU", "KUBE-SVL-LOLE4ISW44XBNF3G"],
}
KUBELET = ("KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT", "KUBE-MARK-DROP")


def test_the_iptables_mode_node_loses_exactly_kube_proxys_jumps_and_chains():
    plan = iptables.plan_iptables(IPT)
    assert plan["conflicts"] == []
    assert {t: p["jumps"] for t, p in plan["remove"].items() if p["jumps"]} == IPT_JUMPS
    assert dict((t, p["chains"]) for t, p in plan["remove"].items()) == IPT_CHAINS
    # every removed line: the jumps, the chains' declarations and every rule inside them
    after = iptables.after_text(IPT, plan["remove"])
    gone = set(IPT.splitlines()) - set(after.splitlines())
    owned = set(sum(IPT_CHAINS.values(), []))
    inside = [line for line in IPT.splitlines()
              if (line.startswith(":") and line[1:].split()[0] in owned) or (line.startswith("-A ") and line.split()[1] in owned)]
    expected = set(sum(IPT_JUMPS.values(), [])) | set(inside)
    assert gone == expected
    # 12 jumps, 22 chain declarations, 39 rules inside them (some declarations repeat across tables)
    assert len(IPT.splitlines()) - len(after.splitlines()) == 73


def test_every_foreign_line_is_in_the_after_text_unchanged_and_in_order():
    plan = iptables.plan_iptables(IPT)
    after = iptables.after_text(IPT, plan["remove"]).splitlines()
    removed = set(sum(IPT_JUMPS.values(), []))
    owned = set(sum(IPT_CHAINS.values(), []))
    kept = [line for line in IPT.splitlines()
            if line not in removed and not (line.startswith(":") and line[1:].split()[0] in owned)
            and not (line.startswith("-A ") and line.split()[1] in owned)]
    assert after == kept
    for line in ("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A INPUT -j KUBE-FIREWALL",
                 "-A OUTPUT -j KUBE-FIREWALL", "-A FORWARD -j DOCKER-USER",
                 '-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT',
                 '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
                 "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
                 "-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000"):
        assert line in after


def test_kubelet_calico_docker_and_kube_router_chains_stay():
    after = iptables.after_text(IPT, iptables.plan_iptables(IPT)["remove"])
    left = set(chains(after))
    assert set(KUBELET) <= left
    assert {"DOCKER", "DOCKER-USER", "DOCKER-ISOLATION-STAGE-1", "KUBE-ROUTER-INPUT", "cali-INPUT",
            "cali-nat-outgoing"} <= left
    assert not any(KUBE_PROXY.owns("chain", (t, c)) for t in ("nat", "filter", "mangle") for c in left)
    kept = iptables.plan_iptables(IPT)["kept"]
    assert kept == {"mangle": {"chains": 4, "rules": 4}, "filter": {"chains": 12, "rules": 26},
                    "nat": {"chains": 9, "rules": 13}}


def test_the_after_text_plans_nothing_more():
    after = iptables.after_text(IPT, iptables.plan_iptables(IPT)["remove"])
    assert iptables.plan_iptables(after)["remove"] == {}
    assert iptables.after_text(after, {}) == after


def test_the_batch_deletes_the_jumps_then_flushes_then_deletes_every_chain():
    plan = iptables.plan_iptables(IPT)["remove"]
    batch = iptables.restore_batch(plan).splitlines()
    assert [l for l in batch if l.startswith("*")] == ["*filter", "*mangle", "*nat"]
    assert batch.count("COMMIT") == 3
    nat = batch[batch.index("*nat") + 1:-1]
    assert nat[:3] == ["-D" + j[2:] for j in IPT_JUMPS["nat"]]
    assert nat[3:3 + 15] == ["-F " + c for c in IPT_CHAINS["nat"]]
    assert nat[18:] == ["-X " + c for c in IPT_CHAINS["nat"]]
    assert batch[batch.index("*mangle"):batch.index("*nat")] == [
        "*mangle", "-F KUBE-PROXY-CANARY", "-X KUBE-PROXY-CANARY", "COMMIT"]
    assert '-D INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS' in batch
    assert not any(l.startswith("-A") or "KUBE-FIREWALL" in l or "cali" in l or "DOCKER" in l for l in batch)


def test_a_jump_to_a_foreign_chain_from_a_base_chain_is_never_deleted():
    text = """*filter
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FW-ADMIN - [0:0]
:KUBE-SERVICES-LOCAL - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-XLB-ABCDEF - [0:0]
-A INPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES-LOCAL
-A INPUT -j KUBE-FW-ADMIN
-A INPUT -m comment --comment "kubernetes service portals" -j KUBE-XLB-ABCDEF
-A INPUT -m comment --comment "an old wording" -j KUBE-SERVICES
-A OUTPUT -j KUBE-SERVICES
COMMIT
"""
    plan = iptables.plan_iptables(text)
    # KUBE-FW-* is kube-proxy's only in nat; the others are not in its list at all
    assert plan["remove"] == {"filter": {"jumps": ['-A INPUT -m comment --comment "an old wording" -j KUBE-SERVICES',
                                                   "-A OUTPUT -j KUBE-SERVICES"],
                                         "chains": ["KUBE-SERVICES"]}}
    assert plan["kept"]["filter"] == {"chains": 3, "rules": 3} and plan["conflicts"] == []


def test_a_rule_that_stays_but_jumps_to_a_kube_proxy_chain_is_a_conflict():
    text = """*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SVC-AAAA - [0:0]
:KUBE-XLB-AAAA - [0:0]
-A KUBE-XLB-AAAA -j KUBE-SVC-AAAA
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:KUBE-PROXY-CANARY - [0:0]
-A PREROUTING -j KUBE-PROXY-CANARY
COMMIT
"""
    conflicts = iptables.plan_iptables(text)["conflicts"]
    assert len(conflicts) == 2 and "KUBE-XLB-AAAA -j KUBE-SVC-AAAA" in conflicts[0]
    assert "-A PREROUTING -j KUBE-PROXY-CANARY" in conflicts[1]  # mangle has no base chain kube-proxy hooks


def test_quotes_in_comments_and_targetless_rules_parse():
    rule = iptables.parse_rule('-A KUBE-FW-X -m comment --comment "other traffic to default/web:http will be dropped"')
    assert rule["chain"] == "KUBE-FW-X" and rule["target"] is None
    rule = iptables.parse_rule('-A INPUT -m comment --comment "say \\"hi\\" -j KUBE-SERVICES" -j ACCEPT')
    assert rule["target"] == "ACCEPT"
    rule = iptables.parse_rule("-A INPUT -m comment --comment \"unbalanced -j KUBE-SERVICES")
    assert rule["chain"] == "INPUT"  # falls back to whitespace; the flag scan still works
    rule = iptables.parse_rule("-A KUBE-SERVICES -m set ! --match-set KUBE-CLUSTER-IP dst,dst -g KUBE-MARK-MASQ")
    assert rule["target"] == "KUBE-MARK-MASQ" and rule["sets"] == {"KUBE-CLUSTER-IP"}


def test_diff_text_drops_comments_and_counters():
    text = iptables.table_text(IPT, {"mangle": {}})
    assert text.splitlines()[:2] == ["*mangle", ":PREROUTING ACCEPT"]
    assert "#" not in text and "[" not in text and text.endswith("COMMIT\n")


# ---------------------------------------------------------------- IPVS mode

IPVS_CHAINS = {"filter": ["KUBE-FORWARD", "KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER", "KUBE-NODE-PORT",
                          "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL"],
               "nat": ["KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ", "KUBE-NODE-PORT", "KUBE-POSTROUTING", "KUBE-SERVICES"]}
IPVS_REMOVED = ["-t 10.96.0.1:443", "-t 10.96.0.10:53", "-u 10.96.0.10:53", "-t 10.96.45.7:80", "-t 172.26.6.200:80",
                "-t 172.26.6.11:30080", "-t 10.244.1.1:30080", "--sctp-service 172.26.6.11:30900",
                "-t [fd00:10:96::1]:443"]


def test_the_ipvs_mode_chains_and_their_jumps_go_and_kubelets_stay():
    plan = iptables.plan_iptables(IPVS_SAVE)
    assert dict((t, p["chains"]) for t, p in plan["remove"].items()) == IPVS_CHAINS
    assert [j.split(" -j ")[-1] for j in plan["remove"]["filter"]["jumps"]] == [
        "KUBE-IPVS-FILTER", "KUBE-PROXY-FIREWALL", "KUBE-NODE-PORT", "KUBE-PROXY-FIREWALL", "KUBE-FORWARD",
        "KUBE-IPVS-OUT-FILTER"]
    assert len(plan["remove"]["nat"]["jumps"]) == 3 and plan["conflicts"] == []
    after = iptables.after_text(IPVS_SAVE, plan["remove"])
    assert rules(after) == ["-A INPUT -j KUBE-FIREWALL", "-A INPUT -p tcp -m tcp --dport 22 -j ADMIN-SSH",
                            "-A OUTPUT -j KUBE-FIREWALL", "-A ADMIN-SSH -s 172.26.6.0/24 -j ACCEPT",
                            "-A ADMIN-SSH -j DROP", rules(IPVS_SAVE)[11],
                            "-A POSTROUTING -s 10.8.0.0/24 -o eth0 -j MASQUERADE"]
    assert plan["sets"] == set()  # no rule that stays uses a set


def test_ipsets_go_only_by_kube_proxys_names():
    names = ipset.parse_ipset_names(IPSETS)
    remove, kept, conflicts = ipset.plan_ipsets(names, set())
    assert remove == list(KUBE_PROXY.ipsets) and len(remove) == 17 and kept == 3 and conflicts == []
    assert "KUBE-DST-4QGWB4LEFJNDVQHH" not in remove and "cali40all-ipam-pools" not in remove
    # kube-proxy's cleanup destroys only the IPv4 names, not the dual-stack KUBE-6-* sets
    assert ipset.plan_ipsets(["KUBE-6-CLUSTER-IP", "KUBE-6-LOAD-BALANCER-SOURCE-CID"], set())[0] == []
    _, _, conflicts = ipset.plan_ipsets(names, {"KUBE-CLUSTER-IP", "cali40all-ipam-pools"})
    assert conflicts == ["ipset KUBE-CLUSTER-IP is kube-proxy's but a rule that stays uses it"]
    assert ipset.ipset_batch(["KUBE-LOOP-BACK", "KUBE-IPVS-IPS"]) == "destroy KUBE-LOOP-BACK\ndestroy KUBE-IPVS-IPS\n"


def test_only_the_virtual_services_kube_proxy_would_have_made_go():
    services = ipvs.parse_ipvs_save(IPVSADM)
    links = iproute.parse_links(ADDR)
    remove, kept = ipvs.plan_ipvs(services, links, (30000, 32767), [])
    assert remove == IPVS_REMOVED and kept == 6
    # the keepalived VIP on port 80, a node port outside the range, loopback, a foreign address
    # in the range, and a fwmark service stay
    assert ipvs.ipvs_batch(remove).splitlines()[0] == "-D -t 10.96.0.1:443"
    assert "-D --sctp-service 172.26.6.11:30900" in ipvs.ipvs_batch(remove).splitlines()


def test_service_cidrs_catch_a_cluster_ip_whose_address_left_kube_ipvs0():
    services = ipvs.parse_ipvs_save(IPVSADM)
    links = iproute.parse_links(ADDR)
    opts = engine.check_options(dict(OPTIONS, service_cidrs=["10.96.0.0/12"]))
    remove, kept = ipvs.plan_ipvs(services, links, opts["nodeport_range"], opts["service_cidrs"])
    assert "-t 10.96.77.7:8080" in remove and kept == 5
    # without kube-ipvs0 and without a NodePort range, only the CIDR speaks
    del links["kube-ipvs0"]
    remove, _ = ipvs.plan_ipvs(services, links, None, opts["service_cidrs"])
    assert remove == ["-t 10.96.0.1:443", "-t 10.96.0.10:53", "-u 10.96.0.10:53", "-t 10.96.45.7:80",
                      "-t 10.96.77.7:8080"]


def test_ipvsadm_list_output_is_not_mistaken_for_services():
    assert ipvs.parse_ipvs_save(fixture("ipvs-mode.ipvsadm-Ln")) == []


def test_the_link_goes_only_as_a_dummy_and_nft_tables_only_ip_and_ip6():
    links = iproute.parse_links(ADDR)
    assert links["kube-ipvs0"]["kind"] == "dummy" and iproute.plan_links(links) == (["kube-ipvs0"], [])
    links["kube-ipvs0"]["kind"] = "bridge"
    assert iproute.plan_links(links)[0] == [] and "not kube-proxy's dummy" in iproute.plan_links(links)[1][0]
    tables = nft.parse_nft_tables(NFT + "table inet kube-proxy\n")
    assert "inet kube-proxy" in tables
    plan = engine.make_plan(dict(empty_state(), nftables=tables), engine.check_options(OPTIONS))
    assert plan["remove"]["nftables"] == ["ip kube-proxy", "ip6 kube-proxy"] and plan["kept"]["nftables"] == 8
    assert nft.nft_batch(plan["remove"]["nftables"]) == "delete table ip kube-proxy\ndelete table ip6 kube-proxy\n"


@pytest.mark.parametrize("value, expected", [("30000-32767", (30000, 32767)), ("31000", (31000, 31000)), ("", None)])
def test_nodeport_range(value, expected):
    assert engine.parse_port_range(value) == expected


@pytest.mark.parametrize("options", [{"nodeport_range": "30000-"}, {"nodeport_range": "32767-30000"},
                                     {"service_cidrs": ["10.96.0.0/33"]}, {"iptables_backends": ["nftables"]}])
def test_bad_options_are_refused(options):
    with pytest.raises(ValueError):
        engine.check_options(dict(OPTIONS, **options))


def empty_state():
    return {"status": {}, "notes": [], "iptables": {}, "ipsets": [], "ipvs": [], "links": {}, "nftables": [],
            "routes": []}


# ---------------------------------------------------------------- the whole run, on a fake node

def ipvs_node(**kwargs):
    args = dict(iptables={"iptables-legacy": IPVS_SAVE}, ipsets=IPSETS, ipvs=IPVSADM, addr=ADDR, nft=NFT)
    args.update(kwargs)
    return FakeNode(**args)


def test_a_whole_iptables_mode_run_then_a_second_that_finds_nothing():
    node = FakeNode(iptables={"iptables-nft": IPT, "ip6tables-nft": IPT6}, nft=NFT, ipsets="cali40all-ipam-pools\n")
    result = engine.cleanup(node, OPTIONS, want_diff=True)
    assert result["changed"] is True
    assert result["removed"]["iptables"]["iptables-nft"] == iptables.plan_iptables(IPT)["remove"]
    assert set(result["removed"]["iptables"]["ip6tables-nft"]) == {"mangle", "filter", "nat"}
    assert result["removed"]["nftables"] == ["ip kube-proxy", "ip6 kube-proxy"]
    assert result["status"] == {"iptables-nft": "read", "ip6tables-nft": "read", "iptables-legacy": "unavailable",
                                "ip6tables-legacy": "unavailable", "ipset": "read", "ipvs": "unavailable",
                                "links": "read", "nftables": "read"}
    assert "ipvs: Can't initialize ipvs: Protocol not available" in result["notes"]
    # one restore per backend and family, every foreign line still there
    restores = [c for c in node.calls if c[0].endswith("-restore")]
    assert [(c[0], c[1]) for c in restores] == [("iptables-nft-restore", ["--noflush"]),
                                                ("ip6tables-nft-restore", ["--noflush"])]
    assert node.iptables["iptables-nft"] == iptables.after_text(IPT, iptables.plan_iptables(IPT)["remove"])
    assert [d["before_header"] for d in result["diff"]] == [
        "ip6tables-nft-save (filter, mangle, nat)", "iptables-nft-save (filter, mangle, nat)", "kube-proxy objects"]
    assert result["diff"][1]["after"] == iptables.table_text(node.iptables["iptables-nft"], ["filter", "mangle", "nat"])
    assert result["diff"][2] == {"before_header": "kube-proxy objects", "after_header": "kube-proxy objects",
                                 "before": "nftables table ip kube-proxy\nnftables table ip6 kube-proxy\n", "after": ""}
    again = engine.cleanup(node, OPTIONS)
    assert again["changed"] is False and again["commands"] == [] and engine.is_empty(again["removed"])


def test_check_mode_reads_only_and_its_diff_matches_the_real_run():
    node = FakeNode(iptables={"iptables-nft": IPT}, nft=NFT)
    check = engine.cleanup(node, OPTIONS, check_mode=True, want_diff=True)
    assert check["changed"] is True and node.iptables["iptables-nft"] == IPT and "delete" not in node.nft
    assert all(c[0].endswith("-save") or c[1][:1] in (["list"], ["-S"], ["-json"]) for c in node.calls)
    assert [c["command"] for c in check["commands"]] == ["iptables-nft-restore --noflush", "nft -f -"]
    real = engine.cleanup(node, OPTIONS, want_diff=True)
    assert real["removed"] == check["removed"] and real["diff"] == check["diff"]


def test_a_whole_ipvs_mode_run_in_kube_proxys_order():
    node = ipvs_node()
    result = engine.cleanup(node, OPTIONS)
    removed = result["removed"]
    assert removed["ipvs"] == IPVS_REMOVED and removed["links"] == ["kube-ipvs0"]
    assert removed["ipsets"] == list(KUBE_PROXY.ipsets) and removed["nftables"] == ["ip kube-proxy", "ip6 kube-proxy"]
    assert dict((t, p["chains"]) for t, p in removed["iptables"]["iptables-legacy"].items()) == IPVS_CHAINS
    changes = [c[0] for c in node.calls if c[1][:1] in (["-R"], ["link"], ["restore"], ["--noflush"], ["-f"])]
    assert changes == ["ipvsadm", "ip", "iptables-legacy-restore", "ipset", "nft"]
    assert ("iptables-legacy-restore", ["--noflush", "--wait=5"]) in [(c[0], c[1]) for c in node.calls]
    assert node.ipsets == ["KUBE-DST-4QGWB4LEFJNDVQHH", "cali40all-ipam-pools", "cali40masq-ipam-pools"]
    assert [l for l in node.ipvs.splitlines() if l.startswith("-A")] == [
        "-A -t 10.96.77.7:8080 -s rr", "-A -t 172.26.6.100:80 -s wlc", "-A -t 172.26.6.11:8443 -s rr",
        "-A -t 127.0.0.1:30080 -s rr", "-A -u 192.0.2.53:30053 -s rr", "-A -f 7 -s rr"]
    assert result["kept"] == {"iptables": {"iptables-legacy": {"mangle": {"chains": 2, "rules": 0},
                                                               "filter": {"chains": 3, "rules": 6},
                                                               "nat": {"chains": 1, "rules": 1}}},
                              "ipsets": 3, "ipvs": 6, "nftables": 7}
    assert engine.cleanup(node, OPTIONS)["changed"] is False


def test_unavailable_ipvs_and_missing_tools_are_nothing_to_do():
    node = FakeNode(ipvs=None, missing={"nft"})
    result = engine.cleanup(node, OPTIONS)
    assert result["changed"] is False and engine.is_empty(result["removed"])
    assert result["status"]["ipvs"] == "unavailable" and result["status"]["nftables"] == "unavailable"
    assert result["status"]["iptables-nft"] == "unavailable" and result["status"]["ipset"] == "unavailable"
    assert "nftables: nft not found" in result["notes"]
    off = engine.cleanup(ipvs_node(), dict(OPTIONS, ipvs=False, ipset=False, nftables=False, iptables_backends=[]),
                      check_mode=True)
    assert off["status"] == {"ipset": "skipped", "ipvs": "skipped", "links": "skipped", "nftables": "skipped"}
    assert engine.is_empty(off["removed"])


def test_an_empty_backend_is_skipped():
    node = FakeNode(iptables={"iptables-legacy": "# Warning: iptables-legacy tables present\n"})
    result = engine.cleanup(node, dict(OPTIONS, iptables_backends=["legacy"]))
    assert result["status"]["iptables-legacy"] == "empty" and not any(c[0].endswith("-restore") for c in node.calls)


def test_a_read_error_that_is_not_unavailability_fails_before_anything():
    node = FakeNode(iptables={"iptables-nft": IPT})
    node.run_real = node.run
    node.run = lambda argv, stdin=None: ((4, "", "iptables-nft-save: Permission denied (you must be root)")
                                         if argv[0].endswith("-save") else node.run_real(argv, stdin))
    with pytest.raises(engine.CleanupError, match="Permission denied"):
        engine.cleanup(node, OPTIONS)


def test_a_failing_restore_changes_nothing_and_says_so():
    node = FakeNode(iptables={"iptables-nft": IPT}, fail={"iptables-nft-restore"}, nft=NFT)
    with pytest.raises(engine.CleanupError, match="iptables-nft: iptables-nft-restore --noflush failed") as err:
        engine.cleanup(node, OPTIONS)
    assert err.value.result["changed"] is False and engine.is_empty(err.value.result["removed"])
    assert node.iptables["iptables-nft"] == IPT and "kube-proxy" in node.nft  # stopped before nft


def test_a_restore_failing_after_another_backend_changed_reports_changed():
    node = FakeNode(iptables={"iptables-nft": IPT, "ip6tables-nft": IPT6}, fail={"ip6tables-nft-restore"})
    with pytest.raises(engine.CleanupError, match="ip6tables-nft-restore") as err:
        engine.cleanup(node, OPTIONS)
    result = err.value.result
    assert result["changed"] is True
    assert set(result["removed"]["iptables"]) == {"iptables-nft"}
    assert node.iptables["ip6tables-nft"] == IPT6


def test_a_conflict_refuses_the_run_before_any_change():
    old = IPVS_SAVE.replace(":KUBE-SERVICES - [0:0]\n", ":KUBE-SERVICES - [0:0]\n:KUBE-FIREWALL - [0:0]\n", 1).replace(
        "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN\n",
        "-A KUBE-FIREWALL -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN\n"
        "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN\n", 1)
    node = ipvs_node(iptables={"iptables-legacy": old})
    with pytest.raises(engine.CleanupError, match="nothing was changed: ipset KUBE-LOAD-BALANCER-SOURCE-CIDR") as err:
        engine.cleanup(node, OPTIONS)
    assert err.value.result["changed"] is False and engine.is_empty(err.value.result["removed"])
    assert all(c[1][:1] in (["list"], ["-S"], ["-json"], []) for c in node.calls)


def test_a_missing_restore_tool_is_refused_before_any_change():
    node = FakeNode(iptables={"iptables-nft": IPT}, missing={"iptables-nft-restore"})
    with pytest.raises(engine.CleanupError, match="iptables-nft-restore not found"):
        engine.cleanup(node, OPTIONS)
    assert node.iptables["iptables-nft"] == IPT


def test_what_kube_proxy_puts_back_fails_the_run():
    node = FakeNode(iptables={"iptables-nft": IPT})
    node.restore_real = node.restore

    def restore(key, batch):  # a running kube-proxy recreates its canary at once
        rc = node.restore_real(key, batch)
        node.iptables[key] = node.iptables[key].replace(":KUBE-KUBELET-CANARY - [0:0]\n",
                                                        ":KUBE-KUBELET-CANARY - [0:0]\n:KUBE-PROXY-CANARY - [0:0]\n", 1)
        return rc
    node.restore = restore
    with pytest.raises(engine.CleanupError, match="still there") as err:
        engine.cleanup(node, OPTIONS)
    assert err.value.result["changed"] is True
    assert err.value.result["remaining"]["iptables"]["iptables-nft"]["mangle"]["chains"] == ["KUBE-PROXY-CANARY"]


# ---------------------------------------------------------------- the module itself

def run_module(node, monkeypatch, capsys, **args):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, tool, *a, **k: node.which(tool))
    monkeypatch.setattr(basic.AnsibleModule, "run_command",
                        lambda self, argv, data=None, **k: node.run(argv, data))
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def test_the_module_runs_reads_applies_and_rereads(monkeypatch, capsys):
    node = ipvs_node()
    out = run_module(node, monkeypatch, capsys, _ansible_diff=True)
    assert out["changed"] is True and out["removed"]["links"] == ["kube-ipvs0"] and "failed" not in out
    assert out["diff"][-1]["before"].startswith("ipset KUBE-LOOP-BACK\n")
    out = run_module(node, monkeypatch, capsys, _ansible_check_mode=True)
    assert out["changed"] is False and out["commands"] == []


def test_the_module_fails_with_the_result_on_a_failing_restore(monkeypatch, capsys):
    node = ipvs_node(fail={"iptables-legacy-restore"})
    out = run_module(node, monkeypatch, capsys)
    assert out["failed"] is True and "iptables-legacy-restore" in out["msg"]
    assert out["changed"] is True  # the IPVS services and the link went before the restore failed
    assert out["removed"]["ipvs"] == IPVS_REMOVED
    assert out["removed"]["iptables"] == {} and out["removed"]["ipsets"] == []


def test_the_module_refuses_a_bad_option(monkeypatch, capsys):
    out = run_module(FakeNode(), monkeypatch, capsys, nodeport_range="many")
    assert out["failed"] is True and "nodeport_range" in out["msg"] and out["changed"] is False
