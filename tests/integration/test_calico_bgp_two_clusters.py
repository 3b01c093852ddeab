"""calico_bgp_rr on a second topology (tests/integration/data/calico-two-clusters): two clusters
with their own AS (neither Calico's default) sharing one ToR, route reflectors sharing a cluster
ID, a node with two blocks. Mesh -> route reflectors and back under 20 ms pings, from a fresh
lab, each losing nothing; the outside client reaches both clusters' pods. Then, on the same lab,
a job as AWX runs it from a synced inventory, with one kubeconfig for both clusters and a vaulted
ToR password."""
import json
import re
import time
from pathlib import Path

import pytest

from lab_run import BIN, ROOT, awx_job, env, job_text, lab, lab_session, playbook, recap, vtysh

INVENTORY = Path(__file__).parent / "data" / "calico-two-clusters"
MESH = ["-e", json.dumps({"calico_bgp_route_reflector": False,
                          "calico_bgp_peers": [{"ip": "192.168.50.2", "as": 65001, "peers": "all"}]})]


@pytest.fixture(scope="module")
def two_clusters():
    yield from lab_session(INVENTORY)


FLOOR = 10000  # pings sent across a run and the quiet after it


def sent_so_far():
    """Requests sent so far by the running pings: each log's highest icmp_seq."""
    logs = (ROOT / ".lab" / "run" / "pings").glob("*.log")
    return sum(max((int(n) for n in re.findall(r"icmp_seq=(\d+)", log.read_text())), default=0) for log in logs)


def lost_across(*argv):
    """(lost, sent, report) of the pod pings (17 pairs, one every 20 ms) across a playbook run and
    after it, until FLOOR pings are sent: a loss once the run has ended (an old session's hold
    timer, a late withdrawal) counts too."""
    assert lab("ping", "start", "-i", str(INVENTORY)).returncode == 0
    rc, out = playbook(INVENTORY, *argv)
    deadline = time.monotonic() + 120
    while sent_so_far() <= FLOOR and time.monotonic() < deadline:
        time.sleep(1)
    stopped = lab("ping", "stop").stdout
    lost, sent = [int(x) for x in stopped.split("lab: ")[-1].split()[:3:2]]
    assert rc == 0, out[-3000:]
    assert stopped.count(" -> ") == 17, stopped  # every pair pinged
    return lost, sent, stopped


def test_both_ways_lose_nothing_and_the_client_reaches_both_clusters(two_clusters):
    rc, out = playbook(INVENTORY, *MESH)  # from Calico's defaults (AS 64512, ipip) to the mesh
    assert rc == 0, out[-3000:]
    lost, sent, report = lost_across()  # east: mesh -> RRs
    assert sent > FLOOR and lost == 0, report
    status = lab("bgp", "-i", str(INVENTORY))
    assert status.returncode == 0 and status.stdout.count("FAIL") == 0, status.stdout
    assert "Client laptop reaches pods: 10.50.1.1 ok, 10.50.1.65 ok" in status.stdout, status.stdout
    rc, out = playbook(INVENTORY)
    assert rc == 0 and all(r["changed"] == 0 for r in recap(out).values()), out[-3000:]
    lost, sent, report = lost_across(*MESH)  # and back
    assert sent > FLOOR and lost == 0, report


def merged_kubeconfig(path):
    """One kubeconfig holding both lab clusters, a context each (east, west), as one AWX
    credential of type "nodenet.fabric kubeconfig" hands it to a job."""
    merged = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    for cluster in ("east", "west"):
        config = json.loads(Path(lab_kubeconfig(cluster)).read_text())
        merged["clusters"].append(dict(config["clusters"][0], name=cluster))
        merged["users"].append(dict(config["users"][0], name=cluster))
        merged["contexts"].append({"name": cluster, "context": {"cluster": cluster, "user": cluster}})
    merged["current-context"] = "east"
    path.write_text(json.dumps(merged))
    path.chmod(0o600)


def lab_kubeconfig(cluster):
    import yaml
    hosts = yaml.safe_load((ROOT / ".lab" / "hosts.yml").read_text())["all"]["hosts"]
    return hosts[{"east": "e1", "west": "w1"}[cluster]]["cluster_kubeconfig"]


