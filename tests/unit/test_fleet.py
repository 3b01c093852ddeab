"""The lab's generated fleets (tools/lab fleet): valid inventories in the documented format, with
every node in one of three routed subnets, whatever their size."""
import subprocess
import sys

import pytest
from helpers import ROOT, inventory_of, problem_lines, read_model


@pytest.mark.parametrize("nodes, clusters", [(60, 4), (150, 10), (7, 2)])
def test_a_generated_fleet_is_a_valid_inventory(tmp_path, nodes, clusters):
    folder = tmp_path / "fleet"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "lab"), "fleet", "--nodes", str(nodes), "-o",
                           str(folder)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    fabric = read_model(inventory_of(folder))
    assert problem_lines(fabric) == []
    assert len(fabric.nodes) == nodes and len(fabric.clusters) == clusters
    assert {n.subnet for n in fabric.nodes.values()} == {"10.20.1.0/24", "10.20.2.0/24", "10.20.3.0/24"}
    assert set(fabric.facets["vxlan_mesh"]) == set(fabric.nodes)
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(ROOT / "tools" / "lab"), "fleet", "--nodes", str(nodes), "-o", str(again)],
                   check=True, capture_output=True)
    assert (again / "hosts.yml").read_text() == (folder / "hosts.yml").read_text()


def test_the_lab_raises_the_hosts_neighbor_limits_only_as_far_as_a_fleet_needs_and_gives_them_back(monkeypatch):
    """The neighbor tables are one per host: 60 nodes on three subnets hold more dynamic entries
    than the default gc_thresh3 (1024), and the kernel then refuses new ones."""
    sys.path.insert(0, str(ROOT / "tools"))
    from nnlab import neigh_table, topology
    per_subnet = ["10.20.1.0/24"] * 20 + ["10.20.2.0/24"] * 20 + ["10.20.3.0/24"] * 20
    entries = topology.neighbor_entries(per_subnet)
    assert entries == 3 * (20 * 19 + 2 * 20) + 2 * 60  # every same-subnet pair, the router, each pod
    assert neigh_table.wanted(entries)["gc_thresh3"] > 1024
    host = {(f, k): v for f in neigh_table.FAMILIES for k, v in zip(neigh_table.KEYS, (512, 1024))}
    host[("ipv6", "gc_thresh3")] = 1 << 20  # already above what the lab needs: left alone
    monkeypatch.setattr(neigh_table, "read", lambda f, k: host[(f, k)])
    monkeypatch.setattr(neigh_table, "write", lambda f, k, v: host.__setitem__((f, k), v))
    before, record = dict(host), {}
    changed = neigh_table.raise_for(entries, record)
    assert ("ipv6", "gc_thresh3", 1 << 20, neigh_table.wanted(entries)["gc_thresh3"]) not in changed
    assert len(changed) == 3 and record["host_sysctls"] == changed
    assert all(host[(f, k)] == neigh_table.wanted(entries)[k] for f, k, _b, _a in changed)
    host[("ipv4", "gc_thresh2")] = 4096  # someone changed it since: restore leaves it
    neigh_table.restore(record)
    assert host == {**before, ("ipv4", "gc_thresh2"): 4096}
    host[("ipv4", "gc_thresh2")], small = 512, {}
    assert neigh_table.raise_for(topology.neighbor_entries(["10.20.1.0/24"] * 7), small) == [] and small == {}


def test_the_independent_pod_pings_cover_every_node_from_every_node():
    sys.path.insert(0, str(ROOT / "tools"))
    from nnlab import fleet
    doc = fleet.fleet(60)
    pairs = fleet.pod_ping_pairs(doc, 3)
    pods = fleet.pods(doc)
    assert len(pairs) == len(set(pairs)) == 3 * 60
    assert {src for src, _ip in pairs} == {host + "-pod" for host, _c, _ip in pods}
    assert {ip for _src, ip in pairs} == {ip for _h, _c, ip in pods}
    cluster_of = dict((ip, cluster) for _h, cluster, ip in pods)
    assert all(cluster_of[ip] != cluster_of[dict((h + "-pod", p) for h, _c, p in pods)[src]] for src, ip in pairs)
