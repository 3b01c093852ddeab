"""kube_router_install beyond the model: the Kubernetes objects of every step (against the real
Kubernetes schemas, with kubernetes-validate), kube-router's flags, the node annotations, the CNI
conflist, each node's expected peers and routes, the live preflight, the kubeadm-config and
kube-proxy copies, the CNI directory's files (real files under tmp_path) and gobgp's table."""
import base64
import copy
import json
import os

import kubernetes_validate
import pytest
import yaml
from helpers import inventory_of, read_model, set_on_group

from ansible_collections.nodenet.fabric.plugins.module_utils import cni_files, gobgp
from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import model as kube_router
from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import cluster as kube_router_live
from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import plan as kube_router_plan
from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import resources as kube_router_resources

GROUP = kube_router.NAME
# The newest Kubernetes the installed kubernetes-validate ships schemas for (1.37 with 1.37.0).
K8S = kubernetes_validate.latest_version()
SWITCH_ARGS = ["--run-router=true", "--run-firewall=true", "--run-service-proxy=true", "--run-loadbalancer=false",
               "--nodes-full-mesh=true", "--enable-overlay=false", "--advertise-cluster-ip=false",
               "--advertise-external-ip=false", "--advertise-loadbalancer-ip=false", "--advertise-pod-cidr=true",
               "--hairpin-mode=false", "--enable-pod-egress=true"]
SEED_ARGS = SWITCH_ARGS + ["--cluster-asn=64512", "--kubeconfig=/var/lib/kube-router/kubeconfig",
                           "--service-cluster-ip-range=10.254.0.0/16"]
LABELS = {"app.kubernetes.io/managed-by": "nodenet.fabric", "k8s-app": "kube-router"}
BASE_VOLUMES = [{"name": "lib-modules", "hostPath": {"path": "/lib/modules"}},
                {"name": "cni-conf-dir", "hostPath": {"path": "/etc/cni/net.d"}},
                {"name": "kubeconfig", "configMap": {"name": "kube-router"}},
                {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}}]
BASE_MOUNTS = [{"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
               {"name": "cni-conf-dir", "mountPath": "/etc/cni/net.d"},
               {"name": "kubeconfig", "mountPath": "/var/lib/kube-router", "readOnly": True},
               {"name": "xtables-lock", "mountPath": "/run/xtables.lock"}]
FULL_KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Secret", "DaemonSet")
PARTIAL_KINDS = ("Node", "Service")


# --- inventories -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed003():
    return inventory_of("inventories/kube-router")


read = read_model


def valid(inventory, change=None):
    fabric = read(inventory, change)
    assert [str(e) for e in fabric.problems()] == []
    return fabric


def every_node(**values):
    return set_on_group(GROUP, **values)


def both(*changes):
    def change(hostvars, groups):
        for one in changes:
            one(hostvars, groups)
    return change


def reflectors(hostvars, groups):
    every_node(kube_router_rr_cluster_id="42")(hostvars, groups)
    for host in ("k8s-1", "k8s-2"):
        hostvars[host]["kube_router_route_reflector"] = True


def k8s_3_on_another_subnet(hostvars, groups):
    hostvars["k8s-3"].update(node_ip="172.26.7.3", node_subnet="172.26.7.0/24")


def secret_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    os.chmod(path, 0o600)
    return str(path)


@pytest.fixture()
def passwords(tmp_path):
    return secret_file(tmp_path, "tor-a.pw", "s3cret\n"), secret_file(tmp_path, "tor-c.pw", "hunter2")


def with_peers(first, third):
    """Three peer routers; the middle one has no password (an empty entry by position)."""
    return every_node(kube_router_peers=[
        {"ip": "172.26.6.254", "asn": 65001, "password_file": first},
        {"ip": "172.26.6.253", "asn": 65002, "port": 1179},
        {"ip": "172.26.6.252", "asn": 65003, "password_file": third}])


DSR = every_node(kube_router_services=[{"namespace": "default", "name": "nginx", "scheduler": "dh"},
                                       {"namespace": "default", "name": "web", "dsr": "tunnel", "hairpin": True,
                                        "local": True}],
                 kube_router_extra_args={"service-external-ip-range": "198.51.100.0/24"})
FULL_OVERLAY = every_node(kube_router_overlay=True, kube_router_overlay_type="full")


# Without the full mesh and route reflectors an eBGP router carries the pod CIDRs between the nodes.
NO_MESH = every_node(kube_router_full_mesh=False, kube_router_peers=[{"ip": "172.26.6.252", "asn": 65200}])


def variants(password_pair):
    return {"seed": None, "route reflectors": reflectors, "no full mesh": NO_MESH,
            "peers with passwords": with_peers(*password_pair), "dsr": DSR, "full overlay": FULL_OVERLAY}


def step(fabric, name):
    items = kube_router_resources.manifests(fabric, name)
    assert [(i["cluster"], i["kubeconfig"]) for i in items] == [("k8s", None)]
    return items[0]["manifests"]


def daemonset(fabric):
    (ds,) = step(fabric, "daemonset")
    return ds


def pod(fabric):
    return daemonset(fabric)["spec"]["template"]["spec"]


def container(fabric):
    (one,) = pod(fabric)["containers"]
    return one


# --- 1. every manifest against the real Kubernetes schemas --------------------------------------

def test_kubernetes_validate_is_the_newest_schema_set_and_strict():
    assert K8S == "1.37.0"
    broken = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "x"},
              "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                       "spec": {"containers": [{"name": "x", "image": "x", "argz": []}]}}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S, strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):  # a Secret's stringData values are strings
        kubernetes_validate.validate({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"},
                                      "stringData": {"k": 1}}, K8S, strict=True)


@pytest.mark.parametrize("variant", ["seed", "route reflectors", "no full mesh", "peers with passwords", "dsr",
                                     "full overlay"])
