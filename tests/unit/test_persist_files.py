"""The files a node keeps for boot (the reconcile module's persist, with its boot unit) and the
controller's rendered manifests (manifest_files): written only where they differ, checked
without writing."""
import os
import stat

import yaml

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import files
from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster import files as manifest_files

STATE = {"route_protocol": 201, "state": "present"}


def test_the_boot_unit_runs_the_installed_tool_on_the_saved_state(tmp_path):
    root = str(tmp_path)
    wanted = files.wanted_files(root, "/etc/nodenet-fabric/vxlan-mesh.json", STATE, "/usr/local/lib/nf",
                                "/etc/systemd/system/nodenet-fabric-vxlan-mesh.service")
    text, mode = wanted[root + "/etc/systemd/system/nodenet-fabric-vxlan-mesh.service"]
    assert mode == 0o644
    lines = text.decode().splitlines()
    assert "ExecStart=/usr/bin/python3 %s/usr/local/lib/nf/cli.py %s/etc/nodenet-fabric/vxlan-mesh.json" % (root, root) in lines
    assert "Description=nodenet.fabric: re-apply vxlan-mesh state" in lines
    assert "WantedBy=multi-user.target" in lines
    assert not [p for p in files.wanted_files(root, "/s.json", STATE, "/t") if p.endswith(".service")]


def test_a_missing_or_edited_unit_is_seen_in_check_mode_and_rewritten(tmp_path):
    root = str(tmp_path)
    unit = root + "/etc/systemd/system/u.service"
    wanted = files.wanted_files(root, "/s.json", STATE, "/t", "/etc/systemd/system/u.service")
    assert unit in files.sync(wanted, check_mode=True) and not os.path.exists(unit)
    assert unit in files.sync(wanted)
    assert files.sync(wanted) == []
    with open(unit, "a") as handle:
        handle.write("# edited\n")
    assert files.sync(wanted, check_mode=True) == [unit]
    os.chmod(unit, 0o600)
    assert files.sync(wanted) == [unit] and stat.S_IMODE(os.stat(unit).st_mode) == 0o644


def test_rendered_manifests_are_one_yaml_file_per_cluster(tmp_path):
    items = [{"cluster": "east", "manifests": [{"kind": "A", "metadata": {"name": "a"}}, {"kind": "B"}]},
             {"cluster": "west", "manifests": []}]
    files_ = manifest_files.rendered(items, str(tmp_path), "x.yml")
    east, mode = files_[str(tmp_path / "east" / "x.yml")]
    assert mode == 0o644 and list(yaml.safe_load_all(east)) == items[0]["manifests"]
    assert files_[str(tmp_path / "west" / "x.yml")][0] == ""
    assert set(mode for _text, mode in manifest_files.rendered(items, str(tmp_path), "x.yml", secret=True).values()) == {0o600}


def test_manifest_files_write_what_differs_and_check_mode_writes_nothing(tmp_path):
    items = [{"cluster": "east", "manifests": [{"kind": "A"}]}]
    path = str(tmp_path / "east" / "x.yml")
    wanted = manifest_files.rendered(items, str(tmp_path), "x.yml", secret=True)
    assert manifest_files.sync(wanted, check_mode=True) == [(path, None)] and not os.path.exists(path)
    assert manifest_files.sync(wanted) == [(path, None)]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and manifest_files.sync(wanted) == []
    changed = manifest_files.rendered([{"cluster": "east", "manifests": [{"kind": "B"}]}], str(tmp_path), "x.yml", True)
    assert manifest_files.sync(changed) == [(path, "kind: A\n")]
    assert yaml.safe_load(open(path).read()) == {"kind": "B"}
