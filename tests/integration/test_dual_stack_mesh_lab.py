"""vxlan_mesh on a dual-stack lab (inventories/dual-stack): east (Calico) and west (flannel, the real
flanneld in both families) dual-stack, south (kube-router) IPv6-only on an IPv6-only subnet. One
mesh device per node carries both families over the IPv6 underlay every node shares. Judged in
the kernel (device, IPv6 neighbors, FDB remotes, routes), by pings in each family (`tools/lab
matrix`, shown failing when an IPv6 route is gone), and by the IPPools read back from east's API
server; a rerun changes nothing, a bad IPv6 inventory changes nothing anywhere, and absent leaves
nothing of ours in either family."""
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from kernel_snapshot import snapshot
from lab_run import NODE_ROOT, ROOT, lab, lab_session, playbook, recap

INVENTORY = ROOT / "inventories" / "dual-stack"
NODES = ("east-1", "east-2", "south-1", "south-2", "west-1", "west-2")
DEVICE, PROTO = "nnmesh0", 201
PLAYBOOK = "playbooks/vxlan_mesh.yml"


@pytest.fixture(scope="module")
def dual_stack():
    yield from lab_session(INVENTORY)


def kernel():
    return dict((host, snapshot(host, DEVICE, PROTO)) for host in NODES)


def ip_json(host, *argv):
    out = subprocess.run(["ip", "-n", host, "-j"] + list(argv), check=True, capture_output=True, text=True).stdout
    return json.loads(out or "[]")


def ippools(cluster):
    from kubernetes import client, config
    api = config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / cluster / "kubeconfig"))
    items = client.CustomObjectsApi(api).list_cluster_custom_object("crd.projectcalico.org", "v1", "ippools")["items"]
    return dict((p["metadata"]["name"], p["spec"]) for p in items)


def matrix():
    proc = lab("matrix", "-i", str(INVENTORY))
    return proc.returncode, proc.stdout


def test_both_families_are_meshed_over_the_ipv6_underlay_and_a_rerun_changes_nothing(dual_stack):
    rc, out = playbook(INVENTORY, "-e", "vxlan_mesh_state=absent", playbook=PLAYBOOK)
    assert rc == 0, out[-3000:]
    before = kernel()
    rc, out = playbook(INVENTORY, "--check", "--diff", playbook=PLAYBOOK)
    assert rc == 0, out[-3000:]
    assert kernel() == before and all(recap(out)[h]["changed"] >= 1 for h in NODES), out[-3000:]
    assert "+route fd90:0:0:1::/64 via fd17:31::31 dev nnmesh0" in out  # diff mode, an IPv6 route

    rc, out = playbook(INVENTORY, playbook=PLAYBOOK)
    assert rc == 0, out[-3000:]
    for host in NODES:
        assert kernel()[host][1] == before[host][1], host  # flanneld's and the lab's own state untouched
    link = ip_json("south-1", "-d", "link", "show", DEVICE)[0]
    assert link["linkinfo"]["info_data"]["local6"] == "fd00:20:3::31" and link["mtu"] == 1430
    fdb = subprocess.run(["bridge", "-n", "south-1", "-j", "fdb", "show", "dev", DEVICE], check=True,
                         capture_output=True, text=True).stdout
    assert sorted(f["dst"] for f in json.loads(fdb) if f.get("dst")) == [
        "fd00:20:1::11", "fd00:20:1::21", "fd00:20:1::22", "fd00:20:2::12", "fd00:20:3::32"]
    neighbors = [n["dst"] for n in ip_json("east-2", "neigh", "show", "dev", DEVICE, "nud", "permanent")]
    assert sorted(neighbors) == sorted(["172.31.1.11", "172.31.1.21", "172.31.1.22", "fd17:31::11", "fd17:31::21",
                                        "fd17:31::22", "fd17:31::31", "fd17:31::32"])
    routes = dict((r["dst"], (r.get("gateway"), r["dev"])) for r in ip_json("east-1", "-6", "route", "show", "proto",
                                                                            str(PROTO)))
    assert routes == {"fd80:0:0:1::/64": ("fd00:20:1::21", "ens3"), "fd80:0:0:2::/64": ("fd00:20:1::22", "ens3"),
                      "fd90:0:0:1::/64": ("fd17:31::31", DEVICE), "fd90:0:0:2::/64": ("fd17:31::32", DEVICE)}
    routes = dict((r["dst"], (r.get("gateway"), r["dev"])) for r in ip_json("east-2", "-6", "route", "show", "proto",
                                                                            str(PROTO)))
    assert routes["fd80:0:0:2::/64"] == ("fd17:31::22", DEVICE)  # another subnet: over the mesh
    rc, out = matrix()
    assert rc == 0 and "36 of 36 expected paths reachable" in out, out
    south = next(line for line in out.splitlines() if line.startswith("south-1-pod")).split()
    assert south.count("ok") == 4 and "FAIL" not in south  # IPv6 to east's and west's pods, from an IPv6-only pod

    pools = ippools("east")
    assert dict((name, spec["cidr"]) for name, spec in pools.items() if name.startswith(("pod-", "svc-"))) == {
        "pod-west": "10.80.0.0/16", "svc-west": "10.180.0.0/16", "pod-west-v6": "fd80::/56",
        "svc-west-v6": "fd80:ffff::/112", "pod-south-v6": "fd90::/56", "svc-south-v6": "fd90:ffff::/112"}
    assert pools["pod-south-v6"]["disabled"] is True and pools["pod-south-v6"]["natOutgoing"] is False

    rc, out = playbook(INVENTORY, playbook=PLAYBOOK)
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]