def test_every_full_manifest_of_every_step_validates_strictly(seed003, passwords, variant):
    fabric = valid(seed003, variants(passwords)[variant])
    kinds = []
    for name in kube_router_resources.STEPS:
        for manifest in step(fabric, name):
            kinds.append(manifest["kind"])
            assert manifest["kind"] in FULL_KINDS + PARTIAL_KINDS
            if manifest["kind"] in FULL_KINDS:
                assert kubernetes_validate.validate(json.loads(json.dumps(manifest)), K8S, strict=True) == "1.37"
    secret = ["Secret"] if variant == "peers with passwords" else []
    services = ["Service", "Service"] if variant == "dsr" else ["Service"]
    assert kinds == (["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "ConfigMap"] + secret
                     + ["Node", "Node", "Node"] + services + ["DaemonSet"])


def test_the_partial_objects_carry_only_what_is_ours(seed003):
    fabric = valid(seed003, DSR)
    assert step(fabric, "nodes") == [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": host}}
                                     for host in ("k8s-1", "k8s-2", "k8s-3")]
    assert step(fabric, "services") == [
        {"apiVersion": "v1", "kind": "Service", "metadata": {
            "name": "nginx", "namespace": "default", "annotations": {"kube-router.io/service.scheduler": "dh"}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {
            "name": "web", "namespace": "default", "annotations": {
                "kube-router.io/service.dsr": "tunnel", "kube-router.io/service.hairpin": "true",
                "kube-router.io/service.local": "true"}}}]


def test_the_base_objects_of_the_seed(seed003):
    objects = step(valid(seed003), "base")
    account, role, binding, kubeconfig, cfg = objects
    assert account == {"apiVersion": "v1", "kind": "ServiceAccount",
                       "metadata": {"name": "kube-router", "labels": LABELS, "namespace": "kube-system"}}
    assert role["metadata"] == {"name": "kube-router", "labels": LABELS}
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": "kube-router"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kube-router", "namespace": "kube-system"}]
    assert kubeconfig["metadata"]["name"] == "kube-router" and list(kubeconfig["data"]) == ["kubeconfig"]
    config = json.loads(kubeconfig["data"]["kubeconfig"])
    assert config["clusters"] == [{"name": "default", "cluster": {
        "server": "https://172.26.6.1:6443",
        "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"}}]
    assert config["users"] == [{"name": "default", "user": {
        "tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}}]
    assert cfg["metadata"]["name"] == "kube-router-cfg"
    assert cfg["data"] == {"cni-conf.json": (
        '{"cniVersion":"0.3.0","name":"kubernetes","plugins":[{"bridge":"kube-bridge","hairpinMode":true,'
        '"ipam":{"type":"host-local"},"isDefaultGateway":true,"name":"kubernetes","type":"bridge"},'
        '{"capabilities":{"portMappings":true,"snat":true},"type":"portmap"}]}')}


# --- 2. the DaemonSet --------------------------------------------------------------------------

def test_the_seeds_daemonset_args_and_pod(seed003):
    fabric = valid(seed003)
    ds = daemonset(fabric)
    assert ds["metadata"] == {"name": "kube-router", "namespace": "kube-system", "labels": dict(LABELS, tier="node")}
    assert ds["spec"]["selector"] == {"matchLabels": {"k8s-app": "kube-router", "tier": "node"}}
    assert container(fabric)["args"] == SEED_ARGS
    assert container(fabric)["image"] == "docker.io/cloudnativelabs/kube-router:v2.10.0"
    assert container(fabric)["volumeMounts"] == BASE_MOUNTS
    spec = pod(fabric)
    assert spec["volumes"] == BASE_VOLUMES
    assert "hostIPC" not in spec and "hostPID" not in spec
    assert spec["hostNetwork"] is True and spec["serviceAccountName"] == "kube-router"
    assert kube_router_resources.args(kube_router.cluster_settings(fabric, "k8s"), fabric.clusters["k8s"]) == SEED_ARGS


def test_dsr_adds_host_ipc_pid_the_runtime_endpoint_and_its_folder(seed003):
    fabric = valid(seed003, DSR)
    spec = pod(fabric)
    assert (spec["hostIPC"], spec["hostPID"]) == (True, True)
    assert container(fabric)["args"] == SEED_ARGS + ["--runtime-endpoint=unix:///run/containerd/containerd.sock",
                                                     "--service-external-ip-range=198.51.100.0/24"]
    assert container(fabric)["volumeMounts"] == BASE_MOUNTS + [
        {"name": "runtime", "mountPath": "/run/containerd", "readOnly": True}]
    assert spec["volumes"] == BASE_VOLUMES + [{"name": "runtime", "hostPath": {"path": "/run/containerd"}}]


def test_a_service_without_dsr_needs_no_runtime(seed003):
    fabric = valid(seed003, every_node(kube_router_services=[
        {"namespace": "default", "name": "web", "hairpin": True}]))
    assert container(fabric)["args"] == SEED_ARGS
    assert "hostPID" not in pod(fabric) and pod(fabric)["volumes"] == BASE_VOLUMES


def test_the_overlay_adds_its_type_and_encapsulation(seed003):
    fabric = valid(seed003, FULL_OVERLAY)
    args = list(SEED_ARGS)
    args[args.index("--enable-overlay=false")] = "--enable-overlay=true"
    assert container(fabric)["args"] == args + ["--overlay-type=full", "--overlay-encap=ipip"]


def test_peer_passwords_go_to_a_secret_by_position_never_to_the_daemonset(seed003, passwords):
    fabric = valid(seed003, with_peers(*passwords))
    (secret,) = [m for m in step(fabric, "base") if m["kind"] == "Secret"]
    assert secret == {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                      "metadata": {"name": "kube-router-peer-passwords", "namespace": "kube-system",
                                   "labels": LABELS},
                      "stringData": {"peer-router-passwords": "czNjcmV0,,aHVudGVyMg=="}}
    assert [base64.b64decode(p).decode() for p in secret["stringData"]["peer-router-passwords"].split(",")] == [
        "s3cret", "", "hunter2"]
    assert container(fabric)["args"] == SEED_ARGS + [
        "--peer-router-ips=172.26.6.254,172.26.6.253,172.26.6.252", "--peer-router-asns=65001,65002,65003",
        "--peer-router-ports=179,1179,179",
        "--peer-router-passwords-file=/etc/kube-router/peer-passwords/peer-router-passwords"]
    assert container(fabric)["volumeMounts"] == BASE_MOUNTS + [
        {"name": "peer-passwords", "mountPath": "/etc/kube-router/peer-passwords", "readOnly": True}]
    assert pod(fabric)["volumes"] == BASE_VOLUMES + [
        {"name": "peer-passwords", "secret": {"secretName": "kube-router-peer-passwords", "defaultMode": 0o400}}]
    text = json.dumps(daemonset(fabric)) + json.dumps(step(fabric, "nodes")) + json.dumps(step(fabric, "services"))
    for secret_text in ("s3cret", "hunter2", "czNjcmV0", "aHVudGVyMg"):
        assert secret_text not in text
        assert not any(secret_text in a for a in container(fabric)["args"])
    assert "s3cret" not in model.dumps(fabric)


def test_peers_without_passwords_have_no_secret_no_flag_no_volume(seed003):
    fabric = valid(seed003, every_node(kube_router_peers=[{"ip": "172.26.6.254", "asn": 65001}]))
    assert [m["kind"] for m in step(fabric, "base")] == [
        "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "ConfigMap"]
    assert container(fabric)["args"] == SEED_ARGS + ["--peer-router-ips=172.26.6.254", "--peer-router-asns=65001"]
    assert pod(fabric)["volumes"] == BASE_VOLUMES
    assert kube_router_resources.peer_passwords(kube_router.cluster_settings(fabric, "k8s")) is None


# --- 3. node annotations -----------------------------------------------------------------------

def test_route_reflectors_are_rr_servers_and_the_others_rr_clients(seed003):
    fabric = valid(seed003, reflectors)
    assert kube_router_resources.node_annotations(fabric, "k8s") == {
        "k8s-1": {"kube-router.io/rr.server": "42"}, "k8s-2": {"kube-router.io/rr.server": "42"},
        "k8s-3": {"kube-router.io/rr.client": "42"}}
    assert [m["metadata"] for m in step(fabric, "nodes")] == [
        {"name": "k8s-1", "annotations": {"kube-router.io/rr.server": "42"}},
        {"name": "k8s-2", "annotations": {"kube-router.io/rr.server": "42"}},
        {"name": "k8s-3", "annotations": {"kube-router.io/rr.client": "42"}}]


def test_without_the_full_mesh_every_node_gets_its_asn(seed003):
    fabric = valid(seed003, both(reflectors, every_node(kube_router_full_mesh=False)))
    assert kube_router_resources.node_annotations(fabric, "k8s") == {
        "k8s-1": {"kube-router.io/rr.server": "42", "kube-router.io/node.asn": "64512"},
        "k8s-2": {"kube-router.io/rr.server": "42", "kube-router.io/node.asn": "64512"},
        "k8s-3": {"kube-router.io/rr.client": "42", "kube-router.io/node.asn": "64512"}}
    fabric = valid(seed003, NO_MESH)
    assert [m["metadata"] for m in step(fabric, "nodes")] == [
        {"name": h, "annotations": {"kube-router.io/node.asn": "64512"}} for h in ("k8s-1", "k8s-2", "k8s-3")]


def test_the_seeds_nodes_carry_no_annotations_key(seed003):
    fabric = valid(seed003)
    assert kube_router_resources.node_annotations(fabric, "k8s") == {"k8s-1": {}, "k8s-2": {}, "k8s-3": {}}
    for manifest in step(fabric, "nodes"):
        assert "annotations" not in manifest["metadata"]


# --- 4. the conflist ---------------------------------------------------------------------------

def conflist_text(pod_cidr, mtu=None):
    bridge = ('{"bridge":"kube-bridge","hairpinMode":true,"ipam":{"ranges":[[{"subnet":"%s"}]],'
              '"type":"host-local"},"isDefaultGateway":true,%s"name":"kubernetes","type":"bridge"}'
              % (pod_cidr, '"mtu":%d,' % mtu if mtu else ""))
    return ('{"cniVersion":"0.3.0","name":"kubernetes","plugins":[%s,{"capabilities":{"portMappings":true,'
            '"snat":true},"type":"portmap"}]}' % bridge)


def test_each_nodes_conflist_is_compact_sorted_json_with_its_pod_cidr_and_mtu(seed003):
    fabric = valid(seed003, lambda h, g: h["k8s-2"].update(node_mtu=9000))
    cni = kube_router_resources.node_cni(fabric, "k8s-2")
    assert cni == {"dir": "/etc/cni/net.d", "backup_dir": "/var/lib/nodenet-fabric/cni-replaced",
                   "file": "10-kuberouter.conflist", "content": conflist_text("10.244.1.0/24", 9000),
                   "replaced": ["10-flannel.conflist", "10-flannel.conf"]}
    parsed = json.loads(cni["content"])
    assert cni["content"] == json.dumps(parsed, sort_keys=True, separators=(",", ":"))
    assert parsed["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.244.1.0/24"}]]
    assert parsed["plugins"][0]["mtu"] == 9000
    assert kube_router_resources.node_cni(fabric, "k8s-1")["content"] == conflist_text("10.244.0.0/24", 1500)


def test_the_mtu_leaves_the_conflist_only_when_auto_mtu_is_off(seed003):
    off = valid(seed003, every_node(kube_router_extra_args={"auto-mtu": False}))
    assert kube_router_resources.node_cni(off, "k8s-3")["content"] == conflist_text("10.244.2.0/24")
    assert "mtu" not in json.loads(kube_router_resources.node_cni(off, "k8s-3")["content"])["plugins"][0]
    assert container(off)["args"] == SEED_ARGS + ["--auto-mtu=false"]
    on = valid(seed003, every_node(kube_router_extra_args={"auto-mtu": "true"}))
    assert kube_router_resources.node_cni(on, "k8s-3")["content"] == conflist_text("10.244.2.0/24", 1500)


@pytest.mark.parametrize("cni, files", [("flannel", ["10-flannel.conflist", "10-flannel.conf"]),
                                        ("calico", ["10-calico.conflist", "calico-kubeconfig"]), ("none", [])])
def test_the_replaced_cnis_files_are_named(seed003, cni, files):
    fabric = valid(seed003, every_node(kube_router_replaced_cni=cni))
    assert kube_router_resources.node_cni(fabric, "k8s-1")["replaced"] == files


def test_the_cni_directories_come_from_the_inventory(seed003):
    fabric = valid(seed003, every_node(kube_router_cni_conf_dir="/opt/cni/conf/", kube_router_cni_backup_dir="/srv/b"))
    cni = kube_router_resources.node_cni(fabric, "k8s-1")
    assert (cni["dir"], cni["backup_dir"]) == ("/opt/cni/conf", "/srv/b")
    assert pod(fabric)["volumes"][1] == {"name": "cni-conf-dir", "hostPath": {"path": "/opt/cni/conf"}}
    assert container(fabric)["volumeMounts"][1] == {"name": "cni-conf-dir", "mountPath": "/etc/cni/net.d"}


# --- 5. expected peers and routes --------------------------------------------------------------

def peers(fabric, host):
    return [(p["ip"], p["asn"], p["kind"], p["node"]) for p in kube_router_plan.expected_peers(fabric, host)]


def test_full_mesh_every_node_peers_with_every_other(seed003):
    fabric = valid(seed003)
    assert peers(fabric, "k8s-1") == [("172.26.6.2", 64512, "node", "k8s-2"), ("172.26.6.3", 64512, "node", "k8s-3")]
    assert peers(fabric, "k8s-2") == [("172.26.6.1", 64512, "node", "k8s-1"), ("172.26.6.3", 64512, "node", "k8s-3")]
    assert peers(fabric, "k8s-3") == [("172.26.6.1", 64512, "node", "k8s-1"), ("172.26.6.2", 64512, "node", "k8s-2")]


def test_with_route_reflectors_a_client_peers_only_with_them(seed003):
    fabric = valid(seed003, reflectors)
    assert peers(fabric, "k8s-3") == [("172.26.6.1", 64512, "route reflector", "k8s-1"),
                                      ("172.26.6.2", 64512, "route reflector", "k8s-2")]
    assert peers(fabric, "k8s-1") == [("172.26.6.2", 64512, "route reflector", "k8s-2"),
                                      ("172.26.6.3", 64512, "rr client", "k8s-3")]
    assert peers(fabric, "k8s-2") == [("172.26.6.1", 64512, "route reflector", "k8s-1"),
                                      ("172.26.6.3", 64512, "rr client", "k8s-3")]


def a_fourth_node(hostvars, groups):
    hostvars["k8s-4"] = dict(copy.deepcopy(hostvars["k8s-3"]), node_ip="172.26.6.4", node_pod_cidrs=["10.244.3.0/24"])
    for group in ("all", "k8s", GROUP):
        groups[group].append("k8s-4")


def test_a_client_does_not_peer_with_another_client(seed003):
    fabric = valid(seed003, both(a_fourth_node, reflectors))
    assert peers(fabric, "k8s-3") == [("172.26.6.1", 64512, "route reflector", "k8s-1"),
                                      ("172.26.6.2", 64512, "route reflector", "k8s-2")]
    assert peers(fabric, "k8s-4") == peers(fabric, "k8s-3")
    assert peers(fabric, "k8s-1") == [("172.26.6.2", 64512, "route reflector", "k8s-2"),
                                      ("172.26.6.3", 64512, "rr client", "k8s-3"),
                                      ("172.26.6.4", 64512, "rr client", "k8s-4")]
    assert kube_router_resources.node_annotations(fabric, "k8s")["k8s-4"] == {"kube-router.io/rr.client": "42"}


def test_peer_routers_are_added_on_every_node(seed003):
    fabric = valid(seed003, both(reflectors, every_node(kube_router_peers=[
        {"ip": "172.26.6.254", "asn": 65001}, {"ip": "172.26.6.253", "asn": 65002, "port": 1179}])))
    routers = [("172.26.6.254", 65001, "peer router", ""), ("172.26.6.253", 65002, "peer router", "")]
    assert peers(fabric, "k8s-3") == [("172.26.6.1", 64512, "route reflector", "k8s-1"),
                                      ("172.26.6.2", 64512, "route reflector", "k8s-2")] + routers
    assert peers(fabric, "k8s-1") == [("172.26.6.2", 64512, "route reflector", "k8s-2"),
                                      ("172.26.6.3", 64512, "rr client", "k8s-3")] + routers


def test_routes_go_via_the_other_node_on_the_same_subnet_and_any_gateway_across(seed003):
    fabric = valid(seed003, both(k8s_3_on_another_subnet, every_node(kube_router_overlay=True)))
    assert kube_router_plan.expected_routes(fabric, "k8s-1") == [
        {"dst": "10.244.1.0/24", "via": "172.26.6.2", "node": "k8s-2"},
        {"dst": "10.244.2.0/24", "via": None, "node": "k8s-3"}]
    assert kube_router_plan.expected_routes(fabric, "k8s-3") == [
        {"dst": "10.244.0.0/24", "via": None, "node": "k8s-1"},
        {"dst": "10.244.1.0/24", "via": None, "node": "k8s-2"}]


def test_without_advertised_pod_cidrs_no_route_is_expected(seed003):
    fabric = valid(seed003, every_node(kube_router_advertise_pod_cidr=False))
    assert kube_router_plan.expected_routes(fabric, "k8s-1") == []
    assert len(kube_router_plan.expected_peers(fabric, "k8s-1")) == 2


def test_a_full_overlay_expects_tunnel_routes_without_a_gateway(seed003):
    fabric = valid(seed003, FULL_OVERLAY)
    assert kube_router_plan.expected_routes(fabric, "k8s-1") == [
        {"dst": "10.244.1.0/24", "via": None, "node": "k8s-2"},
        {"dst": "10.244.2.0/24", "via": None, "node": "k8s-3"}]


def test_a_full_overlays_tunnel_routes_are_not_reported_missing(seed003):
    """`ip -j route show proto 17` on k8s-1 under a full overlay lists dev routes (no gateway):
    the verify step accepts them."""
    fabric = valid(seed003, FULL_OVERLAY)
    tunnel_routes = [{"dst": "10.244.1.0/24", "dev": "tun-1722662", "protocol": "17", "scope": "link"},
                     {"dst": "10.244.2.0/24", "dev": "tun-1722663", "protocol": "17", "scope": "link"}]
    wanted = kube_router_plan.node_plan(fabric, "k8s-1")["verify"]["routes"]
    assert gobgp.missing_routes(wanted, tunnel_routes) == []


def test_the_seeds_node_plan(seed003):
    fabric = valid(seed003)
    plan = kube_router_plan.node_plan(fabric, "k8s-2")
    assert plan == {
        "cluster": "k8s", "applied": False,
        "cni": {"dir": "/etc/cni/net.d", "backup_dir": "/var/lib/nodenet-fabric/cni-replaced",
                "file": "10-kuberouter.conflist", "content": conflist_text("10.244.1.0/24", 1500),
                "replaced": ["10-flannel.conflist", "10-flannel.conf"]},
        "replace_kube_proxy": True, "cleanup": {"service_cidrs": [], "nodeport_range": ""},
        "verify": {"sessions": [{"ip": "172.26.6.1", "asn": 64512, "kind": "node", "node": "k8s-1"},
                                {"ip": "172.26.6.3", "asn": 64512, "kind": "node", "node": "k8s-3"}],
                   "routes": [{"dst": "10.244.0.0/24", "via": "172.26.6.1", "node": "k8s-1"},
                              {"dst": "10.244.2.0/24", "via": "172.26.6.3", "node": "k8s-3"}],
                   "router": True, "families": [4]}}


def test_without_the_router_there_is_nothing_to_verify_and_a_kubeconfig_means_applied(seed003):
    fabric = valid(seed003, every_node(kube_router_run_router=False, cluster_kubeconfig="/etc/k8s/admin.conf"))
    plan = kube_router_plan.node_plan(fabric, "k8s-1")
    assert plan["verify"] == {"sessions": [], "routes": [], "router": False, "families": [4]}
    assert plan["applied"] is True
    assert kube_router_resources.manifests(fabric, "base")[0]["kubeconfig"] == "/etc/k8s/admin.conf"


# --- 6. the live preflight and the cluster orders ---------------------------------------------

LIVE_SERVICES = every_node(kube_router_services=[
    {"namespace": "default", "name": "nginx", "scheduler": "dh"},
    {"namespace": "default", "name": "web", "dsr": "tunnel"},
    {"namespace": "default", "name": "api", "dsr": "tunnel"}])


def node_obj(name, pod_cidr=None):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "spec": {"podCIDR": pod_cidr} if pod_cidr else {}}


def service_obj(name, *ports):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"ports": [dict(p, protocol="TCP") for p in ports]}}


