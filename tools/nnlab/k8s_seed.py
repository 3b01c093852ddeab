# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a real cluster of the inventory's CNI already has, seeded into a lab control plane: a
Node per inventory node, the Calico CRDs and a default IPPool (calico, canal), flannel's ConfigMap
and DaemonSet (flannel, canal), kube-proxy as kubeadm installs it (every cluster), and for a
kube-router cluster kubeadm-config and a few Services with EndpointSlices. Objects are made by the lab's own field manager, never the collection's."""

import json
import time

import yaml

from ansible_collections.nodenet.fabric.plugins.plugin_utils.addresses import families, of_family

MANAGER = "nodenet-lab"
FLANNEL_IMAGE = "ghcr.io/flannel-io/flannel:v0.28.10"
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
        # A registered kubelet always leaves annotations (flanneld's lease code assumes some).
        "metadata": {"name": node.host, "annotations": {
            "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
            "labels": {
            "kubernetes.io/hostname": node.host, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}},
        # Kubernetes allows one pod CIDR per IP family; a Calico node's further blocks live in
        # Calico's IPAM, not on the Node.
        "spec": {"podCIDR": node.pod_cidrs[0],
                 "podCIDRs": [of_family(node.pod_cidrs, v) for v in families(node.pod_cidrs)]},
    }


def netconf(cluster, vni=1):
    """flannel's net-conf.json: IPv4 by default; a dual-stack cluster enables IPv6 beside it, an
    IPv6-only one disables IPv4 (flanneld then makes flannel-v6.N)."""
    backend = {"Type": "vxlan"}
    if vni != 1:
        backend["VNI"] = vni
    conf = {"Network": cluster.pod_cidr_of(4)} if cluster.pod_cidr_of(4) else {"EnableIPv4": False}
    if cluster.pod_cidr_of(6):
        conf.update(EnableIPv6=True, IPv6Network=cluster.pod_cidr_of(6))
    conf["Backend"] = backend
    return json.dumps(conf, indent=2)


def flannel_container(env):
    """flanneld's container as kube-flannel.yml (v0.28) and canal.yaml have it."""
    return {"name": "kube-flannel", "image": FLANNEL_IMAGE, "command": ["/opt/bin/flanneld"],
            "args": ["--ip-masq", "--kube-subnet-mgr"],
            "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}] + env,
            "volumeMounts": [{"name": "run", "mountPath": "/run/flannel"},
                             {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"},
                             {"name": "xtables-lock", "mountPath": "/run/xtables.lock"}]}


def flannel_rbac(account, namespace):
    """flanneld's ServiceAccount and what its ClusterRole allows (kube-flannel.yml)."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": namespace}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "flannel"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                   {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
                   {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "flannel"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "flannel"},
         "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]},
    ]


def flannel_objects(cluster, namespace, cni=None, vni=1):
    """kube-flannel-cfg (flannel) or canal-config (canal) with net-conf.json and the keys a real
    install has beside it, flanneld's RBAC, and the DaemonSet that runs flanneld (kube-flannel-ds,
    or canal's kube-flannel container beside calico-node)."""
    cni_conf = json.dumps({"name": "cbr0", "cniVersion": "0.3.1", "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}, indent=2)
    volumes = [{"name": "run", "hostPath": {"path": "/run/flannel"}},
               {"name": "cni", "hostPath": {"path": "/etc/cni/net.d"}},
               {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}}]
    if (cni or cluster.cni) == "canal":
        config = {"name": "canal-config", "namespace": "kube-system",
                  "data": {"typha_service_name": "none", "calico_backend": "none", "veth_mtu": "0",
                           "canal_iface": "", "masquerade": "true", "cni_network_config": cni_conf,
                           "net-conf.json": netconf(cluster, vni)}}
        name, account, labels = "canal", "canal", {"k8s-app": "canal"}
        volumes.append({"name": "flannel-cfg", "configMap": {"name": "canal-config",
                                                              "items": [{"key": "net-conf.json", "path": "net-conf.json"}]}})
        env = [{"name": "FLANNELD_IFACE", "valueFrom": {"configMapKeyRef": {"name": "canal-config", "key": "canal_iface"}}},
               {"name": "FLANNELD_IP_MASQ", "valueFrom": {"configMapKeyRef": {"name": "canal-config", "key": "masquerade"}}}]
        containers = [{"name": "calico-node", "image": CALICO_IMAGE, "env": [
            {"name": "DATASTORE_TYPE", "value": "kubernetes"}, {"name": "CALICO_NETWORKING_BACKEND", "value": "none"},
            {"name": "CLUSTER_TYPE", "value": "k8s,canal"}]}, flannel_container(env)]
    else:
        config = {"name": "kube-flannel-cfg", "namespace": namespace,
                  "data": {"cni-conf.json": cni_conf, "net-conf.json": netconf(cluster, vni)}}
        name, account, labels = "kube-flannel-ds", "flannel", {"app": "flannel", "k8s-app": "flannel"}
        volumes.append({"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg"}})
        containers = [flannel_container([{"name": "EVENT_QUEUE_DEPTH", "value": "5000"},
                                         {"name": "CONT_WHEN_CACHE_NOT_READY", "value": "false"}])]
    daemonset = daemonset_object(name, config["namespace"], labels, containers)
    daemonset["spec"]["template"]["spec"].update(serviceAccountName=account, priorityClassName="system-node-critical",
                                                 volumes=volumes)
    return flannel_rbac(account, config["namespace"]) + [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": config["name"], "namespace": config["namespace"], "labels": {"app": "flannel"}},
         "data": config["data"]},
        daemonset,
    ]


