"""Every Kubernetes path of the roles against a real kube-apiserver per lab cluster (tools/lab up
--k8s): objects are read back and their fields asserted, never only that a task ran."""
import copy
import json
import os
import stat
import time

import pytest
import yaml

from kernel_snapshot import kernel_state, snapshot, split
from lab_run import NODE_ROOT, ROOT, lab, playbook, recap
from slow_relay import SlowRelay

ROUTED = ROOT / "inventories" / "routed"        # alpha (calico), beta (canal), gamma (calico)
OURS = "app.kubernetes.io/managed-by=nodenet.fabric"


def api(cluster):
    from kubernetes import config
    return config.new_client_from_config(config_file=str(NODE_ROOT / "k8s" / cluster / "kubeconfig"))


def ippools(cluster):
    from kubernetes import client
    items = client.CustomObjectsApi(api(cluster)).list_cluster_custom_object(
        "crd.projectcalico.org", "v1", "ippools")["items"]
    return dict((p["metadata"]["name"], p) for p in items)


def managers(obj):
    return sorted(set(m["manager"] for m in obj["metadata"]["managedFields"]))


def token(cluster):
    return (NODE_ROOT / "k8s" / cluster / "tokens.csv").read_text().split(",")[0]


def assert_no_secret(out):
    for cluster in ("alpha", "beta", "gamma", "edge", "core"):
        path = NODE_ROOT / "k8s" / cluster / "tokens.csv"
        if path.exists():
            assert token(cluster) not in out


def unchanged(out):
    return all(r["changed"] == 0 for r in recap(out).values())


def wanted_pools(cluster, others):
    return sorted("%s-%s" % (kind, o) for o in others for kind in ("pod", "svc"))


@pytest.fixture(scope="module")
def routed():
    proc = lab("up", "-i", str(ROUTED), "--k8s")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield
    lab("down")


MESH_NODES = ("alpha-1", "alpha-2", "beta-1", "beta-2", "gamma-1")
POOLS = ["pod-alpha", "pod-beta", "pod-gamma", "svc-alpha", "svc-beta", "svc-gamma"]


def converge():
    """The routed lab converged: the mesh device on every node and every pool of ours in both
    calico clusters; a full run only when something is missing (each costs about 16 s)."""
    import subprocess
    devices = all(subprocess.run(["ip", "-n", h, "link", "show", "nnmesh0"], capture_output=True).returncode == 0
                  for h in MESH_NODES)
    if devices and ours_in("alpha") == [p for p in POOLS if "alpha" not in p] \
            and ours_in("gamma") == [p for p in POOLS if "gamma" not in p]:
        return
    rc, out = playbook(ROUTED)
    assert rc == 0, out[-3000:]


def without_gamma(tmp_path):
    inv = yaml.safe_load((ROUTED / "hosts.yml").read_text())
    del inv["all"]["children"]["vxlan_mesh"]["children"]["gamma"]
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inv))
    return tmp_path


