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


def playbook(inventory, *argv, playbook="playbooks/site.yml"):
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "-i", ".lab/hosts.yml",
                           playbook] + list(argv), cwd=ROOT, env=env(), capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def recap(output):
    """{host: {"ok": n, "changed": n, "failed": n, ...}} from the PLAY RECAP."""
    result = {}
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        result[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
    return result