def daemonset_object(name, namespace, labels, containers):
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"selector": {"matchLabels": labels},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"hostNetwork": True, "containers": containers}}},
    }


def kube_proxy_objects(cluster, server):
    """kube-proxy as kubeadm installs it: its ServiceAccount bound to system:node-proxier, the
    ConfigMap with config.conf and kubeconfig.conf (the pod's token, the API server), and the
    DaemonSet mounting them."""
    config = {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
              "mode": "iptables", "clusterCIDR": ",".join(cluster.pod_cidrs),
              "clientConnection": {"kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf"}}
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    kubeconfig = {"apiVersion": "v1", "kind": "Config",
                  "clusters": [{"name": "default", "cluster": {"server": server, "certificate-authority": sa + "/ca.crt"}}],
                  "users": [{"name": "default", "user": {"tokenFile": sa + "/token"}}],
                  "contexts": [{"name": "default", "context": {"cluster": "default", "namespace": "default",
                                                               "user": "default"}}],
                  "current-context": "default"}
    labels = {"k8s-app": "kube-proxy"}
    daemonset = daemonset_object("kube-proxy", "kube-system", labels, [
        {"name": "kube-proxy", "image": KUBE_PROXY_IMAGE,
         "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                     "--hostname-override=$(NODE_NAME)"]}])
    pod = daemonset["spec"]["template"]["spec"]
    pod.update(serviceAccountName="kube-proxy", priorityClassName="system-node-critical", volumes=[
        {"name": "kube-proxy", "configMap": {"name": "kube-proxy"}},
        {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
        {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}}])
    pod["containers"][0].update(securityContext={"privileged": True}, volumeMounts=[
        {"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
        {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
        {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True}], env=[
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}])
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "kubeadm:node-proxier"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node-proxier"},
         "subjects": [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-proxy", "namespace": "kube-system",
                                                             "labels": {"app": "kube-proxy"}},
         "data": {"config.conf": yaml.safe_dump(config), "kubeconfig.conf": yaml.safe_dump(kubeconfig)}},
        daemonset,
    ]


def kubeadm_config(cluster):
    """kubeadm's record of the cluster (kubeadm-config), which `kubeadm upgrade` reads to decide
    whether to bring the kube-proxy addon back."""
    config = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
              "kubernetesVersion": KUBE_PROXY_IMAGE.rsplit(":", 1)[1], "clusterName": cluster.name,
              "networking": {"podSubnet": ",".join(cluster.pod_cidrs),
                             "serviceSubnet": ",".join(cluster.service_cidrs),
                             "dnsDomain": "cluster.local"}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
            "data": {"ClusterConfiguration": yaml.safe_dump(config)}}


def lab_services(nodes):
    """A few Services with EndpointSlices on the pod stand-ins, so that kube-proxy makes real
    rules of every kind: ClusterIP, NodePort, session affinity; dual-stack (an EndpointSlice per
    family) where the pods have both families, so that kube-proxy makes ip6tables rules too."""
    from nnlab.topology import pod_ips
    by_family = {}
    for node in nodes:  # the first pod of each family on each node
        firsts = {}
        for ip in pod_ips(node):
            firsts.setdefault(6 if ":" in ip else 4, ip)
        for version, ip in firsts.items():
            by_family.setdefault(version, []).append(ip)
    specs = [("nginx", {"type": "ClusterIP", "ports": [{"name": "http", "port": 80, "targetPort": 80}]}),
             ("web-np", {"type": "NodePort", "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}),
             ("sticky", {"type": "ClusterIP", "sessionAffinity": "ClientIP",
                         "ports": [{"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"}]})]
    primary = 6 if ":" in pod_ips(nodes[0])[0] else 4
    objects = []
    for name, spec in specs:
        if len(by_family) > 1:
            spec = dict(spec, ipFamilyPolicy="RequireDualStack",
                        ipFamilies=["IPv%d" % v for v in sorted(by_family, key=lambda v: v != primary)])
        objects.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
                        "spec": spec})
        for version, pods in sorted(by_family.items()):
            objects.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                            "metadata": {"name": "%s-lab%s" % (name, "" if version == primary else "-ipv%d" % version),
                                         "namespace": "default", "labels": {"kubernetes.io/service-name": name}},
                            "addressType": "IPv%d" % version,
                            "ports": [{"name": p["name"], "port": p["targetPort"], "protocol": p.get("protocol", "TCP")}
                                      for p in spec["ports"]],
                            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in pods]})
    return objects


