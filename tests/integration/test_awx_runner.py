"""vxlan_mesh as AWX runs it: ansible_runner.run() on an AWX-style private_data_dir whose
env/extravars hold exactly what the job template's survey sends (strings for choices and
booleans), against the seed lab. Judged by the kernel and by the runner's event stream; and a job
split in two slices by --limit leaves every node exactly as one full job does. (AWX's own slices get
only their hosts, from which the fabric cannot be planned: the job templates pin job_slice_count 1.)"""
import pytest

from kernel_snapshot import snapshot
from lab_run import awx_job, job_changed, job_text, lab, playbook, survey_answers

SEED = "inventories/seed"
PLAYBOOK = "playbooks/vxlan_mesh.yml"
NODES = ["multicluster-test-00%d" % i for i in range(1, 7)]
DEVICE, PROTO = "vxlan-test", 201


def without_ifindex(value):
    """A re-created device gets a new interface index; nothing else of it may differ."""
    if isinstance(value, dict):
        return dict((k, without_ifindex(v)) for k, v in value.items() if k != "ifindex")
    if isinstance(value, list):
        return [without_ifindex(v) for v in value]
    return value


def owned_state():
    """What the mesh owns on each node (pings leave underlay neighbors, which are not ours)."""
    return dict((host, without_ifindex(snapshot(host, DEVICE, PROTO)[0])) for host in NODES)


def pinged(runner):
    """{event: hosts} of the peers' ping, the node step `verified` after the gate `applied`:
    runner_on_ok where every target answered, runner_on_failed where one did not,
    runner_on_skipped where the step did not run."""
    found = {}
    for event in runner.events:
        data = event.get("event_data", {})
        if data.get("task_action") != "nodenet.fabric.node_steps" or "(applied)" not in data.get("task", ""):
            continue
        if event["event"] not in ("runner_on_ok", "runner_on_failed"):
            continue
        ran = ((data.get("res") or {}).get("steps") or {}).get("verified")
        kind = "runner_on_skipped" if ran is None else "runner_on_failed" if ran.get("failed") else "runner_on_ok"
        found.setdefault(kind, []).append(data["host"])
    return dict((k, sorted(v)) for k, v in found.items())


@pytest.fixture(scope="module")
def seed_lab():
    proc = lab("up", "-i", SEED)
    assert proc.returncode == 0, proc.stderr
    playbook(SEED, "-e", "vxlan_mesh_state=absent")
    yield
    lab("down")


def test_a_survey_job_meshes_the_lab_reports_per_host_changes_and_reruns_clean(seed_lab):
    answers = survey_answers("vxlan_mesh")
    assert answers["vxlan_mesh_verify"] == "true" and answers["vxlan_mesh_state"] == "present"  # as AWX sends them
    runner, data = awx_job(SEED, PLAYBOOK, answers)
    assert (runner.status, runner.rc) == ("successful", 0), job_text(data)[-4000:]
    changed = job_changed(runner)
    assert sorted(changed) == NODES and all(changed[h] > 0 for h in NODES), changed
    # The kernel: every node has its device and a route to every other cluster's pods (4 of 6 nodes).
    assert pinged(runner) == {"runner_on_ok": NODES}
    for host, state in owned_state().items():
        assert [link["ifname"] for link in state["links"]] == [DEVICE], host
        assert len(state["routes"]) == 4, (host, state["routes"])
    assert lab("matrix", "-i", SEED).returncode == 0
    runner, data = awx_job(SEED, PLAYBOOK, answers)
    assert runner.status == "successful" and set(job_changed(runner).values()) == {0}, job_changed(runner)
    # The survey's "false" (a string) is read as false: no ping task runs.
    runner, data = awx_job(SEED, PLAYBOOK, survey_answers("vxlan_mesh", vxlan_mesh_verify="false"))
    assert runner.status == "successful"
    assert pinged(runner) == {"runner_on_skipped": NODES}


def test_two_slices_leave_every_node_as_one_full_job_does(seed_lab):
    full = awx_job(SEED, PLAYBOOK, survey_answers("vxlan_mesh"))[0]
    assert full.status == "successful"
    whole = owned_state()
    runner, data = awx_job(SEED, PLAYBOOK, survey_answers("vxlan_mesh", vxlan_mesh_state="absent"))
    assert runner.status == "successful" and all(s["links"] == [] for s in owned_state().values())
    # Each slice is its own job limited to every other host. A slice cannot ping peers another
    # slice has not meshed yet, so the slices answer verify "false".
    for number in range(2):
        part = NODES[number::2]
        runner, data = awx_job(SEED, PLAYBOOK, survey_answers("vxlan_mesh", vxlan_mesh_verify="false"),
                               limit=",".join(part))
        assert runner.status == "successful", job_text(data)[-4000:]
        assert sorted(job_changed(runner)) == sorted(part)
    assert owned_state() == whole
    runner, data = awx_job(SEED, PLAYBOOK, survey_answers("vxlan_mesh"))
    assert runner.status == "successful" and set(job_changed(runner).values()) == {0}


def test_the_report_shows_what_a_check_run_would_change_on_each_host(seed_lab, tmp_path):
    """A real --check run (the ansible.posix.json callback) against the lab where one node lost its
    mesh: the report lists that node's changes, and no change for the others."""
    import json
    import os
    import subprocess

    from lab_run import BIN, ROOT, env

    assert awx_job(SEED, PLAYBOOK, survey_answers("vxlan_mesh"))[0].status == "successful"
    subprocess.run(["ip", "-n", "multicluster-test-005", "link", "del", DEVICE], check=True)
    check = subprocess.run([str(BIN / "ansible-playbook"), "--check", "-i", SEED, "-i", ".lab/hosts.yml", PLAYBOOK],
                           cwd=ROOT, capture_output=True, text=True,
                           env=dict(env(), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json"))
    assert check.returncode == 0, check.stdout[-3000:]
    (tmp_path / "check.json").write_text(check.stdout)
    page = tmp_path / "report.html"
    made = subprocess.run([str(BIN / "ansible-playbook"), "-i", SEED, "playbooks/report.yml",
                           "-e", "nodenet_report_file=%s" % page, "-e", "nodenet_report_check=%s" % (tmp_path / "check.json")],
                          cwd=ROOT, capture_output=True, text=True, env=env())
    assert made.returncode == 0, made.stdout[-3000:]
    text = page.read_text()
    sections = dict((host, text.split('id="host-%s"' % host, 1)[1].split("</section>", 1)[0]) for host in NODES)
    assert '<table class="changes">' in sections["multicluster-test-005"]
    changes = sections["multicluster-test-005"].split('<table class="changes">', 1)[1]
    assert "node steps (start): vxlan-mesh" in changes and DEVICE in changes, changes
    for host in NODES:
        if host != "multicluster-test-005":
            assert "No change against the live state." in sections[host], host
    assert json.loads(check.stdout)["stats"]["multicluster-test-005"]["changed"] > 0
    os.makedirs(ROOT / "tests" / "output" / "report", exist_ok=True)
    (ROOT / "tests" / "output" / "report" / "seed-check.html").write_text(text)