def kubeadm_obj(version, **extra):
    config = dict({"apiVersion": version, "kind": "ClusterConfiguration", "kubernetesVersion": "v1.33.0",
                   "networking": {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.254.0.0/16"}}, **extra)
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kubeadm-config", "namespace": "kube-system", "uid": "u-1",
                         "resourceVersion": "99"},
            "data": {"ClusterConfiguration": yaml.safe_dump(config), "ClusterStatus": "x: 1\n"}}


GOOD_NODES = [node_obj("k8s-1", "10.244.0.0/24"), node_obj("k8s-2", "10.244.1.0/24"), node_obj("k8s-3", "10.244.2.0/24")]
GOOD_SERVICES = [service_obj("nginx", {"port": 80, "targetPort": 8080}), service_obj("web", {"port": 443, "targetPort": 443}),
                 service_obj("api", {"port": 80})]


def check_of(fabric):
    (step,) = kube_router_live.cluster_checks(fabric, "present", {})
    return step


def problems(fabric, nodes, services, kubeadm, **daemonsets):
    step = check_of(fabric)
    found = dict({"nodes": nodes, "services": services, "kubeadm": kubeadm}, **daemonsets)
    for name in step["read"]:  # every replaced DaemonSet runs unless given
        found.setdefault(name, KUBE_PROXY if name.startswith("ds:") and not daemonsets else None)
    return kube_router_live.live_problems(step, found)


def test_a_cluster_as_the_inventory_says_has_no_live_problem(seed003):
    fabric = valid(seed003, LIVE_SERVICES)
    # nginx remaps 80 -> 8080 but has no DSR; api gives no targetPort (the same port).
    assert problems(fabric, GOOD_NODES, GOOD_SERVICES, kubeadm_obj("kubeadm.k8s.io/v1beta4")) == []


def test_the_check_reads_nodes_services_kubeadm_and_each_replaced_daemonset_with_its_copy(seed003):
    fabric = valid(seed003, every_node(kube_router_replaced_daemonsets=[
        {"namespace": "kube-flannel", "name": "kube-flannel-ds"}], cluster_kubeconfig="/etc/k8s/admin.conf"))
    step = check_of(fabric)
    assert (step["cluster"], step["kubeconfig"], step["api"], step["action"]) == ("k8s", "/etc/k8s/admin.conf", True, "check")
    assert sorted(step["read"]) == ["copy:kube-flannel/kube-flannel-ds", "copy:kube-system/kube-proxy", "ds:kube-flannel/kube-flannel-ds",
                                    "ds:kube-system/kube-proxy", "kubeadm", "nodes", "services"]
    assert step["read"]["copy:kube-flannel/kube-flannel-ds"]["name"] == "kube-flannel-ds-replaced-by-kube-router"


def test_each_live_problem_is_one_line_naming_cluster_and_node_or_variable(seed003):
    fabric = valid(seed003, LIVE_SERVICES)
    nodes = [node_obj("k8s-1"), node_obj("k8s-2", "10.244.9.0/24")]
    services = [service_obj("nginx", {"port": 80, "targetPort": 8080}), service_obj("web", {"port": 80, "targetPort": 8080})]
    assert problems(fabric, nodes, services, kubeadm_obj("kubeadm.k8s.io/v1beta3")) == [
        "cluster k8s: no Node named k8s-3 in its API",  # cluster/checks.missing's words, as every role's
        "cluster k8s, node k8s-1: the Node has no spec.podCIDR, and kube-router exits without one; start "
        "kube-controller-manager with --allocate-node-cidrs --cluster-cidr=10.244.0.0/16",
        "cluster k8s, node k8s-2, node_pod_cidrs: 10.244.1.0/24 differs from the Node's spec.podCIDR 10.244.9.0/24 "
        "(allocated by kube-controller-manager), which kube-router routes; set node_pod_cidrs to [10.244.9.0/24]",
        "cluster k8s, kube_router_services[1].dsr: Service default/web maps port 80 to targetPort 8080; "
        "kube-router's DSR cannot remap ports, so give it port == targetPort or drop dsr",
        "cluster k8s: no Service named api in its API",
        "cluster k8s: kube-system/kubeadm-config holds a kubeadm.k8s.io/v1beta3 ClusterConfiguration, which cannot "
        "disable kube-proxy, so `kubeadm upgrade` would bring it back; migrate it first (kubeadm config migrate, "
        "to kubeadm.k8s.io/v1beta4)"]
    named = [service_obj("api", {"port": 80, "targetPort": "http"})]
    assert problems(fabric, GOOD_NODES, GOOD_SERVICES[:2] + named, None) == [
        "cluster k8s, kube_router_services[2].dsr: Service default/api names its targetPort 'http'; DSR needs "
        "port == targetPort, which a name cannot show: give the number 80"]


def test_kubeadm_is_not_checked_when_kube_proxy_stays(seed003):
    fabric = valid(seed003, every_node(kube_router_replace_kube_proxy=False, kube_router_run_service_proxy=False))
    assert problems(fabric, GOOD_NODES, GOOD_SERVICES, kubeadm_obj("kubeadm.k8s.io/v1beta3")) == []
    assert len(problems(valid(seed003), GOOD_NODES, GOOD_SERVICES, kubeadm_obj("kubeadm.k8s.io/v1beta3"))) == 1
    assert problems(valid(seed003), GOOD_NODES, GOOD_SERVICES, None) == []  # no kubeadm: nothing of it to keep right


KUBE_PROXY = {
    "apiVersion": "apps/v1", "kind": "DaemonSet",
    "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"},
                 "annotations": {"deprecated.daemonset.template.generation": "1"},
                 "uid": "8d1c", "resourceVersion": "412", "generation": 1,
                 "creationTimestamp": "2025-01-01T00:00:00Z", "managedFields": [{"manager": "kubeadm"}]},
    "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
             "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}}, "spec": {"containers": [
                 {"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.33.0",
                  "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"]}]}}},
    "status": {"numberReady": 3}}


