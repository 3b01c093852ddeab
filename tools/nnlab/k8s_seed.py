# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a real cluster of the inventory's CNI already has, seeded into a lab control plane: a
Node per inventory node, the Calico CRDs and a default IPPool (calico, canal), flannel's ConfigMap
and DaemonSet (flannel, canal), and kube-proxy's DaemonSet and ConfigMap (every CNI but
kube-router). Objects are made by the lab's own field manager, never the collection's."""

import glob
import json
import os
import time

import yaml

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")
CALICO_CRDS = os.path.join(SHARED, "schemas", "calico")
MANAGER = "nodenet-lab"
FLANNEL_IMAGE = "docker.io/flannel/flannel:v0.26.7"
CALICO_IMAGE = "docker.io/calico/node:v3.29.3"
KUBE_PROXY_IMAGE = "registry.k8s.io/kube-proxy:v1.36.3"


def client(kubeconfig):
    from kubernetes import config
    return config.new_client_from_config(config_file=kubeconfig)


def apply(api, manifest):
    """Server-side apply as the lab (its own field manager)."""
    from kubernetes.dynamic import DynamicClient
    dynamic = DynamicClient(api)
    resource = dynamic.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    meta = manifest["metadata"]
    return resource.server_side_apply(body=manifest, name=meta["name"], namespace=meta.get("namespace"),
                                      field_manager=MANAGER, force_conflicts=True)


def wait_for(check, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception as exc:  # the API server is still settling (discovery, CRDs)
            last = exc
        else:
            last = None
        if time.monotonic() > deadline:
            raise RuntimeError("lab: %s not ready after %d s (%s)" % (what, timeout, last))
        time.sleep(0.5)


def node_object(node):
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": node.host, "labels": {
            "kubernetes.io/hostname": node.host, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}},
        # Kubernetes allows one pod CIDR per IP family; a Calico node's further blocks live in
        # Calico's IPAM, not on the Node.
        "spec": {"podCIDR": node.pod_cidrs[0], "podCIDRs": [node.pod_cidrs[0]]},
    }


def netconf(cluster):
    return json.dumps({"Network": cluster.pod_cidr, "Backend": {"Type": "vxlan"}}, indent=2)


def flannel_objects(cluster, namespace):
    """kube-flannel-cfg (flannel) or canal-config (canal) with net-conf.json and the keys a real
    install has beside it, and the DaemonSet whose flanneld reads it."""
    cni_conf = json.dumps({"name": "cbr0", "cniVersion": "0.3.1", "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}, indent=2)
    if cluster.cni == "canal":
        config = {"name": "canal-config", "namespace": "kube-system",
                  "data": {"typha_service_name": "none", "calico_backend": "none", "veth_mtu": "0",
                           "canal_iface": "", "masquerade": "true", "cni_network_config": cni_conf,
                           "net-conf.json": netconf(cluster)}}
        daemonset, image, ns = "canal", CALICO_IMAGE, "kube-system"
    else:
        config = {"name": "kube-flannel-cfg", "namespace": namespace,
                  "data": {"cni-conf.json": cni_conf, "net-conf.json": netconf(cluster)}}
        daemonset, image, ns = "kube-flannel-ds", FLANNEL_IMAGE, namespace
    labels = {"app": "flannel", "k8s-app": daemonset}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": config["name"], "namespace": config["namespace"], "labels": {"app": "flannel"}},
         "data": config["data"]},
        daemonset_object(daemonset, ns, labels, image, ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"]),
    ]


def daemonset_object(name, namespace, labels, image, command):
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"hostNetwork": True, "containers": [{"name": name, "image": image, "command": command}]}}},
    }


def kube_proxy_objects(cluster):
    config = {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
              "mode": "iptables", "clusterCIDR": cluster.pod_cidr}
    labels = {"k8s-app": "kube-proxy"}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-proxy", "namespace": "kube-system",
                                                             "labels": {"app": "kube-proxy"}},
         "data": {"config.conf": yaml.safe_dump(config)}},
        daemonset_object("kube-proxy", "kube-system", labels, KUBE_PROXY_IMAGE,
                         ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"]),
    ]


def default_ippool(cluster):
    return {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
            "metadata": {"name": "default-ipv4-ippool"},
            "spec": {"cidr": cluster.pod_cidr, "natOutgoing": True, "blockSize": 26,
                     "ipipMode": "Always" if cluster.cni == "calico" else "Never", "vxlanMode": "Never",
                     "nodeSelector": "all()"}}


def block_affinities(nodes):
    """Calico IPAM's blocks, one per node pod CIDR, affine to their node (what the BIRD of the
    calico-node stand-in announces)."""
    return [{"apiVersion": "crd.projectcalico.org/v1", "kind": "BlockAffinity",
             "metadata": {"name": "%s-%s" % (node.host, cidr.replace(".", "-").replace("/", "-"))},
             "spec": {"state": "confirmed", "node": node.host, "cidr": cidr, "deleted": "false"}}
            for node in nodes for cidr in node.pod_cidrs]


def calico_node_objects():
    """calico-config and the calico-node DaemonSet with the env a calico.yaml install has."""
    labels = {"k8s-app": "calico-node"}
    daemonset = daemonset_object("calico-node", "kube-system", labels, CALICO_IMAGE, ["start_runit"])
    daemonset["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "DATASTORE_TYPE", "value": "kubernetes"}, {"name": "CLUSTER_TYPE", "value": "k8s,bgp"},
        {"name": "CALICO_IPV4POOL_IPIP", "value": "Always"}, {"name": "CALICO_IPV4POOL_VXLAN", "value": "Never"},
        {"name": "FELIX_IPINIPENABLED", "value": "true"}]
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calico-config", "namespace": "kube-system"},
             "data": {"calico_backend": "bird", "veth_mtu": "0", "typha_service_name": "none"}}, daemonset]


def calico_crds():
    docs = []
    for path in sorted(glob.glob(os.path.join(CALICO_CRDS, "*.yaml"))):
        with open(path) as handle:
            docs += [d for d in yaml.safe_load_all(handle) if d]
    return docs


def seed(kubeconfig, cluster, nodes, flannel_namespace="kube-flannel"):
    """Seed one cluster's API with what a real cluster of its CNI already has."""
    from kubernetes import client as k8s
    api = client(kubeconfig)
    core = k8s.CoreV1Api(api)
    wait_for(lambda: core.read_namespace("kube-system"), "%s: namespace kube-system" % cluster.name)
    for node in nodes:
        apply(api, node_object(node))
        core.patch_node_status(node.host, {"status": {
            "addresses": [{"type": "InternalIP", "address": node.ip}, {"type": "Hostname", "address": node.host}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "nodenet lab stand-in"}]}})
    objects = []
    if cluster.cni in ("calico", "canal"):
        crds = calico_crds()
        for crd in crds:
            apply(api, crd)
        ext = k8s.ApiextensionsV1Api(api)
        for crd in crds:
            wait_for(lambda name=crd["metadata"]["name"]: any(
                c.type == "Established" and c.status == "True"
                for c in ext.read_custom_resource_definition(name).status.conditions or []),
                "%s: CRD %s" % (cluster.name, crd["metadata"]["name"]))
        objects.append(default_ippool(cluster))
        if cluster.cni == "calico":
            objects += block_affinities(nodes) + calico_node_objects()
    if cluster.cni in ("flannel", "canal"):
        if cluster.cni == "flannel":
            apply(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": flannel_namespace}})
        objects += flannel_objects(cluster, flannel_namespace)
    if cluster.cni != "kube-router":
        objects += kube_proxy_objects(cluster)
    for manifest in objects:
        wait_for(lambda m=manifest: apply(api, m) is not None, "%s: %s %s" % (
            cluster.name, manifest["kind"], manifest["metadata"]["name"]), timeout=30)