def test_a_lost_ipv6_route_is_seen_by_the_matrix_and_put_back(dual_stack):
    rc, out = playbook(INVENTORY, playbook=PLAYBOOK)
    assert rc == 0, out[-3000:]
    subprocess.run(["ip", "-n", "south-1", "route", "delete", "fd70:0:0:1::/122", "proto", str(PROTO)], check=True)
    rc, out = matrix()
    assert rc == 1 and "34 of 36 expected paths reachable" in out, out  # south-1 -> east-1's pod, both ways
    rc, out = playbook(INVENTORY, playbook=PLAYBOOK)
    assert rc == 0 and recap(out)["south-1"]["changed"] >= 1, out[-3000:]
    assert all(recap(out)[h]["changed"] == 0 for h in NODES if h != "south-1"), out[-3000:]
    rc, out = matrix()
    assert rc == 0, out


def test_a_bad_ipv6_inventory_changes_nothing_anywhere(dual_stack, tmp_path):
    inventory = yaml.safe_load((INVENTORY / "hosts.yml").read_text())
    inventory["all"]["children"]["vxlan_mesh"]["vars"]["vxlan_mesh_underlay"] = "ipv4"
    inventory["all"]["children"]["west"]["hosts"]["west-2"]["node_ip"] = "10.20.2.22,fe80::22"
    inventory["all"]["children"]["east"]["hosts"]["east-1"]["node_pod_cidrs"] = ["10.70.1.0/24", "fd70:0:0:1::/64"]
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    before = kernel()
    rc, out = playbook(tmp_path, playbook=PLAYBOOK)
    assert rc != 0
    for line in ("cluster south, node south-1, node_ip: has no IPv4 address, and vxlan_mesh_underlay is ipv4",
                 "cluster west, node west-2, node_ip: fe80::22 is link-local",
                 "cluster east, node east-1, node_pod_cidrs: fd70:0:0:1::/64: calico takes an IPv6 node pod CIDR of "
                 "/116 to /128"):
        assert line in out, out[-4000:]
    assert kernel() == before
    assert all(r["changed"] == 0 for r in recap(out).values())


def test_absent_leaves_nothing_of_ours_in_either_family(dual_stack):
    rc, out = playbook(INVENTORY, playbook=PLAYBOOK)
    assert rc == 0, out[-3000:]
    rc, out = playbook(INVENTORY, "-e", "vxlan_mesh_state=absent", playbook=PLAYBOOK)
    assert rc == 0, out[-3000:]
    for host, (owned, _foreign) in kernel().items():
        assert owned == {"links": [], "routes": [], "neigh": [], "fdb": [], "nexthops": []}, host
    assert not [name for name in ippools("east") if name.startswith(("pod-", "svc-"))]
    assert Path(NODE_ROOT).exists()