def flannel_ds(**meta):
    ds = json.loads(json.dumps(KUBE_PROXY))
    ds["metadata"].update(name="kube-flannel-ds", namespace="kube-flannel", **meta)
    return ds


def test_the_replaced_daemonsets_are_kube_proxys_then_the_cnis_named(seed003):
    fabric = read(seed003, every_node(kube_router_replaced_daemonsets=[
        {"namespace": "kube-flannel", "name": "kube-flannel-ds"}]))
    items = kube_router_live.replaced_daemonsets(fabric, "kube-proxy-kept")
    assert [(i["namespace"], i["name"], i["backup"]) for i in items] == [
        ("kube-system", "kube-proxy", "kube-proxy-kept"),
        ("kube-flannel", "kube-flannel-ds", "kube-flannel-ds-replaced-by-kube-router")]
    fabric = read(seed003, every_node(kube_router_replace_kube_proxy=False, kube_router_run_service_proxy=False,
                                      kube_router_replaced_daemonsets=[]))
    assert kube_router_live.replaced_daemonsets(fabric, "kube-proxy-kept") == []


def test_a_replaced_cni_daemonset_that_neither_runs_nor_was_kept_is_a_problem(seed003):
    fabric = valid(seed003, every_node(kube_router_replaced_daemonsets=[
        {"namespace": "kube-flannel", "name": "kube-flannel-ds"}]))
    missing = ["cluster k8s, kube_router_replaced_daemonsets: DaemonSet kube-flannel/kube-flannel-ds is not in the cluster "
               "and no copy of it is kept (ConfigMap kube-flannel/kube-flannel-ds-replaced-by-kube-router); name the "
               "replaced CNI's DaemonSet as it runs"]
    # kube-proxy may be missing: nothing to replace then
    assert problems(fabric, GOOD_NODES, GOOD_SERVICES, None, none=None) == missing
    assert problems(fabric, GOOD_NODES, GOOD_SERVICES, None, **{"ds:kube-flannel/kube-flannel-ds": flannel_ds()}) == []
    assert problems(fabric, GOOD_NODES, GOOD_SERVICES, None, **{"copy:kube-flannel/kube-flannel-ds": {"data": {}}}) == []
    going = flannel_ds(deletionTimestamp="2026-11-26T10:00:00Z")
    assert problems(fabric, GOOD_NODES, GOOD_SERVICES, None, **{"ds:kube-flannel/kube-flannel-ds": going}) == missing