def test_ippools_are_applied_read_back_and_a_rerun_changes_nothing(routed):
    rc, out = playbook(ROUTED, "--check")
    assert rc == 0, out[-3000:]
    assert sorted(ippools("alpha")) == ["default-ipv4-ippool"]  # check mode changes no object
    rc, out = playbook(ROUTED)
    assert rc == 0, out[-3000:]
    for cluster, others in (("alpha", ["beta", "gamma"]), ("gamma", ["alpha", "beta"])):
        pools = ippools(cluster)
        assert sorted(p for p in pools if p != "default-ipv4-ippool") == wanted_pools(cluster, others)
        pod_beta = pools["pod-beta"]
        ours = dict((k, pod_beta["spec"][k]) for k in ("cidr", "natOutgoing", "disabled"))
        assert ours == {"cidr": "10.50.0.0/16", "natOutgoing": False, "disabled": True}
        # Only what we set: the pinned calico module's CRD defaults nothing (calico-node reads an
        # empty nodeSelector as all()).
        assert set(pod_beta["spec"]) == {"cidr", "natOutgoing", "disabled"}
        assert pod_beta["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "nodenet.fabric"
        assert managers(pod_beta) == ["nodenet.fabric"]
        assert managers(pools["default-ipv4-ippool"]) == ["nodenet-lab"]
    assert sorted(ippools("beta")) == ["default-ipv4-ippool"]  # canal: no pools of ours
    rc, out = playbook(ROUTED)
    assert rc == 0 and unchanged(out), out[-3000:]
    assert_no_secret(out)


def test_leaving_the_mesh_prunes_only_our_pools(routed, tmp_path):
    from kubernetes import client
    converge()
    user_pool = {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
                 "metadata": {"name": "user-made", "labels": {"team": "netops"}},
                 "spec": {"cidr": "10.99.0.0/16", "natOutgoing": True, "disabled": False}}
    client.CustomObjectsApi(api("alpha")).create_cluster_custom_object("crd.projectcalico.org", "v1", "ippools", user_pool)
    before = ippools("alpha")
    rc, out = playbook(without_gamma(tmp_path), "--check")
    assert rc == 0 and ippools("alpha").keys() == before.keys(), out[-3000:]
    rc, out = playbook(without_gamma(tmp_path))
    assert rc == 0, out[-3000:]
    after = ippools("alpha")
    assert sorted(after) == ["default-ipv4-ippool", "pod-beta", "svc-beta", "user-made"]
    for name in ("default-ipv4-ippool", "pod-beta", "user-made"):
        assert after[name]["spec"] == before[name]["spec"] and after[name]["metadata"]["resourceVersion"] == \
            before[name]["metadata"]["resourceVersion"]
    rc, out = playbook(ROUTED)
    assert rc == 0 and "pod-gamma" in ippools("alpha"), out[-3000:]


def test_an_api_server_that_is_down_is_named_and_the_next_run_converges(routed):
    converge()
    from kubernetes import client
    client.CustomObjectsApi(api("alpha")).delete_cluster_custom_object("crd.projectcalico.org", "v1", "ippools",
                                                                       "pod-gamma")
    assert lab("apiserver", "stop", "alpha").returncode == 0
    try:
        rc, out = playbook(ROUTED)
    finally:
        assert lab("apiserver", "start", "alpha").returncode == 0
    assert rc != 0 and "cluster alpha, IPPool" in out, out[-3000:]
    assert_no_secret(out)
    rc, out = playbook(ROUTED)
    assert rc == 0 and "pod-gamma" in ippools("alpha"), out[-3000:]


def alpha_through(tmp_path, edit):
    """An inventory overlay giving alpha's nodes a copy of alpha's kubeconfig, changed by `edit`."""
    config = json.loads((NODE_ROOT / "k8s" / "alpha" / "kubeconfig").read_text())
    edit(config)
    changed = tmp_path / "alpha-kubeconfig"
    changed.write_text(json.dumps(config))
    changed.chmod(0o600)
    overlay = tmp_path / "overlay.yml"
    overlay.write_text(yaml.safe_dump({"all": {"hosts": dict(
        (h, {"cluster_kubeconfig": str(changed)}) for h in ("alpha-1", "alpha-2"))}}))
    return str(overlay)


def test_a_wrong_token_is_named_and_never_printed(routed, tmp_path):
    overlay = alpha_through(tmp_path, lambda c: c["users"][0]["user"].update(token="0123456789abcdef0123456789abcdef"))
    rc, out = playbook(ROUTED, "-i", overlay)
    assert rc != 0 and "cluster alpha, IPPool" in out and "Unauthorized" in out, out[-3000:]
    assert "0123456789abcdef0123456789abcdef" not in out
    assert_no_secret(out)


def test_a_field_another_manager_owns_is_a_named_conflict(routed):
    from kubernetes import client
    converge()
    objects = client.CustomObjectsApi(api("gamma"))
    theirs = {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "pod-alpha"},
              "spec": {"cidr": "10.40.0.0/16", "disabled": False}}
    objects.patch_cluster_custom_object("crd.projectcalico.org", "v1", "ippools", "pod-alpha", theirs,
                                        field_manager="someone-else", force=True, _content_type="application/apply-patch+yaml")
    rc, out = playbook(ROUTED)
    assert rc != 0 and "cluster gamma, IPPool pod-alpha" in out and "conflict" in out.lower(), out[-3000:]
    assert ippools("gamma")["pod-alpha"]["spec"]["disabled"] is False  # theirs, untouched
    objects.delete_cluster_custom_object("crd.projectcalico.org", "v1", "ippools", "pod-alpha")
    rc, out = playbook(ROUTED)
    assert rc == 0 and ippools("gamma")["pod-alpha"]["spec"]["disabled"] is True, out[-3000:]


