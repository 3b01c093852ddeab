# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes side of kube_router_install, per cluster and per step of the order.

- base: the ServiceAccount, ClusterRole and ClusterRoleBinding kube-router runs as, the
  kubeconfig ConfigMap (seed 003: the API server as nodes reach it, the pod's token and CA),
  ``kube-router-cfg`` with the CNI conflist, and the Secret with the peers' passwords;
- nodes: every Node's kube-router annotations (rr.server / rr.client / node.asn); a node that
  needs none carries none, which releases what we set before;
- services: the scheduler, DSR, hairpin and local annotations of the Services named;
- daemonset: kube-router's DaemonSet with the computed flags.

Every object is applied server-side with field manager nodenet.fabric, so only the fields
rendered here are ours.
"""

from __future__ import annotations

import base64
import json
from functools import partial

from ..cluster import owners
from ..fabric import api_access
from ..peers import has_password, peer_password
from .model import NAME, NODE_ASN_ANNOTATION, RR_CLIENT_ANNOTATION, RR_SERVER_ANNOTATION, SWITCHES, cluster_settings, clusters, reflectors

APP = "kube-router"
LABELS = dict(owners.LABELS, **{"k8s-app": APP})
STEPS = ("base", "nodes", "services", "daemonset")
KUBECONFIG_DIR = "/var/lib/kube-router"
CNI_FILE = "10-kuberouter.conflist"
PASSWORDS_DIR = "/etc/kube-router/peer-passwords"
PASSWORDS_KEY = "peer-router-passwords"
SECRET = "kube-router-peer-passwords"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
CONFIG_ANNOTATION = "nodenet.fabric/kube-router-config"
SERVICE_ANNOTATIONS = {"scheduler": "kube-router.io/service.scheduler", "dsr": "kube-router.io/service.dsr",
                       "hairpin": "kube-router.io/service.hairpin", "local": "kube-router.io/service.local"}


def manifests(fabric, step, release=False, secrets=None):
    """[{cluster, kubeconfig, manifests}] of one step, for every cluster of the group. With
    `release`, each object with nothing of ours in it (name and namespace only): applied by our
    field manager, it gives back every field we set (the rollback)."""
    render = {"base": partial(base, secrets=secrets), "nodes": nodes, "services": services, "daemonset": daemonset}[step]
    result = []
    for name in clusters(fabric):
        objects = render(fabric, name)
        if release:
            objects = [released(o) for o in objects]
        result.append({"cluster": name, **api_access(fabric.clusters[name]), "manifests": objects,
                       "replace_kube_proxy": cluster_settings(fabric, name).replace_kube_proxy})
    return result


def released(obj):
    meta = dict((k, v) for k, v in obj["metadata"].items() if k in ("name", "namespace"))
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": meta}


def meta(settings, name, namespaced=True):
    item = {"name": name, "labels": dict(LABELS)}
    if namespaced:
        item["namespace"] = settings.namespace
    return item


def base(fabric, cluster, secrets=None):
    s = cluster_settings(fabric, cluster)
    rules = [
        {"apiGroups": [""], "resources": ["namespaces", "pods", "services", "nodes", "endpoints"],
         "verbs": ["list", "get", "watch"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["list", "get", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "get", "watch"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
        {"apiGroups": [""], "resources": ["services/status"], "verbs": ["update"]},
    ]
    objects = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(s, APP)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta(s, APP, False),
         "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta(s, APP, False),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": APP},
         "subjects": [{"kind": "ServiceAccount", "name": APP, "namespace": s.namespace}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(s, APP), "data": {"kubeconfig": kubeconfig(s)}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(s, "kube-router-cfg"),
         "data": {"cni-conf.json": conflist_text(s, (), None)}},
    ]
    passwords = peer_passwords(s, secrets)
    if passwords is not None:
        objects.append({"apiVersion": "v1", "kind": "Secret", "metadata": meta(s, SECRET), "type": "Opaque",
                        "stringData": {PASSWORDS_KEY: passwords}})
    return objects


def kubeconfig(settings):
    """Seed 003's kubeconfig: the API server as nodes reach it, with the pod's own token and CA."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "default",
        "clusters": [{"name": "default", "cluster": {"server": settings.apiserver,
                                                     "certificate-authority": SA_DIR + "/ca.crt"}}],
        "users": [{"name": "default", "user": {"tokenFile": SA_DIR + "/token"}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default",
                                                     "namespace": "default"}}],
    }, indent=2, sort_keys=True) + "\n"


