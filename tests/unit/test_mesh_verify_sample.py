"""vxlan_mesh_verify_sample: `all`, or N peers of each cluster per node, chosen so that the nodes
of one cluster together ping every node of every other cluster."""
import subprocess
import sys

import pytest
from helpers import ROOT, inventory_of, problem_lines, read_model, set_on_group

from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh


@pytest.fixture(scope="module")
def fleet60(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fleet")
    subprocess.run([sys.executable, str(ROOT / "tools" / "lab"), "fleet", "--nodes", "60", "-o", str(folder)],
                   check=True, capture_output=True)
    return inventory_of(folder)


def targets(fabric, host):
    return mesh.node_plan(fabric, host)["verify"]["targets"].split(",")


def test_all_pings_every_peer(fleet60):
    fabric = read_model(fleet60)
    assert all(len(targets(fabric, h)) == 59 for h in fabric.nodes)


def test_a_sample_pings_n_per_cluster_and_covers_every_pair_of_node_and_cluster(fleet60):
    fabric = read_model(fleet60, set_on_group("vxlan_mesh", vxlan_mesh_verify_sample=3))
    assert problem_lines(fabric) == []
    settings = fabric.facets["vxlan_mesh"]
    cluster_of_ip = dict((settings[h].ip, fabric.nodes[h].cluster) for h in fabric.nodes)
    covered = set()  # (pinging cluster, pinged ip)
    for host, node in fabric.nodes.items():
        picked = targets(fabric, host)
        assert len(picked) == 3 * 4 and len(set(picked)) == 12 and settings[host].ip not in picked
        per_cluster = {}
        for ip in picked:
            per_cluster[cluster_of_ip[ip]] = per_cluster.get(cluster_of_ip[ip], 0) + 1
        assert sorted(per_cluster.values()) == [3, 3, 3, 3]
        covered |= set((node.cluster, ip) for ip in picked)
    for cluster in fabric.clusters:
        for host in fabric.nodes:
            if fabric.nodes[host].cluster != cluster:
                assert (cluster, settings[host].ip) in covered, (cluster, host)
    assert targets(fabric, "fleet00-01") == targets(read_model(fleet60, set_on_group(
        "vxlan_mesh", vxlan_mesh_verify_sample=3)), "fleet00-01")  # deterministic


@pytest.mark.parametrize("value", [0, "some", -1])
def test_a_bad_sample_is_refused_by_node_and_variable(fleet60, value):
    fabric = read_model(fleet60, set_on_group("fleet01", vxlan_mesh_verify_sample=value))
    lines = problem_lines(fabric)
    assert lines and all("vxlan_mesh_verify_sample" in line and "fleet01-" in line for line in lines), lines
