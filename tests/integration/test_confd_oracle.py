"""Calico's confd as the oracle of the lab's calico-node stand-in: every case of confd's own KDD
test suite, read from the pinned calico module, is replayed into a lab kube-apiserver (whose
Calico CRDs come from the same module), the stand-in renders the node's BIRD configuration from
what the API server holds, and its BGP sessions must be those of confd's compiled bird.cfg (and
bird6.cfg, the IPv6 BIRD's), peer by peer: neighbor address and port, AS, local AS, route-reflector client and cluster ID, password
present or not, TTL security and multihop, passive, graceful restart time, next hop keep, source
address, allow local as.
BIRD 2 itself must accept every configuration the stand-in renders."""
import os
import subprocess
import sys

import pytest

from lab_run import NODE_ROOT, ROOT, lab

sys.path.insert(0, str(ROOT / "tools"))
from nnlab import bird_config, calico_node, confd_cases  # noqa: E402

INVENTORY = "tests/integration/data/confd-oracle"
CASES = confd_cases.cases()


@pytest.fixture(scope="module")
def datastore():
    proc = lab("up", "-i", INVENTORY, "--k8s")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from kubernetes import config
    api = config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / "confd" / "kubeconfig"))
    yield confd_cases.Datastore(api), api
    lab("down")


def bird_accepts(text, name):
    """BIRD 2 parses the configuration (`bird -p`), from a 0600 file: it may hold passwords."""
    folder = NODE_ROOT / "confd-oracle"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("%s.conf" % name)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    proc = subprocess.run(["bird", "-p", "-c", str(path)], capture_output=True, text=True)
    return proc.returncode == 0, proc.stderr.strip()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_stand_in_renders_the_sessions_confd_renders(datastore, case):
    if case.unsupported:
        pytest.skip("not replayed: %s" % case.unsupported)
    store, api = datastore
    store.reset()
    for op in confd_cases.prologue():
        store.run(op)
    checked, found = 0, []
    for op in case.ops:
        if op[0] != "check":
            store.run(op)
            continue
        state = calico_node.read_state(api)
        for version in (4, 6):  # bird.cfg and bird6.cfg, calico-node's two BIRDs
            expected = confd_cases.compiled(op[1], version)
            if expected is None:
                continue
            text = calico_node.render(state, case.node, version)
            for rendered in (expected, text):  # no block hidden from the comparison (two of one name)
                assert bird_config.protocol_count(rendered) == len(bird_config.sessions(rendered)), op[1]
            found += ["%s (IPv%d): %s" % (op[1], version, line) for line in bird_config.differences(
                bird_config.sessions(expected), bird_config.sessions(text))]
            ok, error = bird_accepts(text, "%s-%d" % (op[1].replace("/", "-"), version))
            assert ok, "BIRD refuses the stand-in's configuration at %s (IPv%d): %s" % (op[1], version, error)
            checked += version == 4
    assert checked, "no checkpoint of %s has a bird.cfg" % case.name
    assert not found, "\n".join(found)


def test_the_oracle_can_fail(datastore):
    """A checker that cannot fail proves nothing: a wrong cluster ID and a missing password are
    both differences."""
    store, api = datastore
    case = next(c for c in CASES if c.name == "explicit_peering/route_reflector")
    store.reset()
    for op in confd_cases.prologue() + [o for o in case.ops if o[0] != "check"]:
        store.run(op)
    text = calico_node.render(calico_node.read_state(api), "kube-master")
    confd = bird_config.sessions(confd_cases.compiled(case.name))
    assert bird_config.differences(confd, bird_config.sessions(text)) == []
    wrong = text.replace("rr cluster id 10.0.0.1;", "rr cluster id 10.0.0.9;", 1)
    wrong = wrong.replace("  neighbor 172.19.4.87 as 64533;", '  neighbor 172.19.4.87 as 64533;\n  password "x";')
    assert bird_config.differences(confd, bird_config.sessions(wrong)) == [
        "Node_10_192_0_3: rr_cluster_id is '10.0.0.9', confd has '10.0.0.1'",
        "Node_172_19_4_87: password is True, confd has False"]


def test_the_ipv6_oracle_can_fail(datastore):
    """The IPv6 BIRD's sessions are compared too: a missing `rr client` toward an IPv6 peer, and
    a wrong source address, are differences from confd's bird6.cfg."""
    store, api = datastore
    case = next(c for c in CASES if c.name == "explicit_peering/route_reflector_v6_by_ip")
    store.reset()
    for op in confd_cases.prologue() + [o for o in case.ops if o[0] != "check"]:
        store.run(op)
    text = calico_node.render(calico_node.read_state(api), "kube-master", 6)
    confd = bird_config.sessions(confd_cases.compiled(case.name, 6))
    assert sorted(confd) == ["Node_ac13__57_port_50", "Node_fe0a__3", "Node_fe0a__4"]
    assert bird_config.differences(confd, bird_config.sessions(text)) == []
    head, _sep, tail = text.partition("protocol bgp Node_fe0a__3 ")
    wrong = head + _sep + tail.replace("  rr client;\n", "", 1).replace("source address fe0a::2;", "source address fe0a::9;", 1)
    assert bird_config.differences(confd, bird_config.sessions(wrong)) == [
        "Node_fe0a__3: rr_cluster_id is None, confd has '10.0.0.1'",
        "Node_fe0a__3: source is 'fe0a::9', confd has 'fe0a::2'"]