def peer_passwords(settings, secrets=None):
    """--peer-router-passwords-file's content: base64 passwords by position of --peer-router-ips,
    comma separated (an empty one for a peer without); None when no peer has one."""
    if not peer_passwords_needed(settings):
        return None
    return ",".join(base64.b64encode(peer_password(p, secrets).encode()).decode() if has_password(p) else ""
                    for p in settings.peers)


def conflist(settings, pod_cidrs, mtu):
    """The CNI conflist in the form kube-router itself writes it back (it rewrites the file at every
    start: compact JSON, sorted keys, each pod CIDR as an IPAM range set, IPv4 first as it adds
    them, the MTU with --auto-mtu), so that what we write and what it leaves are the same bytes."""
    ipam = {"type": "host-local"}
    if pod_cidrs:
        ipam["ranges"] = [[{"subnet": cidr}] for cidr in sorted(pod_cidrs, key=lambda c: ":" in c)]
    bridge = {"bridge": "kube-bridge", "hairpinMode": True,
              "ipam": ipam, "isDefaultGateway": True, "name": "kubernetes", "type": "bridge"}
    if mtu and auto_mtu(settings):
        bridge["mtu"] = mtu
    return {"cniVersion": "0.3.0", "name": "kubernetes",
            "plugins": [bridge, {"capabilities": {"portMappings": True, "snat": True}, "type": "portmap"}]}


def conflist_text(settings, pod_cidrs, mtu):
    return json.dumps(conflist(settings, pod_cidrs, mtu), sort_keys=True, separators=(",", ":"))


def auto_mtu(settings):
    return dict(settings.extra_args).get("auto-mtu", "true") == "true"


def node_annotations(fabric, cluster):
    """{host: {annotation: value}} kube-router reads its BGP role from."""
    s = cluster_settings(fabric, cluster)
    rrs = set(n.host for n in reflectors(fabric, cluster))
    result = {}
    for node in fabric.cluster_nodes(cluster):
        annotations = {}
        if rrs:
            annotations[RR_SERVER_ANNOTATION if node.host in rrs else RR_CLIENT_ANNOTATION] = s.rr_cluster_id
        if not s.switch("full_mesh"):
            annotations[NODE_ASN_ANNOTATION] = str(s.cluster_asn)
        result[node.host] = annotations
    return result


def nodes(fabric, cluster):
    objects = []
    for host, annotations in sorted(node_annotations(fabric, cluster).items()):
        item = {"name": host}
        if annotations:
            item["annotations"] = annotations
        objects.append({"apiVersion": "v1", "kind": "Node", "metadata": item})
    return objects


def service_annotations(service):
    annotations = {}
    for key, annotation in SERVICE_ANNOTATIONS.items():
        value = service[key]
        if value is True:
            annotations[annotation] = "true"
        elif value:
            annotations[annotation] = value
    return annotations


def services(fabric, cluster):
    s = cluster_settings(fabric, cluster)
    return [{"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": svc["name"], "namespace": svc["namespace"], "annotations": service_annotations(svc)}}
            for svc in s.services]


def args(settings, cluster, primary_ipv6=False):
    """kube-router's flags, in the order of SWITCHES then the rest, then the user's extra args.
    `primary_ipv6`: the nodes' primary address is IPv6."""
    result = ["--%s=%s" % (flag, "true" if settings.switch(name) else "false") for name, flag, _default in SWITCHES]
    result += ["--cluster-asn=%d" % settings.cluster_asn, "--kubeconfig=%s/kubeconfig" % KUBECONFIG_DIR,
               "--service-cluster-ip-range=%s" % ",".join(cluster.service_cidrs)]
    if 6 in cluster.families:  # kube-router's default is IPv4 only; it refuses IPv4 on a node without it
        result.append("--enable-ipv6=true")
        if 4 not in cluster.families:
            result.append("--enable-ipv4=false")
    if primary_ipv6 and "router-id" not in dict(settings.extra_args):
        result.append("--router-id=generate")  # a BGP router ID is IPv4: kube-router exits without one
    if settings.switch("overlay"):
        result += ["--overlay-type=%s" % settings.overlay_type, "--overlay-encap=%s" % settings.overlay_encap]
    if settings.peers:
        result += ["--peer-router-ips=%s" % ",".join(p["ip"] for p in settings.peers),
                   "--peer-router-asns=%s" % ",".join(str(p["asn"]) for p in settings.peers)]
        if any(p["port"] != 179 for p in settings.peers):
            result.append("--peer-router-ports=%s" % ",".join(str(p["port"]) for p in settings.peers))
        if peer_passwords_needed(settings):
            result.append("--peer-router-passwords-file=%s/%s" % (PASSWORDS_DIR, PASSWORDS_KEY))
    if uses_dsr(settings):
        result.append("--runtime-endpoint=%s" % settings.runtime_endpoint)
    result += ["--%s=%s" % (flag, value) for flag, value in settings.extra_args]
    return result


