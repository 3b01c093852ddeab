"""flannel_hostgw on a dual-stack cluster (inventories/dual-stack's west), against the real flanneld
running both families (flannel.1 and flannel-v6.1): the switch to host-gw under pings every 20 ms
in each family between the pods loses nothing (the counter shown failing first, for IPv6);
afterwards flanneld routes both families over host-gw, neither vxlan device is left, nothing of
ours is, net-conf.json still enables IPv6, the Nodes say host-gw, and a rerun changes nothing."""
import json
import re
import subprocess
import time

import pytest

from lab_run import NODE_ROOT, ROOT, lab, lab_session, playbook, recap

INVENTORY = ROOT / "inventories" / "dual-stack"
WEST = {"west-1": ("10.20.1.21", "fd00:20:1::21", "10.80.1.0/24", "fd80:0:0:1::/64"),
        "west-2": ("10.20.1.22", "fd00:20:1::22", "10.80.2.0/24", "fd80:0:0:2::/64")}
PODS = {"west-1": ("10.80.1.1", "fd80:0:0:1::1"), "west-2": ("10.80.2.1", "fd80:0:0:2::1")}  # the stand-ins
BACKEND = "flannel.alpha.coreos.com/backend-type"


@pytest.fixture(scope="module")
def dual_stack():
    yield from lab_session(INVENTORY)


def core_api():
    from kubernetes import client, config
    return client.CoreV1Api(config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / "west" / "kubeconfig")))


def routes(host, family):
    out = subprocess.run(["ip", "-n", host, family, "-N", "-j", "route", "show"], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out or "[]")


def links(host):
    out = subprocess.run(["ip", "-n", host, "-j", "link", "show"], check=True, capture_output=True, text=True).stdout
    return [link["ifname"] for link in json.loads(out)]


def pinged(output):
    """{pod IP: (sent, lost)} from `tools/lab ping stop`."""
    return dict((ip, (int(sent), int(lost))) for ip, sent, lost in re.findall(
        r"^\s+\S+\s+->\s+\S+\s+(\S+)\s+(\d+)\s+\d+\s+(\d+)$", output, re.M))


def test_the_ipv6_loss_counter_can_fail(dual_stack):
    """A second of dropped IPv6 forwarding on west-2 loses the IPv6 packets to its pod."""
    assert lab("ping", "start", "-i", str(INVENTORY)).returncode == 0
    rule = ["FORWARD", "-d", "fd80:0:0:2::1", "-j", "DROP"]
    subprocess.run(["ip", "netns", "exec", "west-2", "ip6tables", "-I"] + rule, check=True)
    time.sleep(1)
    subprocess.run(["ip", "netns", "exec", "west-2", "ip6tables", "-D"] + rule, check=True)
    stop = lab("ping", "stop")
    counts = pinged(stop.stdout)
    assert stop.returncode == 1 and counts["fd80:0:0:2::1"][1] >= 20, stop.stdout
    assert counts["10.80.2.1"][1] == 0, stop.stdout  # the IPv4 pings were not dropped


def test_both_families_switch_to_host_gw_losing_no_packet(dual_stack):
    for host in WEST:
        assert {"flannel.1", "flannel-v6.1"} <= set(links(host))
    assert lab("ping", "start", "-i", str(INVENTORY)).returncode == 0
    rc, out = playbook(INVENTORY, playbook="playbooks/flannel_hostgw.yml")
    stop = lab("ping", "stop")
    assert rc == 0, out[-3000:]
    counts = pinged(stop.stdout)
    assert sorted(counts) == ["10.80.1.1", "10.80.2.1", "fd80:0:0:1::1", "fd80:0:0:2::1"], stop.stdout
    assert all(lost == 0 for _sent, lost in counts.values()) and stop.returncode == 0, stop.stdout
    assert all(sent > 250 for sent, _lost in counts.values()), stop.stdout  # 5 s at 20 ms, each pair

    for host, (_ip4, _ip6, _pod4, _pod6) in WEST.items():
        assert not {"flannel.1", "flannel-v6.1"} & set(links(host)), links(host)
        (peer, (ip4, ip6, pod4, pod6)), = [(h, v) for h, v in WEST.items() if h != host]
        for family, dst, via in (("-4", pod4, ip4), ("-6", pod6, ip6)):
            route = next(r for r in routes(host, family) if r["dst"] == dst)
            assert (route.get("protocol", "3"), route["gateway"], route["dev"]) == ("3", via, "ens3"), route
            assert [r for r in routes(host, family) if r.get("protocol") == "202"] == []
    conf = json.loads(core_api().read_namespaced_config_map("kube-flannel-cfg", "kube-flannel").data["net-conf.json"])
    assert conf == {"Network": "10.80.0.0/16", "EnableIPv6": True, "IPv6Network": "fd80::/56",
                    "Backend": {"Type": "host-gw"}}
    assert all(n.metadata.annotations[BACKEND] == "host-gw" for n in core_api().list_node().items)
    for src, dst in (("west-1", "west-2"), ("west-2", "west-1")):
        for family, target in zip(("-4", "-6"), PODS[dst]):
            ping = subprocess.run(["ip", "netns", "exec", "%s-pod" % src, "ping", family, "-c", "1", "-W", "2", target],
                                  capture_output=True, text=True)
            assert ping.returncode == 0, (src, target, ping.stdout)

    rc, out = playbook(INVENTORY, playbook="playbooks/flannel_hostgw.yml")
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]
