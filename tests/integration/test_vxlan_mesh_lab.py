"""vxlan_mesh through ansible-playbook on the seed lab, reached over SSH as real nodes are
(`tools/lab up --ssh`: sshd in every node namespace, bound to the node's underlay address; the
playbooks connect with ansible.builtin.ssh as the unprivileged user nnfabric, Python discovered on
the node, sudo for what needs root through the roles' become): check and diff mode, --limit,
validation that stops everything, a simulated reboot through the boot unit, the inventory plugin;
every node-side change made as root through sudo (sudo's own log, which names each node's
hostname) and nothing as root over SSH; a node whose SSH user cannot become root, and a node_ip
that is not the node's address, refused by the preflight before anything changed anywhere."""
import re
import shutil
import subprocess

import pytest

from kernel_snapshot import kernel_state as namespace_state, snapshot
from lab_run import NODE_ROOT, ROOT, lab, playbook, recap

SEED = "inventories/seed"
NODES = ["multicluster-test-00%d" % i for i in range(1, 7)]
DEVICE, PROTO = "vxlan-test", 201
PLAYBOOK = "playbooks/vxlan_mesh.yml"
SSH = NODE_ROOT / "ssh"  # the SSH lab's keys, sudo's log, each node's sshd log
USER, NOSUDO_USER = "nnfabric", "nnfabric-nosudo"


def kernel_state():
    return {host: snapshot(host, DEVICE, PROTO) for host in NODES}


@pytest.fixture(scope="module")
def seed_lab():
    proc = lab("up", "-i", SEED, "--ssh")
    assert proc.returncode == 0, proc.stderr
    yield
    lab("down")


@pytest.fixture
def fresh_lab(seed_lab):
    """Start from an empty mesh (the tests of refusals compare the lab before and after, in
    whatever state the test before left it)."""
    playbook(SEED, "-e", "vxlan_mesh_state=absent")
    yield


def test_bad_inventory_fails_before_any_node_changes(seed_lab, tmp_path):
    bad = tmp_path / "inventory"
    shutil.copytree(ROOT / SEED, bad)
    text = (bad / "hosts.yml").read_text()
    text = text.replace("vxlan_mesh_mac: 36:f9:67:c0:70:1c", "vxlan_mesh_mac: 01:00:5e:00:00:01")
    text = text.replace("vxlan_mesh_vni: 10001", "vxlan_mesh_vni: 16777216")
    (bad / "hosts.yml").write_text(text)
    before = kernel_state()
    rc, out = playbook(bad)
    assert rc != 0
    assert "node multicluster-test-003, vxlan_mesh_mac: 01:00:5e:00:00:01 is a multicast address" in out
    assert "vxlan_mesh_vni: 16777216 is outside 1..16777215" in out
    assert kernel_state() == before
    assert all(r["changed"] == 0 for r in recap(out).values())


def test_check_mode_changes_nothing_then_apply_then_idempotent(fresh_lab):
    before = kernel_state()
    rc, out = playbook(SEED, "--check", "--diff")
    assert rc == 0, out
    assert kernel_state() == before
    assert all(recap(out)[h]["changed"] >= 1 for h in NODES)
    assert "+route 10.235.88.0/24 via 179.17.1.16 dev vxlan-test" in out  # diff mode: after side

    rc, out = playbook(SEED)
    assert rc == 0, out
    owned = kernel_state()["multicluster-test-001"][0]
    assert len(owned["neigh"]) == 5 and len(owned["fdb"]) == 5 and len(owned["routes"]) == 4

    for args in (["--check"], []):
        rc, out = playbook(SEED, *args)
        assert rc == 0, out
        assert all(recap(out)[h]["changed"] == 0 for h in NODES), out


def test_limit_gives_a_node_exactly_what_a_full_run_gives(fresh_lab):
    # Peers are not meshed yet, so the ping check is for the full run.
    rc, out = playbook(SEED, "--limit", "multicluster-test-004", "-e", "vxlan_mesh_verify=false")
    assert rc == 0, out
    limited = kernel_state()
    assert limited["multicluster-test-001"][0]["links"] == []  # others untouched
    rc, out = playbook(SEED)
    assert rc == 0, out
    assert recap(out)["multicluster-test-004"]["changed"] == 0
    assert kernel_state()["multicluster-test-004"] == limited["multicluster-test-004"]


