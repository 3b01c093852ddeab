"""vxlan_mesh through ansible-playbook on the seed lab: check and diff mode, --limit,
validation that stops everything, and a simulated reboot through the boot unit."""
import shutil
import subprocess

import pytest

from kernel_snapshot import snapshot
from lab_run import NODE_ROOT, ROOT, lab, playbook, recap

SEED = "inventories/seed"
NODES = ["multicluster-test-00%d" % i for i in range(1, 7)]
DEVICE, PROTO = "vxlan-test", 201


def kernel_state():
    return {host: snapshot(host, DEVICE, PROTO) for host in NODES}


@pytest.fixture(scope="module")
def seed_lab():
    proc = lab("up", "-i", SEED)
    assert proc.returncode == 0, proc.stderr
    yield
    lab("down")


@pytest.fixture
def fresh_lab(seed_lab):
    """Start each test from an empty mesh."""
    playbook(SEED, "-e", "vxlan_mesh_state=absent")
    yield


def test_bad_inventory_fails_before_any_node_changes(fresh_lab, tmp_path):
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


def test_the_inventory_plugin_refuses_a_bad_inventory_before_any_change(fresh_lab, tmp_path):
    inventory = plugin_inventory(tmp_path, ("node_ip: 192.168.0.44", "node_ip: 192.168.0.21"))
    before = kernel_state()
    rc, out = playbook(inventory)
    assert rc != 0
    assert "problem(s) in the fabric inventory" in out  # the plugin's warning at load time
    assert "node multicluster-test-004, node_ip: 192.168.0.21 is also used by node multicluster-test-001" in out
    assert kernel_state() == before
    assert all(r["changed"] == 0 for r in recap(out).values())