def default_ippools(cluster):
    """The pools calico-node makes at its first start, one per family (IPIP carries IPv4 only)."""
    pools = []
    for version, cidr in ((4, cluster.pod_cidr_of(4)), (6, cluster.pod_cidr_of(6))):
        if cidr:
            pools.append({"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
                          "metadata": {"name": "default-ipv%d-ippool" % version},
                          "spec": {"cidr": cidr, "natOutgoing": True, "blockSize": 26 if version == 4 else 122,
                                   "ipipMode": "Always" if cluster.cni == "calico" and version == 4 else "Never",
                                   "vxlanMode": "Never", "nodeSelector": "all()"}})
    return pools


def block_affinities(nodes):
    """Calico IPAM's blocks, one per node pod CIDR, affine to their node (what the BIRD of the
    calico-node stand-in announces)."""
    return [{"apiVersion": "crd.projectcalico.org/v1", "kind": "BlockAffinity",
             "metadata": {"name": "%s-%s" % (node.host, cidr.replace(".", "-").replace(":", "-").replace("/", "-"))},
             "spec": {"state": "confirmed", "node": node.host, "cidr": cidr, "deleted": "false"}}
            for node in nodes for cidr in node.pod_cidrs]


def calico_node_objects():
    """calico-config and the calico-node DaemonSet with the env a calico.yaml install has."""
    labels = {"k8s-app": "calico-node"}
    daemonset = daemonset_object("calico-node", "kube-system", labels, [
        {"name": "calico-node", "image": CALICO_IMAGE, "command": ["start_runit"]}])
    daemonset["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "DATASTORE_TYPE", "value": "kubernetes"}, {"name": "CLUSTER_TYPE", "value": "k8s,bgp"},
        {"name": "CALICO_IPV4POOL_IPIP", "value": "Always"}, {"name": "CALICO_IPV4POOL_VXLAN", "value": "Never"},
        {"name": "FELIX_IPINIPENABLED", "value": "true"}]
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calico-config", "namespace": "kube-system"},
             "data": {"calico_backend": "bird", "veth_mtu": "0", "typha_service_name": "none"}}, daemonset]


def calico_crds():
    """Calico's CRDs, from the pinned calico module (calico_module)."""
    from nnlab import calico_module
    docs = []
    for path in calico_module.crd_files():
        with open(path) as handle:
            docs += [d for d in yaml.safe_load_all(handle) if d]
    return docs


def server_of(kubeconfig):
    with open(kubeconfig) as handle:
        return json.load(handle)["clusters"][0]["cluster"]["server"]


def seed(kubeconfig, cluster, nodes, flannel_namespace="kube-flannel", replaced_cni=None, flannel_vni=1):
    """Seed one cluster's API with what a real cluster of its CNI already has (a kube-router
    cluster: what it has before kube-router replaces `replaced_cni`)."""
    from kubernetes import client as k8s
    api = client(kubeconfig)
    core = k8s.CoreV1Api(api)
    wait_for(lambda: core.read_namespace("kube-system"), "%s: namespace kube-system" % cluster.name)
    for node in nodes:
        apply(api, node_object(node))
        core.patch_node_status(node.host, {"status": {
            "addresses": [{"type": "InternalIP", "address": ip} for ip in node.ips]
            + [{"type": "Hostname", "address": node.host}],
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
        objects += default_ippools(cluster)
        if cluster.cni == "calico":
            objects += block_affinities(nodes) + calico_node_objects()
    cni = replaced_cni if cluster.cni == "kube-router" else cluster.cni
    if cni in ("flannel", "canal"):
        if cni == "flannel":
            apply(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": flannel_namespace}})
        objects += flannel_objects(cluster, flannel_namespace, cni, flannel_vni)
    # kube-proxy runs in every cluster; a kube-router cluster is seeded as it is before the role
    # replaces kube-proxy, with Services for kube-proxy to make rules of, and kubeadm's record.
    objects += kube_proxy_objects(cluster, server_of(kubeconfig))
    if cluster.cni == "kube-router":
        objects += [kubeadm_config(cluster)] + lab_services(nodes)
    for manifest in objects:
        wait_for(lambda m=manifest: apply(api, m) is not None, "%s: %s %s" % (
            cluster.name, manifest["kind"], manifest["metadata"]["name"]), timeout=30)
