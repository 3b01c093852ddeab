"""vxlan_mesh as it reaches real nodes: `tools/lab up --ssh` runs sshd in every node namespace,
bound to the node's underlay address, and the playbooks connect with ansible.builtin.ssh as the
unprivileged user nnfabric, with Python discovered on the node and sudo for what needs root (the
roles' become). Judged by the kernel, by each node's sshd log and by sudo's own log (which names the
node's hostname, its UTS namespace): every node-side change ran as root through sudo, and nothing
ran as root over SSH. A node whose SSH user cannot become root, and a node_ip that is not the node's
address, are refused by the preflight before anything changed anywhere."""
import re

import pytest

from kernel_snapshot import kernel_state, snapshot
from lab_run import NODE_ROOT, ROOT, lab, playbook, recap

SEED = "inventories/seed"
PLAYBOOK = "playbooks/vxlan_mesh.yml"
NODES = ["multicluster-test-00%d" % i for i in range(1, 7)]
DEVICE, PROTO = "vxlan-test", 201
SSH = NODE_ROOT / "ssh"
USER, NOSUDO_USER = "nnfabric", "nnfabric-nosudo"


def sudo_entries():
    """[{user, HOST, USER, COMMAND, ...}] of sudo's log (an entry's continuation lines are indented)."""
    text = (SSH / "sudo.log").read_text() if (SSH / "sudo.log").exists() else ""
    entries = []
    for block in re.split(r"\n(?=\S)", text.strip()):
        if not block:
            continue
        head, _, fields = " ".join(block.split()).partition(" : ")
        user, _, rest = fields.partition(" : ")
        entry = {"user": user}
        for field in re.split(r" ; ", rest):
            key, _, value = field.partition("=")
            entry[key] = value
        entries.append(entry)
    return entries


def owned():
    return dict((host, snapshot(host, DEVICE, PROTO)[0]) for host in NODES)


def override(name, text):
    path = ROOT / ".lab" / name
    path.write_text(text)
    return str(path)


@pytest.fixture(scope="module")
def ssh_lab():
    proc = lab("up", "-i", SEED, "--ssh")
    assert proc.returncode == 0, proc.stderr
    yield
    assert lab("down").returncode == 0


def test_the_overlay_connects_over_ssh_as_the_unprivileged_user(ssh_lab):
    overlay = (ROOT / ".lab" / "hosts.yml").read_text()
    assert "ansible_connection: netns" not in overlay and "ansible_python_interpreter" not in overlay
    assert overlay.count('ansible_connection: "ansible.builtin.ssh"') == len(NODES)
    assert overlay.count('ansible_user: "%s"' % USER) == len(NODES)
    assert "become" not in overlay  # escalation comes from the roles


def test_a_converge_changes_each_node_through_sudo_and_reruns_clean(ssh_lab):
    before = len(sudo_entries())
    code, out = playbook(SEED, playbook=PLAYBOOK)
    assert code == 0, out[-4000:]
    assert all(recap(out)[h]["changed"] > 0 for h in NODES), recap(out)
    assert lab("matrix", "-i", SEED).returncode == 0
    for host, state in owned().items():
        assert [link["ifname"] for link in state["links"]] == [DEVICE], host
    # sshd: the user logged in with its key on every node; root never did.
    for host in NODES:
        log = (SSH / "nodes" / host / "sshd.log").read_text()
        assert "Accepted publickey for %s from" % USER in log, host
        assert "for root" not in log, host
    # sudo: every node ran modules as root through sudo, from its own hostname; the controller's
    # cluster-side tasks never escalated (no entry names another host).
    entries = sudo_entries()[before:]
    assert entries and all(e["user"] == USER and e["USER"] == "root" for e in entries)
    assert {e["HOST"] for e in entries} == set(NODES)
    for host in NODES:
        commands = [e["COMMAND"] for e in entries if e["HOST"] == host]
        assert len(commands) >= 3 and all("BECOME-SUCCESS-" in c and "python3" in c for c in commands), commands
    # The saved state was written by root (through sudo), not by the SSH user.
    for host in NODES:
        saved = NODE_ROOT / host / "etc" / "nodenet-fabric" / "vxlan-mesh.json"
        assert saved.exists() and saved.stat().st_uid == 0 and saved.stat().st_mode & 0o077 == 0, saved

    code, out = playbook(SEED, playbook=PLAYBOOK)
    assert code == 0 and {recap(out)[h]["changed"] for h in NODES} == {0}, recap(out)


def test_check_mode_over_ssh_reports_the_removal_and_changes_nothing(ssh_lab):
    before = dict((h, kernel_state(h)) for h in NODES)
    code, out = playbook(SEED, "-e", "vxlan_mesh_state=absent", "--check", "--diff", playbook=PLAYBOOK)
    assert code == 0, out[-4000:]
    assert all(recap(out)[h]["changed"] > 0 for h in NODES), recap(out)
    assert dict((h, kernel_state(h)) for h in NODES) == before


def test_a_node_where_become_does_not_give_root_is_refused_before_anything_changes(ssh_lab):
    code, out = playbook(SEED, "-e", "vxlan_mesh_state=absent", playbook=PLAYBOOK)
    assert code == 0, out[-4000:]
    before = dict((h, kernel_state(h)) for h in NODES)
    nosudo = override("nosudo.yml", "all:\n  hosts:\n    multicluster-test-003:\n      ansible_user: %s\n" % NOSUDO_USER)
    code, out = playbook(SEED, "-i", nosudo, playbook=PLAYBOOK)
    assert code != 0
    assert "nothing was changed on any node" in out, out[-4000:]
    refused = [line for line in out.splitlines() if line.strip().startswith("node multicluster-test-003:")]
    assert refused and "become" in refused[0] and "root" in refused[0], refused
    assert not [line for line in out.splitlines() if re.match(r"\s*node multicluster-test-00[12456]:", line)]
    assert dict((h, kernel_state(h)) for h in NODES) == before


def test_a_node_ip_that_is_not_the_nodes_address_is_refused_before_anything_changes(ssh_lab):
    before = dict((h, kernel_state(h)) for h in NODES)
    typo = override("typo.yml", "all:\n  hosts:\n    multicluster-test-004:\n      node_ip: 192.168.0.99\n")
    code, out = playbook(SEED, "-i", typo, playbook=PLAYBOOK)
    assert code != 0
    assert "node multicluster-test-004: node_ip: 192.168.0.99 is not an address of" in out, out[-4000:]
    assert dict((h, kernel_state(h)) for h in NODES) == before