def test_the_copies_are_valid_objects_kube_proxy_comes_back_from(seed003):
    from fake_cluster import FakeApi
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster import engine
    fabric = valid(seed003, every_node(cluster_kubeconfig="/etc/k8s/admin.conf"))
    keep = [s for s in kube_router_live.cluster_steps(fabric, "present") if s["action"] == "keep"]
    fake = FakeApi([KUBE_PROXY])
    assert not engine.run_steps(keep, api=lambda *_: fake).failures
    kept = fake.objects[("ConfigMap", "kube-system", "kube-proxy-replaced-by-kube-router")]
    assert kept["metadata"]["labels"] == LABELS
    copy_ = yaml.safe_load(kept["data"]["daemonset.yaml"])
    assert kubernetes_validate.validate(dict(kept, metadata=dict(kept["metadata"], managedFields=[])), K8S, strict=True)
    assert kubernetes_validate.validate(copy_, K8S, strict=True) == "1.37"
    assert copy_["metadata"] == {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"},
                                 "annotations": {"deprecated.daemonset.template.generation": "1"}}


def names(order):
    return [s["name"] if s["action"] == "gate" else "%s: %s" % (s["action"], s["name"]) for s in order
            if s.get("cluster") in (None, "k8s")]


def test_the_install_order_keeps_services_and_pods_served(seed003):
    fabric = valid(seed003, every_node(kube_router_replaced_daemonsets=[
        {"namespace": "kube-flannel", "name": "kube-flannel-ds"}], cluster_kubeconfig="/etc/k8s/admin.conf"))
    order = kube_router_live.cluster_steps(fabric, "present", {"k8s-pw": "x"}, {})
    assert names(order) == [
        "apply: kube-router's objects", "apply: Nodes annotated", "apply: Services annotated",
        "release: Services no longer named", "apply: kube-router's DaemonSet", "wait: kube-router ready", "peered",
        "keep: replaced DaemonSets kept", "keep: replaced DaemonSets kept",
        "delete: replaced DaemonSets deleted", "delete: replaced DaemonSets deleted",
        "edit: kubeadm leaves out kube-proxy", "replaced"]
    edit = [s for s in order if s["action"] == "edit"][0]
    assert (edit["key"], edit["path"], edit["value"], edit["force"]) == ("ClusterConfiguration", "proxy.disabled", True, True)
    deletes = [s for s in order if s["action"] == "delete"]
    assert [(d["objects"][0]["metadata"]["name"], d["propagation"], d["wait"]) for d in deletes] == [
        ("kube-proxy", "Foreground", True), ("kube-flannel-ds", "Foreground", True)]
    release = [s for s in order if s["action"] == "release"][0]
    assert release["prefix"] == "kube-router.io/" and release["kind"] == "Service"
    kept = valid(seed003, every_node(kube_router_replace_kube_proxy=False, kube_router_run_service_proxy=False,
                                     kube_router_replaced_daemonsets=[]))
    assert not [s for s in kube_router_live.cluster_steps(kept, "present") if s["action"] in ("edit", "keep", "delete")]


