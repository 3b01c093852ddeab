"""Run the lab and playbooks the way a user does (tools/lab, ansible-playbook)."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_ROOT = ROOT / ".lab" / "run"  # each lab node's node_base_root is NODE_ROOT/<host>
BIN = Path(sys.executable).parent


def env():
    e = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), PYTHONDONTWRITEBYTECODE="1")
    e["PATH"] = "%s:%s" % (BIN, e.get("PATH", ""))
    return e


def lab(*argv):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "lab")] + list(argv), cwd=ROOT, env=env(),
                          capture_output=True, text=True)


def vtysh(*commands, router="tor"):
    """The output of vtysh commands on a lab router's FRR (its sockets under the run folder)."""
    folder = str(NODE_ROOT / router / "frr")
    argv = ["ip", "netns", "exec", router, "vtysh", "--vty_socket", folder, "--config_dir", folder]
    for command in commands:
        argv += ["-c", command]
    return subprocess.run(argv, capture_output=True, text=True).stdout


def rules_save(host, tool="iptables-save"):
    """iptables-save (or ip6tables-save) of a lab host, counters left out (they move with traffic)."""
    lines = subprocess.run(["ip", "netns", "exec", host, tool], capture_output=True, text=True).stdout.splitlines()
    return [re.sub(r" \[\d+:\d+\]$", "", line) for line in lines if not line.startswith("#")]


def lab_session(inventory, *flags):
    """A module fixture's body: the lab up for `inventory` (asserted), then down."""
    proc = lab("up", "-i", str(inventory), *flags)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield
    lab("down")


def playbook(inventory, *argv, playbook="playbooks/site.yml", runs=None):
    """(rc, output). With runs=(role, run name), the module_runs callback counts the run's module
    runs per node; module_runs() reads them back."""
    e = dict(env(), **runs_env(runs))
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "-i", ".lab/hosts.yml",
                           playbook] + list(argv), cwd=ROOT, env=e, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


# Module runs per role and run, kept for docs/performance.md (ignored, like the benchmarks' reports).
RUNS_DIR = ROOT / ".bench" / "module-runs"


def runs_env(runs):
    """The environment that makes the module_runs callback count a run named (role, run)."""
    if not runs:
        return {}
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    return {"ANSIBLE_CALLBACK_PLUGINS": str(ROOT / "tools" / "ansible_plugins" / "callback"),
            "ANSIBLE_CALLBACKS_ENABLED": "module_runs", "NODENET_MODULE_RUNS": str(RUNS_DIR / ("%s-%s.json" % runs))}


def module_runs(role, run):
    """{host: module runs on the node} of a playbook(..., runs=(role, run)), every role of the
    play counted (controller-side runs apart)."""
    import json
    with open(RUNS_DIR / ("%s-%s.json" % (role, run))) as handle:
        counts = json.load(handle)
    return dict((host, sum(r.get("node", 0) for r in roles.values())) for host, roles in counts.items())


def steps_run(role, run):
    """{host: the node steps that ran (their keys)} of a playbook(..., runs=(role, run))."""
    import json
    with open(RUNS_DIR / ("%s-%s.json" % (role, run))) as handle:
        counts = json.load(handle)
    return dict((host, set(s for r in roles.values() for s in r.get("steps", []))) for host, roles in counts.items())


def recap(output):
    """{host: {"ok": n, "changed": n, "failed": n, ...}} from the PLAY RECAP."""
    result = {}
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        result[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
    return result


def survey_answers(role, **answers):
    """The extra variables AWX sends for a role's job template: every survey question's default,
    typed as AWX types answers (numbers as numbers, every other answer a string), then `answers`."""
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.awx_survey import job_template

    spec = job_template(role, "nodenet.fabric", str(ROOT / "roles"))["survey_spec"]["spec"]
    sent = dict((q["variable"], q["default"]) for q in spec if q.get("default") is not None)
    unknown = set(answers) - set(q["variable"] for q in spec)
    assert not unknown, "not survey questions: %s" % sorted(unknown)
    sent.update(answers)
    return sent


def awx_job(inventory, playbook, extravars, limit=None, synced=None, envvars=None, cmdline=None):
    """A job as AWX runs it, through ansible_runner.run(): a private_data_dir (under .lab, the lab's
    record) with project/ (this checkout, as a project sync leaves it), inventory/ (the inventory's
    files and the lab's connection variables, or with `synced` the JSON of an inventory sync,
    printed by a script as AWX hands a job its synced inventory), env/extravars (the survey's
    answers and the template's variables), env/envvars (with `envvars`: what credentials inject)
    and env/settings. Returns (the runner, its private_data_dir)."""
    import ansible_runner
    import json
    import shutil
    import tempfile

    (ROOT / ".lab").mkdir(exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="awx-job-", dir=str(ROOT / ".lab")))
    (data / "project").symlink_to(ROOT)
    source = Path(inventory) if Path(inventory).is_absolute() else ROOT / inventory
    if synced is not None:
        (data / "inventory").mkdir()
        (data / "synced.json").write_text(synced)
        script = data / "inventory" / "hosts"
        script.write_text("#!/bin/sh\ncat '%s'\n" % (data / "synced.json"))
        script.chmod(0o700)
    elif source.is_dir():
        shutil.copytree(source, data / "inventory")
    else:
        (data / "inventory").mkdir()
        shutil.copy(source, data / "inventory" / source.name)
    if synced is None:
        shutil.copy(ROOT / ".lab" / "hosts.yml", data / "inventory" / "zz-lab-connection.yml")
    (data / "env").mkdir()
    (data / "env" / "extravars").write_text(json.dumps(extravars))
    (data / "env" / "settings").write_text(json.dumps({"job_timeout": 1800, "idle_timeout": 0,
                                                       "suppress_ansible_output": True}))
    (data / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".collections"),
        "PATH": env()["PATH"], "PYTHONDONTWRITEBYTECODE": "1", **(envvars or {})}))
    try:
        runner = ansible_runner.run(private_data_dir=str(data), playbook=playbook, limit=limit, quiet=True,
                                    cmdline=cmdline)
    finally:
        (data / "project").unlink()  # a link back to the checkout would loop whatever walks .lab later
    return runner, data


def job_changed(runner):
    """{host: changed task count} from the job's playbook_on_stats event, as AWX shows it."""
    stats = [e for e in runner.events if e.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, [e.get("event") for e in runner.events][-5:]
    data = stats[0]["event_data"]
    hosts = set(data.get("ok", {})) | set(data.get("changed", {})) | set(data.get("failures", {}))
    return dict((h, data.get("changed", {}).get(h, 0)) for h in hosts)


def job_text(data):
    """Everything the job left in its artifacts (events and stdout): what AWX would store."""
    return "\n".join(p.read_text(errors="replace") for p in sorted((Path(data) / "artifacts").rglob("*"))
                     if p.is_file())


def survey_job(role, inventory, template_vars=None, limit=None, runs=None, **answers):
    """The role's AWX job template (playbooks/<role>.yml) through ansible-runner: its survey's
    answers (defaults, then `answers`) and the template's own extra variables; `runs` as for
    playbook(). Returns (the runner, everything its artifacts hold)."""
    extravars = dict(survey_answers(role, **answers), **(template_vars or {}))
    runner, data = awx_job(inventory, "playbooks/%s.yml" % role, extravars, limit, envvars=runs_env(runs))
    return runner, job_text(data)
