"""calico_bgp_rr on a dual-stack cluster (inventories/calico-rr-dual-stack): a kube-apiserver, two
BIRD 2 per node (calico-node's bird and bird6, configured by the lab's stand-in from what the role
left in the API), FRR's bgpd on the ToR peering once per family, and an outside client with routes
in both families. Judged by the daemons' sessions of each family, the kernel's routes, pings in
both families, and the objects read back."""
import json
import re
import subprocess
import sys

import pytest

from lab_run import NODE_ROOT, ROOT, lab, lab_session, playbook, recap, vtysh

INVENTORY = ROOT / "inventories" / "calico-rr-dual-stack"
PLAYBOOK = "playbooks/calico_bgp_rr.yml"
NODES = {"k8s-1": ("172.31.13.27", "fd31:13::27"), "k8s-2": ("172.31.13.28", "fd31:13::28"),
         "k8s-3": ("172.31.13.29", "fd31:13::29")}
BLOCKS6 = {"k8s-1": "fd27:208::/122", "k8s-2": "fd27:208::40/122", "k8s-3": "fd27:208::80/122"}
PODS = ["172.27.208.1", "fd27:208::1", "172.27.209.1", "fd27:208::41", "172.27.210.1", "fd27:208::81"]
TOR = ("172.31.13.116", "fd31:13::116")
ESTABLISHED = ("node specific", "Established")
MESH_PEERS = [{"name": "rr-peer", "ip": TOR[0], "as": 7675, "peers": "all"},
              {"name": "rr-peer-v6", "ip": TOR[1], "as": 7675, "peers": "all"}]
MESH = ["-e", json.dumps({"calico_bgp_route_reflector": False, "calico_bgp_peers": MESH_PEERS})]


@pytest.fixture(scope="module")
def dual_stack():
    yield from lab_session(INVENTORY, "--k8s")


def run(*argv):
    return playbook(INVENTORY, *argv, playbook=PLAYBOOK)


def sh(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True)


def sessions(host):
    """{peer ip: (type, info)} of both of the node's BIRDs (bird.ctl: IPv4, bird6: IPv6)."""
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.nodenet.fabric.plugins.module_utils import bird
    found = {}
    for folder in ("bird", "bird6"):
        out = sh("birdc", "-s", str(NODE_ROOT / host / folder / "bird.ctl"), "show", "protocols").stdout
        found.update((s["ip"], (s["type"], s["info"])) for s in bird.parse_protocols(out))
    return found



def routes(host, family, protocol):
    return json.loads(sh("ip", "-n", host, family, "-j", "route", "show", "proto", protocol).stdout or "[]")


def reached(src, targets):
    procs = [(ip, subprocess.Popen(["ip", "netns", "exec", src, "ping", "-6" if ":" in ip else "-4", "-n", "-q", "-c",
                                    "2", "-W", "1", ip], stdout=subprocess.DEVNULL)) for ip in targets]
    return dict((ip, proc.wait() == 0) for ip, proc in procs)


def pinged(output):
    """{pod IP: [(sent, lost)]} from `tools/lab ping stop`."""
    found = {}
    for ip, sent, lost in re.findall(r"^\s+\S+\s+->\s+\S+\s+(\S+)\s+(\d+)\s+\d+\s+(\d+)$", output, re.M):
        found.setdefault(ip, []).append((int(sent), int(lost)))
    return found


def ping_run(*argv):
    assert lab("ping", "start", "-i", str(INVENTORY)).returncode == 0
    rc, out = run(*argv)
    stop = lab("ping", "stop")
    return rc, out, pinged(stop.stdout), stop.stdout


def api():
    from kubernetes import config
    return config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / "k8s" / "kubeconfig"))


def calico(plural, name):
    from kubernetes import client
    return client.CustomObjectsApi(api()).get_cluster_custom_object("crd.projectcalico.org", "v1", plural, name)


def world():
    """What a refused run must leave as it was: the ToR's configuration and the Calico objects."""
    from kubernetes import client
    objects = client.CustomObjectsApi(api())
    versions = dict(("%s/%s" % (plural, o["metadata"]["name"]), o["metadata"]["resourceVersion"])
                    for plural in ("bgppeers", "bgpconfigurations", "ippools")
                    for o in objects.list_cluster_custom_object("crd.projectcalico.org", "v1", plural)["items"])
    nodes = dict((n.metadata.name, n.metadata.resource_version) for n in client.CoreV1Api(api()).list_node().items)
    return vtysh("show running-config"), versions, nodes