def test_the_rollback_order_brings_kube_proxy_back_before_kube_router_goes_and_the_cni_after(seed003):
    fabric = valid(seed003, every_node(kube_router_replaced_daemonsets=[
        {"namespace": "kube-flannel", "name": "kube-flannel-ds"}], cluster_kubeconfig="/etc/k8s/admin.conf"))
    assert names(kube_router_live.cluster_steps(fabric, "absent", {"k8s-pw": "x"}, {})) == [
        "restore: kube-proxy restored", "wait: kube-proxy ready", "edit: kubeadm manages kube-proxy", "proxy_back",
        "delete: kube-router's DaemonSet deleted", "delete: kube-router's objects deleted", "router_gone",
        "restore: cni restored", "wait: cni ready", "delete: copies deleted", "delete: copies deleted",
        "apply: Nodes released", "apply: Services released"]
    for step in kube_router_live.cluster_steps(fabric, "absent"):
        if step["name"] in ("Nodes released", "Services released"):
            assert all(set(o["metadata"]) <= {"name", "namespace"} for o in step["objects"])


# --- the CNI directory (real files) ------------------------------------------------------------

OURS = "10-kuberouter.conflist"
FLANNEL = ["10-flannel.conflist", "10-flannel.conf"]
CONTENT = conflist_text("10.244.0.0/24", 1500)