def test_boot_unit_restores_the_state_after_a_simulated_reboot(fresh_lab):
    rc, out = playbook(SEED)
    assert rc == 0, out
    host = "multicluster-test-005"
    applied = snapshot(host, DEVICE, PROTO)
    unit = NODE_ROOT / host / "etc/systemd/system/nodenet-fabric-vxlan-mesh.service"
    exec_start = [l.split("=", 1)[1] for l in open(unit).read().splitlines() if l.startswith("ExecStart=")][0]
    # A reboot loses everything the kernel held.
    subprocess.run(["ip", "-n", host, "link", "delete", DEVICE], check=True)
    subprocess.run(["ip", "-n", host, "route", "flush", "proto", str(PROTO)], check=True)
    assert snapshot(host, DEVICE, PROTO)[0]["links"] == []
    proc = subprocess.run(["ip", "netns", "exec", host] + exec_start.split(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "19 change(s)" in proc.stdout  # device, 5 ARP, 5 FDB, 4 nexthops (gone with the device), 4 routes
    restored = snapshot(host, DEVICE, PROTO)
    assert restored[0]["neigh"] == applied[0]["neigh"] and restored[0]["fdb"] == applied[0]["fdb"]
    assert restored[0]["routes"] == applied[0]["routes"]  # by the same nexthop ids
    assert restored[0]["nexthops"] == applied[0]["nexthops"]
    ping = subprocess.run(["ip", "netns", "exec", host + "-pod", "ping", "-c", "1", "-W", "2", "10.234.111.1"])
    assert ping.returncode == 0


def plugin_inventory(tmp_path, replace=None):
    """The seed inventory with the nodenet.fabric.fabric inventory plugin loaded after it."""
    folder = tmp_path / "inventory"
    shutil.copytree(ROOT / SEED, folder)
    if replace:
        text = (folder / "hosts.yml").read_text()
        (folder / "hosts.yml").write_text(text.replace(*replace))
    (folder / "zz-fabric.yml").write_text("plugin: nodenet.fabric.fabric\n")
    return folder


def without_ifindex(state):
    """Kernel state with the mesh device's ifindex dropped: it is re-created between the runs."""
    return dict((host, ({**owned, "links": [dict((k, v) for k, v in link.items() if k != "ifindex")
                                            for link in owned["links"]]}, foreign))
                for host, (owned, foreign) in state.items())


def test_the_inventory_plugin_gives_every_node_what_the_static_inventory_gives(fresh_lab, tmp_path):
    rc, out = playbook(SEED)
    assert rc == 0, out
    static = without_ifindex(kernel_state())
    playbook(SEED, "-e", "vxlan_mesh_state=absent")
    inventory = plugin_inventory(tmp_path)
    rc, out = playbook(inventory, "--limit", "multicluster-test-002", "-e", "vxlan_mesh_verify=false")
    assert rc == 0, out
    assert without_ifindex(kernel_state())["multicluster-test-002"] == static["multicluster-test-002"]
    assert kernel_state()["multicluster-test-001"][0]["links"] == []
    rc, out = playbook(inventory)
    assert rc == 0, out
    assert "Read the fabric model from the whole inventory, once" in out
    assert without_ifindex(kernel_state()) == static
    rc, out = playbook(inventory)
    assert rc == 0 and all(recap(out)[h]["changed"] == 0 for h in NODES), out


def test_the_inventory_plugin_refuses_a_bad_inventory_before_any_change(seed_lab, tmp_path):
    inventory = plugin_inventory(tmp_path, ("node_ip: 192.168.0.44", "node_ip: 192.168.0.21"))
    before = kernel_state()
    rc, out = playbook(inventory)
    assert rc != 0
    assert "problem(s) in the fabric inventory" in out  # the plugin's warning at load time
    assert "node multicluster-test-004, node_ip: 192.168.0.21 is also used by node multicluster-test-001" in out
    assert kernel_state() == before
    assert all(r["changed"] == 0 for r in recap(out).values())



def sudo_entries():
    """[{user, HOST, USER, COMMAND, ...}] of sudo's log (an entry's continuation lines are indented)."""
    text = (SSH / "sudo.log").read_text() if (SSH / "sudo.log").exists() else ""
    entries = []
    for block in re.split(r"\n(?=\S)", text.strip()):
        if not block:
            continue
        _date, _, fields = " ".join(block.split()).partition(" : ")
        user, _, rest = fields.partition(" : ")
        rest, _, command = rest.partition(" ; COMMAND=")  # the command may hold " ; " itself
        entry = {"user": user, "COMMAND": command}
        for field in rest.split(" ; "):
            key, _, value = field.partition("=")
            entry[key] = value
        entries.append(entry)
    return entries


def override(name, text):
    path = ROOT / ".lab" / name
    path.write_text(text)
    return str(path)


def test_the_overlay_connects_over_ssh_as_the_unprivileged_user(seed_lab):
    overlay = (ROOT / ".lab" / "hosts.yml").read_text()
    assert "ansible_connection: netns" not in overlay and "ansible_python_interpreter" not in overlay
    assert overlay.count('ansible_connection: "ansible.builtin.ssh"') == len(NODES)
    assert overlay.count('ansible_user: "%s"' % USER) == len(NODES)
    assert "become" not in overlay  # escalation comes from the roles


def test_a_converge_changes_each_node_through_sudo_and_reruns_clean(fresh_lab):
    before = len(sudo_entries())
    code, out = playbook(SEED, playbook=PLAYBOOK)
    assert code == 0, out[-4000:]
    assert all(recap(out)[h]["changed"] > 0 for h in NODES), recap(out)
    assert lab("matrix", "-i", SEED).returncode == 0
    for host, (owned, _foreign) in kernel_state().items():
        assert [link["ifname"] for link in owned["links"]] == [DEVICE], host
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
        # Two module runs as root per node: the preflight (checks and plan in one) and the apply.
        assert len(commands) == 2 and all("BECOME-SUCCESS-" in c and "python3" in c for c in commands), commands
    # The saved state was written by root (through sudo), not by the SSH user.
    for host in NODES:
        saved = NODE_ROOT / host / "etc" / "nodenet-fabric" / "vxlan-mesh.json"
        assert saved.exists() and saved.stat().st_uid == 0 and saved.stat().st_mode & 0o077 == 0, saved

    converged = len(sudo_entries())
    code, out = playbook(SEED, playbook=PLAYBOOK)
    assert code == 0 and {recap(out)[h]["changed"] for h in NODES} == {0}, recap(out)
    # A node the preflight found in sync runs no module after it: one run as root per node.
    rerun = sudo_entries()[converged:]
    assert sorted(e["HOST"] for e in rerun) == sorted(NODES), rerun


def test_a_node_where_become_does_not_give_root_is_refused_before_anything_changes(seed_lab):
    before = dict((h, namespace_state(h)) for h in NODES)
    nosudo = override("nosudo.yml", "all:\n  hosts:\n    multicluster-test-003:\n      ansible_user: %s\n" % NOSUDO_USER)
    code, out = playbook(SEED, "-i", nosudo, playbook=PLAYBOOK)
    assert code != 0
    assert "nothing was changed on any host" in out, out[-4000:]
    refused = [line for line in out.splitlines() if line.strip().startswith("node multicluster-test-003:")]
    assert refused and "become" in refused[0] and "root" in refused[0], refused
    assert not [line for line in out.splitlines() if re.match(r"\s*node multicluster-test-00[12456]:", line)]
    assert dict((h, namespace_state(h)) for h in NODES) == before


def test_a_node_ip_that_is_not_the_nodes_address_is_refused_before_anything_changes(seed_lab):
    before = dict((h, namespace_state(h)) for h in NODES)
    typo = override("typo.yml", "all:\n  hosts:\n    multicluster-test-004:\n      node_ip: 192.168.0.99\n")
    code, out = playbook(SEED, "-i", typo, playbook=PLAYBOOK)
    assert code != 0
    assert "node multicluster-test-004: node_ip: 192.168.0.99 is not an address of" in out, out[-4000:]
    assert dict((h, namespace_state(h)) for h in NODES) == before