def test_an_awx_job_from_a_synced_inventory_reaches_both_clusters_with_one_kubeconfig_and_a_vaulted_password(
        two_clusters, tmp_path):
    """The inventory as AWX syncs it (`ansible-inventory --list --export` on the source folder, the
    fabric plugin's zz-fabric.yml last), then a job from the synced result: one kubeconfig with a
    context per cluster (cluster_kube_context) from the job's credential, the ToR's password from an
    Ansible Vault variable (password_var). Neither the kubeconfig's path nor the password is in the
    synced inventory or in anything the job stored; the ToR's sessions come up with the password on
    both sides (FRR's neighbors, BIRD's from the Secret)."""
    import subprocess
    import yaml

    # From a fresh lab, as the job would meet a new fabric. (The same job after the test above, where
    # the ToR sessions were up without a password, left west's sessions in BIRD's "start" state past
    # calico_bgp_rr_wait once; not yet understood: see the closing note of issue 19.)
    proc = lab("up", "-i", str(INVENTORY))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = tmp_path / "source"
    folder.mkdir()
    inventory = yaml.safe_load((INVENTORY / "hosts.yml").read_text())
    groups = inventory["all"]["children"]
    for cluster in ("east", "west"):
        groups[cluster]["vars"]["cluster_kube_context"] = cluster
    groups["west"]["vars"]["calico_bgp_peers"][0]["password_var"] = "tor_bgp_password"
    groups["east"]["vars"]["calico_bgp_peers"][0]["password_var"] = "tor_bgp_password"
    (folder / "hosts.yml").write_text(yaml.safe_dump(inventory))
    vault_password = tmp_path / "vault-password"
    vault_password.write_text("lab-vault\n")
    vault_password.chmod(0o600)
    encrypted = subprocess.run([str(BIN / "ansible-vault"), "encrypt_string", "--vault-password-file", str(vault_password),
                                "T0rPassw0rd", "--name", "tor_bgp_password"], capture_output=True, text=True, check=True)
    (folder / "group_vars").mkdir()
    (folder / "group_vars" / "all.yml").write_text(encrypted.stdout)
    overlay = "\n".join(line for line in (ROOT / ".lab" / "hosts.yml").read_text().splitlines()
                        if "cluster_kubeconfig:" not in line)  # the job's credential brings the kubeconfig
    (folder / "zz-lab-connection.yml").write_text(overlay + "\n")
    (folder / "zz-fabric.yml").write_text("plugin: nodenet.fabric.fabric\nkeyed_groups:\n"
                                          "  - {key: cluster_name, prefix: cluster}\n")
    sync = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(folder), "--list", "--export"],
                          capture_output=True, text=True, cwd=ROOT, env=env())
    assert sync.returncode == 0, sync.stderr
    synced = json.loads(sync.stdout)
    stored = synced["all"]["vars"]["node_base_fabric"]["__ansible_unsafe"]  # a plugin's value, marked unsafe
    assert stored.startswith('{"nodenet_fabric":') and "kubeconfig" not in stored and "east" in stored
    assert sorted(synced["cluster_east"]["hosts"]) == ["e1", "e2", "e3", "e4"]
    assert "T0rPassw0rd" not in sync.stdout and str(ROOT / ".lab") not in stored

    kubeconfig = tmp_path / "kubeconfig"
    merged_kubeconfig(kubeconfig)
    runner, data = awx_job(INVENTORY, "playbooks/calico_bgp_rr.yml", {}, synced=sync.stdout,
                           envvars={"K8S_AUTH_KUBECONFIG": str(kubeconfig)},
                           cmdline="--vault-password-file %s" % vault_password)
    stored = job_text(data)
    assert (runner.status, runner.rc) == ("successful", 0), stored[-4000:]
    assert "T0rPassw0rd" not in stored
    events = "\n".join(p.read_text() for p in sorted(Path(data).glob("artifacts/*/job_events/*.json")))
    assert events and str(kubeconfig) not in events  # the job's environment names it, as AWX's does; no event
    status = lab("bgp", "-i", str(INVENTORY))
    assert status.returncode == 0 and status.stdout.count("FAIL") == 0, status.stdout
    config = vtysh("show running-config", router="tor1")
    assert config.count("password T0rPassw0rd") == 4, config  # east's two RRs, west's two nodes
