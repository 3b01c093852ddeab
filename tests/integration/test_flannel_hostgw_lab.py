"""flannel_hostgw on the lab: check mode changes nothing, and (as an AWX job through ansible-runner)
state=absent removes only the role's own routes."""
import json
import subprocess

import pytest

from lab_run import NODE_ROOT, job_changed, lab, playbook, recap, survey_job

INVENTORY = "inventories/flannel-hostgw"
NODES = ["edge-1", "edge-2", "edge-3", "core-1", "core-2"]


def routes(host):
    out = subprocess.run(["ip", "-n", host, "-N", "-j", "route", "show"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def links(host):
    out = subprocess.run(["ip", "-n", host, "-j", "link", "show"], check=True, capture_output=True, text=True).stdout
    return [link["ifname"] for link in json.loads(out)]


@pytest.fixture
def flannel_lab():
    proc = lab("up", "-i", INVENTORY)
    assert proc.returncode == 0, proc.stderr
    yield
    lab("down")


def test_check_mode_reports_the_switch_and_changes_nothing(flannel_lab):
    assert lab("snapshot", "save", "-i", INVENTORY).returncode == 0
    rc, out = playbook(INVENTORY, "--check", "--diff", playbook="playbooks/flannel_hostgw.yml")
    assert rc == 0, out
    assert all(recap(out)[h]["changed"] >= 1 for h in NODES), out
    assert "+route 10.244.2.0/24 via 10.30.1.12 dev eth0" in out
    check = lab("snapshot", "check", "-i", INVENTORY)
    assert check.returncode == 0, check.stdout


def test_absent_removes_only_the_roles_routes(flannel_lab):
    # Both runs as AWX runs the job template: ansible-runner, the survey's answers as extra vars.
    runner, out = survey_job("flannel_hostgw", INVENTORY)
    assert runner.status == "successful", out[-4000:]
    assert sorted(job_changed(runner)) == sorted(NODES) and all(job_changed(runner).values())
    before = routes("edge-1")
    assert sum(r.get("protocol") == "202" for r in before) == 2 and "flannel.1" not in links("edge-1")
    runner, out = survey_job("flannel_hostgw", INVENTORY, flannel_hostgw_state="absent")
    assert runner.status == "successful", out[-4000:]
    after = routes("edge-1")
    assert [r for r in after if r.get("protocol") == "202"] == []
    assert after == [r for r in before if r.get("protocol") != "202"]
    assert "flannel.1" not in links("edge-1")  # re-creating it is flanneld's job
    assert not (NODE_ROOT / "edge-1/etc/systemd/system/nodenet-fabric-flannel-hostgw.service").exists()