def primary_ipv6(fabric, cluster):
    return ":" in fabric.cluster_nodes(cluster)[0].ip


def peer_passwords_needed(settings):
    return any(has_password(p) for p in settings.peers)


def uses_dsr(settings):
    return any(s["dsr"] for s in settings.services)


def daemonset(fabric, cluster):
    s = cluster_settings(fabric, cluster)
    labels = {"k8s-app": APP, "tier": "node"}
    mounts = [{"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
              {"name": "cni-conf-dir", "mountPath": "/etc/cni/net.d"},
              {"name": "kubeconfig", "mountPath": KUBECONFIG_DIR, "readOnly": True},
              {"name": "xtables-lock", "mountPath": "/run/xtables.lock"}]
    volumes = [{"name": "lib-modules", "hostPath": {"path": "/lib/modules"}},
               {"name": "cni-conf-dir", "hostPath": {"path": s.cni_conf_dir}},
               {"name": "kubeconfig", "configMap": {"name": APP}},
               {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}}]
    if peer_passwords_needed(s):
        mounts.append({"name": "peer-passwords", "mountPath": PASSWORDS_DIR, "readOnly": True})
        volumes.append({"name": "peer-passwords", "secret": {"secretName": SECRET, "defaultMode": 0o400}})
    pod = {"serviceAccountName": APP, "priorityClassName": "system-node-critical", "hostNetwork": True,
           "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}, {"operator": "Exists", "effect": "NoExecute"},
                           {"key": "CriticalAddonsOnly", "operator": "Exists"}],
           "containers": [{
               "name": APP, "image": s.image, "args": args(s, fabric.clusters[cluster], primary_ipv6(fabric, cluster)),
               "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                       {"name": "KUBE_ROUTER_CNI_CONF_FILE", "value": "/etc/cni/net.d/" + CNI_FILE}],
               "livenessProbe": {"httpGet": {"path": "/healthz", "port": 20244}, "initialDelaySeconds": 10,
                                 "periodSeconds": 3},
               "securityContext": {"privileged": True}, "volumeMounts": mounts}],
           "volumes": volumes}
    if uses_dsr(s):
        # DSR puts a tunnel into each endpoint pod's namespace, found through the runtime.
        pod.update(hostIPC=True, hostPID=True)
        socket = s.runtime_endpoint.split("://", 1)[-1]
        folder = socket.rsplit("/", 1)[0] or "/"
        pod["containers"][0]["volumeMounts"].append({"name": "runtime", "mountPath": folder, "readOnly": True})
        pod["volumes"].append({"name": "runtime", "hostPath": {"path": folder}})
    return [{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": dict(meta(s, APP), labels=dict(LABELS, tier="node")),
             "spec": {"selector": {"matchLabels": labels},
                      "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                      "template": {"metadata": {"labels": labels, "annotations": {
                          CONFIG_ANNOTATION: config_digest(fabric, cluster)}}, "spec": pod}}}]


def config_digest(fabric, cluster):
    """What kube-router reads only when it starts (its Node's annotations, the kubeconfig), as a
    digest in the pod template: when it changes, the DaemonSet rolls kube-router out again."""
    import hashlib
    s = cluster_settings(fabric, cluster)
    text = json.dumps({"nodes": node_annotations(fabric, cluster), "kubeconfig": kubeconfig(s)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def node_cni(fabric, host):
    """The node's CNI side: our conflist, and the replaced CNI's files to set aside."""
    node = fabric.nodes[host]
    s = fabric.facets[NAME][host]
    return {"dir": s.cni_conf_dir, "backup_dir": s.cni_backup_dir, "file": CNI_FILE,
            "content": conflist_text(s, node.pod_cidrs, node.mtu), "replaced": REPLACED_FILES[s.replaces]}


# The config files each replaced CNI leaves in the CNI conf dir, named explicitly (never a glob).
REPLACED_FILES = {"flannel": ["10-flannel.conflist", "10-flannel.conf"],
                  "calico": ["10-calico.conflist", "calico-kubeconfig"],
                  "canal": ["10-canal.conflist", "10-calico.conflist", "calico-kubeconfig"],
                  "none": []}