@pytest.fixture()
def dirs(tmp_path):
    conf, backup = tmp_path / "net.d", tmp_path / "backup"
    conf.mkdir()
    (conf / "10-flannel.conflist").write_text('{"name":"cbr0"}')
    (conf / "99-loopback.conf").write_text("{}")
    return str(conf), str(backup)


def listing(folder):
    return dict((n, open(os.path.join(folder, n)).read()) for n in sorted(os.listdir(folder))) \
        if os.path.isdir(folder) else None


def plan(dirs, state="present", set_aside=True, content=CONTENT):
    return cni_files.plan(dirs[0], dirs[1], OURS, content, FLANNEL, state, set_aside)


def test_present_writes_ours_and_sets_the_replaced_files_aside(dirs):
    conf, backup = dirs
    steps = plan(dirs)
    assert steps == [("write", None, os.path.join(conf, OURS)),
                     ("set aside", os.path.join(conf, "10-flannel.conflist"),
                      os.path.join(backup, "10-flannel.conflist"))]
    cni_files.apply(steps, CONTENT, False)
    assert listing(conf) == {OURS: CONTENT, "99-loopback.conf": "{}"}
    assert listing(backup) == {"10-flannel.conflist": '{"name":"cbr0"}'}
    assert os.stat(os.path.join(conf, OURS)).st_mode & 0o777 == 0o644
    assert os.stat(backup).st_mode & 0o777 == 0o700
    assert plan(dirs) == []  # idempotent


def test_without_set_aside_only_ours_is_written(dirs):
    conf, backup = dirs
    steps = plan(dirs, set_aside=False)
    assert steps == [("write", None, os.path.join(conf, OURS))]
    cni_files.apply(steps, CONTENT, False)
    assert sorted(os.listdir(conf)) == ["10-flannel.conflist", OURS, "99-loopback.conf"]
    assert not os.path.exists(backup)
    assert plan(dirs, set_aside=False) == []
    assert plan(dirs, content=CONTENT + " ") == [("write", None, os.path.join(conf, OURS)),
                                                 ("set aside", os.path.join(conf, "10-flannel.conflist"),
                                                  os.path.join(backup, "10-flannel.conflist"))]


def test_absent_restores_the_replaced_files_and_removes_ours(dirs):
    conf, backup = dirs
    before = listing(conf)
    cni_files.apply(plan(dirs), CONTENT, False)
    steps = plan(dirs, state="absent")
    assert steps == [("restore", os.path.join(backup, "10-flannel.conflist"),
                      os.path.join(conf, "10-flannel.conflist")),
                     ("remove", os.path.join(conf, OURS), None)]
    cni_files.apply(steps, CONTENT, False)
    assert listing(conf) == before
    assert listing(backup) == {}
    assert plan(dirs, state="absent") == []


def test_a_conflicting_backup_raises_and_changes_nothing(dirs):
    conf, backup = dirs
    os.makedirs(backup)
    with open(os.path.join(backup, "10-flannel.conflist"), "w") as handle:
        handle.write('{"name":"older"}')
    before = (listing(conf), listing(backup))
    with pytest.raises(cni_files.Conflict) as caught:
        plan(dirs)
    assert str(caught.value) == "%s differs from the copy already kept in %s; move one of them away" % (
        os.path.join(conf, "10-flannel.conflist"), os.path.join(backup, "10-flannel.conflist"))
    assert (listing(conf), listing(backup)) == before


def test_a_same_bytes_backup_is_no_conflict(dirs):
    conf, backup = dirs
    os.makedirs(backup)
    with open(os.path.join(backup, "10-flannel.conflist"), "w") as handle:
        handle.write('{"name":"cbr0"}')
    cni_files.apply(plan(dirs), CONTENT, False)
    assert listing(conf) == {OURS: CONTENT, "99-loopback.conf": "{}"}
    assert listing(backup) == {"10-flannel.conflist": '{"name":"cbr0"}'}


def test_a_restore_over_other_bytes_raises_and_changes_nothing(dirs):
    conf, backup = dirs
    cni_files.apply(plan(dirs), CONTENT, False)
    with open(os.path.join(conf, "10-flannel.conflist"), "w") as handle:
        handle.write('{"name":"reinstalled"}')
    before = (listing(conf), listing(backup))
    with pytest.raises(cni_files.Conflict):
        plan(dirs, state="absent")
    assert (listing(conf), listing(backup)) == before


@pytest.mark.parametrize("state", ["present", "absent"])
def test_check_mode_changes_nothing_and_after_names_predicts_the_result(dirs, state):
    conf, backup = dirs
    if state == "absent":
        cni_files.apply(plan(dirs), CONTENT, False)
    before = (listing(conf), listing(backup))
    steps = plan(dirs, state=state)
    assert steps
    predicted = cni_files.after_names(conf, steps)
    cni_files.apply(steps, CONTENT, True)
    assert (listing(conf), listing(backup)) == before
    cni_files.apply(steps, CONTENT, False)
    assert predicted == cni_files.names(conf)
    assert predicted == ({OURS, "99-loopback.conf"} if state == "present"
                         else {"10-flannel.conflist", "99-loopback.conf"})


def test_after_names_predicts_the_result_for_a_dir_with_a_trailing_slash(dirs):
    conf = dirs[0] + "/"
    steps = cni_files.plan(conf, dirs[1], OURS, CONTENT, FLANNEL, "present", True)
    predicted = cni_files.after_names(conf, steps)
    cni_files.apply(steps, CONTENT, False)
    assert predicted == cni_files.names(conf) == {OURS, "99-loopback.conf"}


def test_names_and_view(dirs, tmp_path):
    conf = dirs[0]
    assert cni_files.names(str(tmp_path / "nowhere")) == set()
    assert cni_files.view(conf, OURS, cni_files.names(conf), None) == "10-flannel.conflist\n99-loopback.conf\n"
    assert cni_files.view(conf, OURS, {OURS}, "{}") == "%s\n--- %s ---\n{}\n" % (OURS, OURS)


# --- gobgp --------------------------------------------------------------------------------------

NEIGHBORS = [
    {"conf": {"neighbor_address": "172.26.6.2", "local_asn": 64512},
     "state": {"neighbor_address": "172.26.6.2", "peer_asn": 64512, "session_state": 6}},
    {"conf": {"neighbor_address": "172.26.6.3", "local_asn": 64512},
     "state": {"neighbor_address": "172.26.6.3", "peer_asn": 64512, "session_state": 3}},
    {"conf": {"neighbor_address": "172.26.6.254", "peer_asn": 65001}, "state": {"session_state": 1}},
    {"conf": {"neighbor_address": "172.26.6.9"}, "state": {"neighbor_address": "172.26.6.9", "peer_asn": 65000,
                                                           "session_state": 6}},
]