def test_a_manifest_the_crd_schema_rejects_is_named(routed):
    from kubernetes import client
    converge()
    ext = client.ApiextensionsV1Api(api("alpha"))
    crd = ext.read_custom_resource_definition("ippools.crd.projectcalico.org")
    original = copy.deepcopy(api("alpha").sanitize_for_serialization(crd))
    strict = copy.deepcopy(original)
    spec = strict["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["natOutgoing"]["enum"] = [True]  # now our pools (natOutgoing false) are invalid
    strict.pop("status", None)
    ext.replace_custom_resource_definition("ippools.crd.projectcalico.org", strict)
    client.CustomObjectsApi(api("alpha")).delete_cluster_custom_object("crd.projectcalico.org", "v1", "ippools",
                                                                       "svc-beta")
    try:
        rc, out = playbook(ROUTED)
        assert rc != 0 and "cluster alpha, IPPool svc-beta" in out and "natOutgoing" in out, out[-3000:]
    finally:
        current = api("alpha").sanitize_for_serialization(ext.read_custom_resource_definition(
            "ippools.crd.projectcalico.org"))
        original["metadata"] = dict(original["metadata"], resourceVersion=current["metadata"]["resourceVersion"])
        original.pop("status", None)
        ext.replace_custom_resource_definition("ippools.crd.projectcalico.org", original)
    rc, out = playbook(ROUTED)
    assert rc == 0 and "svc-beta" in ippools("alpha"), out[-3000:]


def test_secrets_are_owner_only(routed):
    for cluster in ("alpha", "beta", "gamma"):
        for name in ("kubeconfig", "tokens.csv", "server.key", "sa.key"):
            mode = stat.S_IMODE(os.stat(NODE_ROOT / "k8s" / cluster / name).st_mode)
            assert mode == 0o600, (cluster, name, oct(mode))


def test_an_api_server_going_down_mid_run_is_named_and_the_next_run_converges(routed, tmp_path):
    """The API server stops as soon as the first of our pools reaches it: the rest of that
    cluster's pools fail, named, and the next run converges."""
    import threading
    import time
    from kubernetes import client
    converge()
    objects = client.CustomObjectsApi(api("alpha"))
    for name in ("pod-beta", "svc-beta", "pod-gamma", "svc-gamma"):
        objects.delete_cluster_custom_object("crd.projectcalico.org", "v1", "ippools", name)
    stopped = threading.Event()

    def stop_at_first_pool():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not stopped.is_set():
            try:
                if ours_in("alpha"):
                    lab("apiserver", "stop", "alpha")
                    stopped.set()
                    return
            except Exception:
                pass
            time.sleep(0.05)
    # The run reaches alpha through a relay that holds each request 0.3 s: the engine applies the
    # four pools within milliseconds, too fast for the watcher to stop the server between two.
    server = json.loads((NODE_ROOT / "k8s" / "alpha" / "kubeconfig").read_text())["clusters"][0]["cluster"]["server"]
    relay = SlowRelay(int(server.rsplit(":", 1)[1]), 0.3)
    override = alpha_through(tmp_path, lambda c: c["clusters"][0]["cluster"].update(
        server="https://127.0.0.1:%d" % relay.port))
    watcher = threading.Thread(target=stop_at_first_pool)
    watcher.start()
    try:
        rc, out = playbook(ROUTED, "-i", override)
    finally:
        stopped.set()
        watcher.join()
        relay.close()
        assert lab("apiserver", "start", "alpha").returncode == 0
    assert rc != 0 and "cluster alpha, IPPool" in out, out[-3000:]
    assert 0 < len(ours_in("alpha")) < 4  # some made, some not
    assert_no_secret(out)
    rc, out = playbook(ROUTED)
    assert rc == 0 and ours_in("alpha") == ["pod-beta", "pod-gamma", "svc-beta", "svc-gamma"], out[-3000:]


def ours_in(cluster):
    return sorted(n for n, p in ippools(cluster).items()
                  if p["metadata"].get("labels", {}).get("app.kubernetes.io/managed-by") == "nodenet.fabric")


# --- vxlan_mesh beside the real flanneld (beta is canal) ---------------------------------------

def flannel_state(host):
    """What flanneld owns on a node: flannel.1, its neighbors and FDB entries, the routes over it."""
    state = kernel_state(host)
    owned, _ = split(state, "flannel.1", -1)
    owned["routes"] = sorted((r for r in state["routes"] if r.get("dev") == "flannel.1" and "table" not in r
                              and r.get("protocol") != "2"),  # the kernel's own (fe80::/64 of the device)
                             key=json.dumps)  # main table (a route of another table names its table)
    return owned


def mesh_state(host):
    return snapshot(host, "nnmesh0", 201)[0]


def restart_canal():
    """A rolling restart of canal's DaemonSet (flanneld on each beta node), waited for."""
    from kubernetes import client
    apps = client.AppsV1Api(api("beta"))
    pids = json.loads((NODE_ROOT / "kubelet-beta" / "pids.json").read_text())
    apps.patch_namespaced_daemon_set("canal", "kube-system", {"spec": {"template": {"metadata": {"annotations": {
        "lab.nodenet/restarted": str(time.time())}}}}})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = json.loads((NODE_ROOT / "kubelet-beta" / "pids.json").read_text())
        status = apps.read_namespaced_daemon_set("canal", "kube-system").status
        if not set(pids) & set(now) and status.updated_number_scheduled == status.number_ready == 2:
            time.sleep(3)  # each new flanneld has read every lease
            return
        time.sleep(0.5)
    raise AssertionError("canal's flanneld did not restart on every node")


def test_the_mesh_and_a_real_flanneld_leave_each_other_alone(routed):
    beta = ("beta-1", "beta-2")
    mesh_nodes = MESH_NODES
    converge()
    flanneld = dict((h, flannel_state(h)) for h in beta)
    mesh = dict((h, mesh_state(h)) for h in mesh_nodes)
    for host, other in zip(beta, reversed(beta)):  # both are there, side by side
        assert flanneld[host]["links"] and [r["dst"] for r in flanneld[host]["routes"]] == [
            "10.50.%s.0/24" % other[-1]]
        assert mesh[host]["links"] and mesh[host]["routes"]
    restart_canal()
    assert dict((h, mesh_state(h)) for h in mesh_nodes) == mesh  # flanneld removed nothing of ours
    assert dict((h, flannel_state(h)) for h in beta) == flanneld
    for state in ("absent", "present"):  # a mesh run, either way, touches nothing of flanneld's
        rc, out = playbook(ROUTED, "-e", "vxlan_mesh_state=%s" % state)
        assert rc == 0, out[-3000:]
        assert dict((h, flannel_state(h)) for h in beta) == flanneld
    assert lab("matrix", "-i", str(ROUTED)).returncode == 0