def test_both_families_peer_in_the_mesh_and_the_outside_client_reaches_every_pod(dual_stack):
    assert not any(reached("outside", PODS).values())  # Calico's default: no peer, no client route
    rc, out = run(*MESH)
    assert rc == 0, out[-4000:]
    for host, (ip4, ip6) in NODES.items():
        others = [ip for other, ips in NODES.items() if other != host for ip in ips]
        want = dict([(ip, ("node-to-node mesh", "Established")) for ip in others] + [(ip, ESTABLISHED) for ip in TOR])
        assert sessions(host) == want, host
    summary = json.loads(vtysh("show bgp ipv6 unicast summary json"))["peers"]
    assert sorted(summary) == sorted(ips[1] for ips in NODES.values())
    assert all(p["state"] == "Established" and p["pfxRcd"] == 3 for p in summary.values()), summary
    client6 = routes("outside", "-6", "203")
    assert [(r["dst"], r["gateway"]) for r in client6] == [("fd27:208::/112", TOR[1])]
    assert reached("outside", PODS) == dict((ip, True) for ip in PODS)
    rc, out = run(*MESH)
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]


def test_without_bridge_routes_the_ipv6_counter_counts_losses(dual_stack):
    """The IPv6 loss counter can fail: a node with a cluster ID leaves the mesh of both families
    at once, before its route-reflector sessions are up."""
    rc, out = run(*MESH)
    assert rc == 0, out[-3000:]
    rc, out, counts, report = ping_run("-e", "calico_bgp_rr_bridge=false")
    assert rc == 0, out[-3000:]
    assert sum(lost for ip, pairs in counts.items() if ":" in ip for _sent, lost in pairs) > 0, report


def test_mesh_to_route_reflectors_loses_no_packet_in_either_family(dual_stack):
    rc, out = run(*MESH)
    assert rc == 0, out[-3000:]
    assert sessions("k8s-3")[NODES["k8s-1"][1]] == ("node-to-node mesh", "Established")
    rc, out, counts, report = ping_run()
    assert rc == 0, out[-3000:]
    assert sorted(counts) == sorted(PODS), report
    assert all(lost == 0 for pairs in counts.values() for _sent, lost in pairs), report
    assert sum(sent for ip, pairs in counts.items() if ":" in ip for sent, _lost in pairs) > 1000, report
    reflectors = [ip for host in ("k8s-1", "k8s-2") for ip in NODES[host]]
    assert sessions("k8s-3") == dict((ip, ESTABLISHED) for ip in reflectors)
    assert sessions("k8s-1") == dict((ip, ESTABLISHED) for ip in NODES["k8s-2"] + NODES["k8s-3"] + TOR)
    for host in NODES:  # BIRD's IPv6 routes to the other nodes' blocks, and no bridge route left
        bird6 = dict((r["dst"], r["gateway"]) for r in routes(host, "-6", "bird") if "gateway" in r)
        assert bird6 == dict((BLOCKS6[o], NODES[o][1]) for o in NODES if o != host), (host, bird6)
        assert routes(host, "-4", "203") == [] and routes(host, "-6", "203") == []
    assert reached("outside", PODS) == dict((ip, True) for ip in PODS)
    rc, out = run()
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]


def test_the_ipv6_objects_read_back(dual_stack):
    from kubernetes import client
    pool = calico("ippools", "default-ipv6-ippool")
    assert pool["spec"]["cidr"] == "fd27:208::/112" and pool["spec"]["blockSize"] == 122  # the owner's
    assert (pool["spec"]["ipipMode"], pool["spec"]["vxlanMode"], pool["spec"]["natOutgoing"]) == ("Never", "Never", False)
    assert calico("bgppeers", "rr-peer-v6")["spec"]["peerIP"] == TOR[1]
    for node in client.CoreV1Api(api()).list_node().items:
        assert node.metadata.annotations["projectcalico.org/IPv6Address"] == "%s/64" % NODES[node.metadata.name][1]
        assert "nodenet.fabric-addresses" in [m.manager for m in node.metadata.managed_fields]
    daemonset = client.AppsV1Api(api()).read_namespaced_daemon_set("calico-node", "kube-system")
    env = dict((e.name, e.value) for e in daemonset.spec.template.spec.containers[0].env)
    assert (env["IP6"], env["IP6_AUTODETECTION_METHOD"], env["FELIX_IPV6SUPPORT"]) == (
        "autodetect", "cidr=fd31:13::/64", "true")


def test_a_bad_ipv6_peer_changes_nothing_anywhere(dual_stack):
    before = world()
    bad = {"calico_bgp_peers": [{"name": "rr-peer-v6", "ip": NODES["k8s-3"][1], "as": 7675, "peers": "all"}]}
    rc, out = run("-e", json.dumps(bad))
    assert rc != 0
    assert "calico_bgp_peers[rr-peer-v6].ip: fd31:13::29 is node k8s-3 (cluster k8s)" in out, out[-3000:]
    assert "router tor" in out or "bgp_router_ip" in out, out[-3000:]  # the ToR is no longer any cluster's peer
    assert world() == before