def test_parse_neighbors_reads_gobgps_json():
    assert gobgp.parse_neighbors(NEIGHBORS) == [
        {"ip": "172.26.6.2", "asn": 64512, "state": "established"},
        {"ip": "172.26.6.3", "asn": 64512, "state": "active"},
        {"ip": "172.26.6.254", "asn": 65001, "state": "idle"},
        {"ip": "172.26.6.9", "asn": 65000, "state": "established"}]
    assert gobgp.parse_neighbors([{"conf": {"neighbor_address": "10.0.0.1"}, "state": {"session_state": 9}}]) == [
        {"ip": "10.0.0.1", "asn": None, "state": "9"}]
    assert gobgp.parse_neighbors([{"conf": {"neighbor_address": "10.0.0.1"}}])[0]["state"] == "unknown"
    assert gobgp.parse_neighbors(None) == []


def test_compare_names_missing_down_and_unexpected_peers():
    expected = [{"ip": "172.26.6.2", "asn": 64512, "kind": "node", "node": "k8s-2"},
                {"ip": "172.26.6.3", "asn": 64512, "kind": "node", "node": "k8s-3"},
                {"ip": "172.26.6.254", "asn": 65001, "kind": "peer router", "node": ""},
                {"ip": "172.26.6.253", "asn": 65002, "kind": "peer router", "node": ""}]
    result = gobgp.compare(expected, gobgp.parse_neighbors(NEIGHBORS))
    assert result["missing"] == ["172.26.6.253"]
    assert result["down"] == ["172.26.6.3 (active, AS 64512)", "172.26.6.254 (idle, AS 65001)"]
    assert result["unexpected"] == ["172.26.6.9"]
    assert [(r["ip"], r["state"], r["asn_seen"], r["ok"]) for r in result["table"]] == [
        ("172.26.6.2", "established", 64512, True), ("172.26.6.3", "active", 64512, False),
        ("172.26.6.254", "idle", 65001, False), ("172.26.6.253", "missing", None, False)]
    assert result["table"][0] == dict(expected[0], state="established", asn_seen=64512, ok=True)
    assert gobgp.compare(expected, gobgp.parse_neighbors(NEIGHBORS), exact=False)["unexpected"] == []


def test_an_established_session_with_another_asn_is_down():
    sessions = [{"ip": "172.26.6.2", "asn": 65000, "state": "established"}]
    result = gobgp.compare([{"ip": "172.26.6.2", "asn": 64512}], sessions)
    assert result == {"table": [{"ip": "172.26.6.2", "asn": 64512, "state": "established", "asn_seen": 65000,
                                 "ok": False}],
                      "missing": [], "down": ["172.26.6.2 (established, AS 65000)"], "unexpected": []}


def test_the_seeds_expected_peers_against_a_healthy_gobgp(seed003):
    fabric = valid(seed003)
    sessions = gobgp.parse_neighbors(NEIGHBORS[:1] + [
        {"conf": {}, "state": {"neighbor_address": "172.26.6.3", "peer_asn": 64512, "session_state": 6}}])
    result = gobgp.compare(kube_router_plan.expected_peers(fabric, "k8s-1"), sessions)
    assert (result["missing"], result["down"], result["unexpected"]) == ([], [], [])
    assert all(row["ok"] for row in result["table"])


def test_missing_routes_as_ip_route_prints_them(seed003):
    fabric = valid(seed003, both(k8s_3_on_another_subnet, every_node(kube_router_overlay=True)))
    wanted = kube_router_plan.expected_routes(fabric, "k8s-1")
    assert gobgp.KUBE_ROUTER_PROTOCOL == 17
    good = [{"dst": "10.244.1.0/24", "gateway": "172.26.6.2", "dev": "eth0", "protocol": "17"},
            {"dst": "10.244.2.0/24", "dev": "tun-1722673", "protocol": "17"}]
    assert gobgp.missing_routes(wanted, good) == []
    assert gobgp.missing_routes(wanted, [{"dst": "10.244.1.0/24", "gateway": "172.26.6.9"}]) == [
        "10.244.1.0/24 via 172.26.6.2", "10.244.2.0/24 via any gateway"]
    multipath = [{"dst": "10.244.1.0/24", "nexthops": [{"gateway": "172.26.6.9"}, {"gateway": "172.26.6.2"}]},
                 {"dst": "10.244.2.0/24", "gateway": "172.26.6.1"}]
    assert gobgp.missing_routes(wanted, multipath) == []


def test_the_daemonset_rolls_out_again_when_what_kube_router_reads_at_start_changes(seed003):
    def digest(fabric):
        ds = kube_router_resources.manifests(fabric, "daemonset")[0]["manifests"][0]
        return ds["spec"]["template"]["metadata"]["annotations"][kube_router_resources.CONFIG_ANNOTATION]

    def one_rr(hostvars, groups):
        every_node(kube_router_rr_cluster_id="42", kube_router_accept_single_rr=True)(hostvars, groups)
        hostvars["k8s-1"]["kube_router_route_reflector"] = True

    seed = digest(valid(seed003))
    assert digest(valid(seed003)) == seed
    assert digest(valid(seed003, one_rr)) != seed
    assert digest(valid(seed003, NO_MESH)) != seed
    assert digest(valid(seed003, every_node(kube_router_apiserver="https://10.0.0.9:6443"))) != seed
    assert digest(valid(seed003, every_node(kube_router_hairpin_mode=True))) == seed  # an arg: the template changes anyway


def test_while_kube_router_serves_services_only_kube_ipvs0_services_are_kube_proxys(seed003):
    """kube-router's own IPVS services share the service CIDR and the NodePorts."""
    assert kube_router_plan.node_plan(valid(seed003), "k8s-1")["cleanup"] == {"service_cidrs": [], "nodeport_range": ""}
    lab = valid(seed003, every_node(kube_router_run_service_proxy=False, kube_router_accept_no_service_proxy=True))
    assert kube_router_plan.node_plan(lab, "k8s-1")["cleanup"] == {"service_cidrs": ["10.254.0.0/16"],
                                                                   "nodeport_range": "30000-32767"}


def test_other_cni_configs_that_the_kubelet_would_keep_choosing_are_refused(dirs):
    conf, backup = dirs
    with open(os.path.join(conf, "05-cilium.conflist"), "w") as handle:
        handle.write("{}")
    with pytest.raises(cni_files.Conflict, match="05-cilium.conflist sort before 10-kuberouter.conflist"):
        cni_files.plan(conf, backup, OURS, CONTENT, FLANNEL, "present", True)
    assert cni_files.plan(conf, backup, OURS, CONTENT, FLANNEL, "present", False)  # writing ours alone is fine
