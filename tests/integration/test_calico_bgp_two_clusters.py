"""calico_bgp_rr on a second topology (tests/integration/data/calico-two-clusters): two clusters
with their own AS (neither Calico's default) sharing one ToR, route reflectors sharing a cluster
ID, a node with two blocks. Mesh -> route reflectors and back under 20 ms pings, from a fresh
lab, each losing nothing; the outside client reaches both clusters' pods."""
import json
from pathlib import Path

import pytest

from lab_run import lab, playbook, recap

INVENTORY = Path(__file__).parent / "data" / "calico-two-clusters"
MESH = ["-e", json.dumps({"calico_bgp_route_reflector": False,
                          "calico_bgp_peers": [{"ip": "192.168.50.2", "as": 65001, "peers": "all"}]})]


@pytest.fixture(scope="module")
def two_clusters():
    proc = lab("up", "-i", str(INVENTORY))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield
    lab("down")


def lost_across(*argv):
    assert lab("ping", "start", "-i", str(INVENTORY)).returncode == 0
    rc, out = playbook(INVENTORY, *argv)
    stopped = lab("ping", "stop").stdout
    lost, sent = [int(x) for x in stopped.split("lab: ")[-1].split()[:3:2]]
    assert rc == 0, out[-3000:]
    return lost, sent, stopped


def test_both_ways_lose_nothing_and_the_client_reaches_both_clusters(two_clusters):
    rc, out = playbook(INVENTORY, *MESH)  # from Calico's defaults (AS 64512, ipip) to the mesh
    assert rc == 0, out[-3000:]
    lost, sent, report = lost_across()  # east: mesh -> RRs
    assert sent > 10000 and lost == 0, report
    status = lab("bgp", "-i", str(INVENTORY))
    assert status.returncode == 0 and status.stdout.count("FAIL") == 0, status.stdout
    assert "Client laptop reaches pods: 10.50.1.1 ok, 10.50.1.65 ok" in status.stdout, status.stdout
    rc, out = playbook(INVENTORY)
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]
    lost, sent, report = lost_across(*MESH)  # and back
    assert sent > 10000 and lost == 0, report
