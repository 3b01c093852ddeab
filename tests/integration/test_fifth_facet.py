"""docs/architecture.md's "A new role", proven: a fifth facet (tests/integration/data/fifth_facet:
a package under plugins/plugin_utils and a role, nothing else) added to a copy of the installed
collection is found by the registry, read and checked by the model, planned by the generic
node_plan filter, reconciled on the lab's nodes with its own route protocol, and its ConfigMap
applied and pruned by the cluster engine against the lab's kube-apiserver; a rerun changes
nothing, and absent removes both."""
import json
import os
import shutil
import subprocess

import pytest
import yaml
from lab_run import BIN, ROOT, env, lab, recap

DATA = ROOT / "tests" / "integration" / "data" / "fifth_facet"
NODES = {"solo-1": "10.77.0.11", "solo-2": "10.77.0.12"}
ROUTES = {"solo-1": ("198.51.100.0/24", NODES["solo-2"]), "solo-2": ("203.0.113.0/24", NODES["solo-1"])}
INVENTORY = {"all": {"children": {
    "static_route": {"children": {"solo": None}},
    "solo": {"vars": {"cluster_name": "solo", "cluster_pod_cidr": "10.78.0.0/16", "cluster_service_cidr": "10.79.0.0/16",
                      "cluster_cni": "calico", "node_interface": "eth0", "node_subnet": "10.77.0.0/24"},
             "hosts": dict((h, {"node_ip": ip, "node_pod_cidrs": ["10.78.%d.0/24" % (i + 1)],
                                "static_route_routes": [{"dst": ROUTES[h][0], "via": ROUTES[h][1]}]})
                           for i, (h, ip) in enumerate(sorted(NODES.items())))}}}}


def added_files():
    return sorted(str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def fifth(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fifth")
    target = tmp / "collections" / "ansible_collections" / "nodenet" / "fabric"
    shutil.copytree(ROOT / ".collections" / "ansible_collections" / "nodenet" / "fabric", target,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in added_files():
        assert not (target / name).exists(), name  # only new files: nothing of the collection changes
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / name, target / name)
    (tmp / "hosts.yml").write_text(yaml.safe_dump(INVENTORY))
    (tmp / "play.yml").write_text(yaml.safe_dump([{"name": "The fifth role", "hosts": "static_route",
                                                   "gather_facts": False, "roles": ["nodenet.fabric.static_route"]}]))
    run_env = dict(env(), ANSIBLE_COLLECTIONS_PATH="%s:%s" % (tmp / "collections", ROOT / ".collections"),
                   NODENET_LAB_COLLECTIONS=str(tmp / "collections"))
    proc = subprocess.run(["python", str(ROOT / "tools" / "lab"), "up", "-i", str(tmp / "hosts.yml"), "--k8s"],
                          cwd=ROOT, env=run_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield tmp, run_env
    lab("down")


def play(fifth, *argv):
    tmp, run_env = fifth
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(tmp / "hosts.yml"), "-i", ".lab/hosts.yml",
                           str(tmp / "play.yml")] + list(argv), cwd=ROOT, env=run_env, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def routes(host):
    out = subprocess.run(["ip", "-n", host, "-j", "route", "show", "proto", "222"], capture_output=True, text=True,
                         check=True).stdout
    return sorted((r["dst"], r.get("gateway")) for r in json.loads(out or "[]"))


def config_map():
    from kubernetes import client, config
    api = config.new_client_from_config(config_file=str(ROOT / ".lab" / "run" / "k8s" / "solo" / "kubeconfig"))
    try:
        return client.CoreV1Api(api).read_namespaced_config_map("static-routes", "kube-system").data
    except client.exceptions.ApiException as exc:
        assert exc.status == 404
        return None


def test_only_a_package_and_a_role_are_added():
    assert added_files() == [
        "plugins/plugin_utils/static_route/__init__.py", "roles/static_route/README.md",
        "roles/static_route/defaults/main.yml", "roles/static_route/meta/argument_specs.yml",
        "roles/static_route/meta/main.yml", "roles/static_route/tasks/main.yml"]


def test_the_fifth_role_routes_its_nodes_and_lists_them_in_its_cluster(fifth):
    assert all(routes(h) == [] for h in NODES) and config_map() is None
    rc, out = play(fifth)
    assert rc == 0, out[-3000:]
    for host, (dst, via) in ROUTES.items():
        assert routes(host) == [(dst, via)], host
    assert config_map() == dict((h, json.dumps([{"dst": d, "via": v}])) for h, (d, v) in ROUTES.items())
    rc, out = play(fifth)
    assert rc == 0 and all(c["changed"] == 0 for c in recap(out).values()), recap(out)
    rc, out = play(fifth, "-e", "static_route_state=absent")
    assert rc == 0, out[-3000:]
    assert all(routes(h) == [] for h in NODES) and config_map() is None


def test_its_bad_input_is_refused_by_the_model_naming_cluster_node_and_variable(fifth):
    rc, out = play(fifth, "-e", json.dumps({"static_route_routes": [{"dst": "not-a-network", "via": "10.77.0.12"}]}))
    assert rc != 0 and "cluster solo, node solo-1, static_route_routes[0]: needs a dst network" in out, out[-3000:]
    assert all(routes(h) == [] for h in NODES)
