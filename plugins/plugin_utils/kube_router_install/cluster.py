# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube_router_install's cluster side: what each cluster's API must already hold before anything
changes (every Node with the inventory's pod CIDR: kube-router routes the Node's spec.podCIDR and
exits without one; every Service named, a DSR one with port == targetPort; kubeadm's record in a
version that can keep kube-proxy away; every replaced DaemonSet running or kept), and the install
and rollback orders as cluster steps, with gates where the nodes act."""

from __future__ import annotations

import yaml

from . import model as kube_router
from ..cluster import checks, objects, steps
from ..fabric import api_access
from .model import cluster_settings
from .resources import LABELS, manifests

KUBEADM_WITH_PROXY_SWITCH = "kubeadm.k8s.io/v1beta4"
KUBEADM_CONFIG = {"api_version": "v1", "kind": "ConfigMap", "namespace": "kube-system", "name": "kubeadm-config"}
# kube-router's annotations on Services: what `release` gives back on a Service no longer named.
SERVICE_PREFIX = "kube-router.io/"
# The install's gates: kube-router peers on every node (the nodes wait for their sessions), then
# the replaced agents are gone (the nodes lose kube-proxy's leftovers and set the CNI files aside).
INSTALL_GATES = ("peered", "replaced")
# The rollback's gates: kube-proxy is back (the nodes wait for its rules and get the replaced
# CNI's files back), then kube-router is gone (the nodes lose its leftovers).
ROLLBACK_GATES = ("proxy_back", "router_gone")


def node_problems(step, found):
    objects_found = dict((o["metadata"]["name"], o) for o in found or [])
    cluster = step["cluster"]
    lines = checks.missing(dict(step, expect={"nodes": sorted(step["nodes"])}), {"nodes": found})
    for host, pod_cidrs in sorted(step["nodes"].items()):
        obj = objects_found.get(host)
        if obj is None:
            continue  # missing, said above
        spec = obj.get("spec") or {}
        have = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        if not have:
            lines.append("cluster %s, node %s: the Node has no spec.podCIDR, and kube-router exits without one; "
                         "start kube-controller-manager with --allocate-node-cidrs --cluster-cidr=%s"
                         % (cluster, host, step["pod_cidr"]))
        elif sorted(have) != sorted(pod_cidrs):
            plural = "s" if len(have) > 1 or len(pod_cidrs) > 1 else ""
            lines.append("cluster %s, node %s, node_pod_cidrs: %s differs from the Node's spec.podCIDR%s %s "
                         "(allocated by kube-controller-manager), which kube-router routes; set node_pod_cidrs "
                         "to [%s]" % (cluster, host, ", ".join(pod_cidrs), plural, ", ".join(have), ", ".join(have)))
    return lines


def service_problems(step, found):
    objects_found = dict(((o["metadata"]["name"], o["metadata"].get("namespace")), o) for o in found or [])
    cluster = step["cluster"]
    lines = []
    for index, svc in enumerate(step["services"]):
        obj = objects_found.get((svc["name"], svc["namespace"]))
        if obj is None:
            lines.append("cluster %s: no Service named %s in its API" % (cluster, svc["name"]))
            continue
        if not svc["dsr"]:
            continue
        for port in (obj.get("spec") or {}).get("ports") or []:
            target = port.get("targetPort", port["port"])
            if isinstance(target, str) and not target.isdigit():
                lines.append("cluster %s, kube_router_services[%d].dsr: Service %s/%s names its targetPort %r; "
                             "DSR needs port == targetPort, which a name cannot show: give the number %s"
                             % (cluster, index, svc["namespace"], svc["name"], target, port["port"]))
            elif int(target) != port["port"]:
                lines.append("cluster %s, kube_router_services[%d].dsr: Service %s/%s maps port %s to "
                             "targetPort %s; kube-router's DSR cannot remap ports, so give it port == "
                             "targetPort or drop dsr" % (cluster, index, svc["namespace"], svc["name"],
                                                         port["port"], target))
    return lines


def kubeadm_problems(step, obj):
    """A kubeadm-config whose ClusterConfiguration cannot say proxy.disabled (before v1beta4)."""
    if obj is None or not step["replace_kube_proxy"]:
        return []
    text = (obj.get("data") or {}).get("ClusterConfiguration") or ""
    version = (yaml.safe_load(str(text)) or {}).get("apiVersion")
    if version == KUBEADM_WITH_PROXY_SWITCH:
        return []
    return ["cluster %s: kube-system/kubeadm-config holds a %s ClusterConfiguration, which cannot disable "
            "kube-proxy, so `kubeadm upgrade` would bring it back; migrate it first (kubeadm config migrate, "
            "to %s)" % (step["cluster"], version, KUBEADM_WITH_PROXY_SWITCH)]


def daemonset_problems(step, found):
    """A replaced CNI DaemonSet that neither runs nor was kept: a name that does not match the
    cluster (kube-proxy's may be missing: a cluster without it has nothing to replace)."""
    lines = []
    for ds in step["replaced"]:
        running = found.get("ds:%(namespace)s/%(name)s" % ds)
        if (running is not None and not objects.deleting(running)) or found.get("copy:%(namespace)s/%(name)s" % ds):
            continue
        if ds["replaces"] != "kube-proxy":
            lines.append("cluster %s, kube_router_replaced_daemonsets: DaemonSet %s/%s is not in the cluster and no "
                         "copy of it is kept (ConfigMap %s/%s); name the replaced CNI's DaemonSet as it runs"
                         % (step["cluster"], ds["namespace"], ds["name"], ds["namespace"], ds["backup"]))
    return lines


def live_problems(step, found):
    """The check of cluster_checks: every problem of one cluster's live objects."""
    return (node_problems(step, found["nodes"]) + service_problems(step, found["services"])
            + kubeadm_problems(step, found["kubeadm"]) + daemonset_problems(step, found))


def replaced_daemonsets(fabric, kube_proxy_backup):
    """[{cluster, kubeconfig, namespace, name, backup, replaces}]: the DaemonSets kube-router
    replaces, per cluster: kube-proxy's (kept in ConfigMap `kube_proxy_backup`, replaces
    "kube-proxy") where it goes, then the replaced CNI's (each kept in
    `<name>-replaced-by-kube-router` beside it, replaces "cni")."""
    items = []
    for name in kube_router.clusters(fabric):
        settings = cluster_settings(fabric, name)
        found = ([{"namespace": "kube-system", "name": "kube-proxy", "backup": kube_proxy_backup,
                   "replaces": "kube-proxy"}] if settings.replace_kube_proxy else [])
        found += [dict(ds, backup="%s-replaced-by-kube-router" % ds["name"], replaces="cni")
                  for ds in settings.replaced_daemonsets]
        items += [dict(ds, cluster=name, **api_access(fabric.clusters[name])) for ds in found]
    return items


def daemonset_ref(ds):
    return objects.ref("apps/v1", "DaemonSet", ds["name"], ds["namespace"])


def cluster_checks(fabric, state="present", options=None):
    """One check per cluster: its Nodes, Services, kubeadm's record, and the replaced DaemonSets
    and their copies."""
    replaced = replaced_daemonsets(fabric, with_defaults(options)["kube_proxy_backup"])
    result = []
    for item in manifests(fabric, "nodes"):
        cluster = item["cluster"]
        mine = [ds for ds in replaced if ds["cluster"] == cluster]
        read = {"nodes": {"api_version": "v1", "kind": "Node"}, "services": {"api_version": "v1", "kind": "Service"},
                "kubeadm": KUBEADM_CONFIG}
        for ds in mine:
            read["ds:%(namespace)s/%(name)s" % ds] = dict(api_version="apps/v1", kind="DaemonSet",
                                                          namespace=ds["namespace"], name=ds["name"])
            read["copy:%(namespace)s/%(name)s" % ds] = dict(api_version="v1", kind="ConfigMap",
                                                            namespace=ds["namespace"], name=ds["backup"])
        settings = cluster_settings(fabric, cluster)
        result.append(steps.step(
            item, "check", "live objects", check=steps.named(live_problems), read=read,
            nodes=dict((n.host, list(n.pod_cidrs)) for n in fabric.cluster_nodes(cluster)),
            pod_cidr=",".join(fabric.clusters[cluster].pod_cidrs), replace_kube_proxy=settings.replace_kube_proxy,
            services=[dict((k, s[k]) for k in ("namespace", "name", "dsr")) for s in settings.services],
            replaced=[dict((k, ds[k]) for k in ("namespace", "name", "backup", "replaces")) for ds in mine]))
    return result


def keep(replaced):
    """Each replaced DaemonSet kept in its copy (the ConfigMap `backup` beside it)."""
    return [steps.step(ds, "keep", "replaced DaemonSets kept", objects=[daemonset_ref(ds)], copy=ds["backup"],
                       labels=dict(LABELS)) for ds in replaced]


def restore(replaced, replaces):
    """The replaced DaemonSets of one kind (kube-proxy, cni) back from their copies, then ready."""
    mine = [ds for ds in replaced if ds["replaces"] == replaces]
    return ([steps.step(ds, "restore", "%s restored" % replaces, objects=[daemonset_ref(ds)], copy=ds["backup"])
             for ds in mine]
            + [steps.step(ds, "wait", "%s ready" % replaces, objects=[daemonset_ref(ds)], until="ready",
                          if_present=True) for ds in mine])


def kubeadm(items, disabled):
    """kubeadm-config's ClusterConfiguration says proxy.disabled (what `kubeadm upgrade` reads)."""
    ref = objects.ref("v1", "ConfigMap", KUBEADM_CONFIG["name"], KUBEADM_CONFIG["namespace"])
    return [steps.step(i, "edit", "kubeadm %s kube-proxy" % ("leaves out" if disabled else "manages"),
                       objects=[ref], key="ClusterConfiguration", path="proxy.disabled", value=disabled,
                       force=True) for i in items if i["replace_kube_proxy"]]


def install(fabric, secrets, options):
    """kube-router's objects and DaemonSet, waited for; gate `peered` (every node's sessions);
    the replaced DaemonSets kept and deleted with their pods, kubeadm told to leave kube-proxy
    out; gate `replaced` (each node loses kube-proxy's leftovers, the replaced CNI's files go)."""
    replaced = replaced_daemonsets(fabric, options["kube_proxy_backup"])
    services = manifests(fabric, "services")
    router = manifests(fabric, "daemonset")
    return (steps.apply(manifests(fabric, "base", secrets=secrets), "kube-router's objects",
                        file="kube-router-base.yml", secret=True)
            + steps.apply(manifests(fabric, "nodes"), "Nodes annotated", file="kube-router-nodes.yml")
            + steps.apply(services, "Services annotated", file="kube-router-services.yml")
            + [steps.step(i, "release", "Services no longer named", api_version="v1", kind="Service",
                          prefix=SERVICE_PREFIX, objects=i["manifests"]) for i in services]
            + steps.apply(router, "kube-router's DaemonSet", file="kube-router-daemonset.yml")
            + [steps.step(i, "wait", "kube-router ready", objects=i["manifests"], until="ready") for i in router]
            + [steps.gate("peered")]
            + keep(replaced)
            + [steps.step(ds, "delete", "replaced DaemonSets deleted", objects=[daemonset_ref(ds)],
                          propagation="Foreground", wait=True) for ds in replaced]
            + kubeadm(router, True)
            + [steps.gate("replaced")])


def rollback(fabric, secrets, options):
    """kube-proxy back from its copy, waited for, kubeadm managing it again; gate `proxy_back`
    (each node waits for kube-proxy's rules and gets the replaced CNI's files back); kube-router's
    DaemonSet deleted with its pods, then its objects; gate `router_gone` (each node loses
    kube-router's leftovers); the replaced CNI's agents back from their copies (kube-router's
    routes are gone, so they install their own) and waited for; the copies deleted; the
    annotations we set given back."""
    replaced = replaced_daemonsets(fabric, options["kube_proxy_backup"])
    router = manifests(fabric, "daemonset")
    return (restore(replaced, "kube-proxy")
            + kubeadm(router, False)
            + [steps.gate("proxy_back")]
            + [steps.step(i, "delete", "kube-router's DaemonSet deleted", objects=i["manifests"],
                          propagation="Foreground", wait=True) for i in router]
            + [steps.step(i, "delete", "kube-router's objects deleted",
                          objects=[manifests_ref(o) for o in i["manifests"]])
               for i in manifests(fabric, "base", secrets=secrets)]
            + [steps.gate("router_gone")]
            + restore(replaced, "cni")
            + [steps.step(ds, "delete", "copies deleted",
                          objects=[objects.ref("v1", "ConfigMap", ds["backup"], ds["namespace"])])
               for ds in replaced]
            + steps.apply(manifests(fabric, "nodes", release=True), "Nodes released",
                          file="kube-router-nodes-released.yml")
            + steps.apply(manifests(fabric, "services", release=True), "Services released",
                          file="kube-router-services-released.yml"))


def manifests_ref(obj):
    meta = obj["metadata"]
    return objects.ref(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))


def with_defaults(options):
    return dict({"kube_proxy_backup": "kube-proxy-replaced-by-kube-router"}, **(options or {}))


def cluster_steps(fabric, state="present", secrets=None, options=None):
    return (install if state == "present" else rollback)(fabric, secrets, with_defaults(options))
