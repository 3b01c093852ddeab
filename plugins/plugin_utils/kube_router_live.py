# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each cluster's API must already hold before kube_router_install changes anything: every
Node with the pod CIDR of the inventory (kube-router routes the Node's spec.podCIDR and exits
without one), every Service named with its ports (DSR cannot remap them), kubeadm's record in a
version that can keep kube-proxy away, and every DaemonSet it replaces (or the copy kept of it);
and how those DaemonSets are kept and brought back."""

from __future__ import annotations

import json

import yaml

from . import kube_router
from .fabric import api_access
from .kube_router import cluster_settings

KUBEADM_WITH_PROXY_SWITCH = "kubeadm.k8s.io/v1beta4"


def plain(value):
    """Plain dicts, lists and strings (Ansible hands filters its own tagged types, which YAML cannot dump)."""
    return json.loads(json.dumps(value))


def found_by_cluster(found):
    """{cluster: {(name, namespace): object}} of a looped k8s_info result (clusters it could not
    read are missing_objects' to report)."""
    result = {}
    for item in (found or {}).get("results", []):
        if "resources" in item:
            result[item["item"]["cluster"]] = dict(
                ((o["metadata"]["name"], o["metadata"].get("namespace")), o) for o in item["resources"])
    return result


def node_problems(fabric, nodes):
    lines = []
    for cluster, objects in sorted(nodes.items()):
        for node in fabric.cluster_nodes(cluster):
            obj = objects.get((node.host, None))
            if obj is None:
                continue
            have = (obj.get("spec") or {}).get("podCIDR")
            if not have:
                lines.append("cluster %s, node %s: the Node has no spec.podCIDR, and kube-router exits without one; "
                             "start kube-controller-manager with --allocate-node-cidrs --cluster-cidr=%s"
                             % (cluster, node.host, fabric.clusters[cluster].pod_cidr))
            elif have != node.pod_cidrs[0]:
                lines.append("cluster %s, node %s, node_pod_cidrs: %s differs from the Node's spec.podCIDR %s "
                             "(allocated by kube-controller-manager), which kube-router routes; set node_pod_cidrs "
                             "to [%s]" % (cluster, node.host, node.pod_cidrs[0], have, have))
    return lines


def service_problems(fabric, services):
    lines = []
    for cluster, objects in sorted(services.items()):
        for index, svc in enumerate(cluster_settings(fabric, cluster).services):
            obj = objects.get((svc["name"], svc["namespace"]))
            if obj is None or not svc["dsr"]:
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


def kubeadm_problems(fabric, configs):
    """A kubeadm-config whose ClusterConfiguration cannot say proxy.disabled (before v1beta4)."""
    lines = []
    for cluster, objects in sorted(configs.items()):
        if not cluster_settings(fabric, cluster).replace_kube_proxy:
            continue
        for obj in objects.values():
            text = (obj.get("data") or {}).get("ClusterConfiguration") or ""
            version = (yaml.safe_load(str(text)) or {}).get("apiVersion")
            if version != KUBEADM_WITH_PROXY_SWITCH:
                lines.append("cluster %s: kube-system/kubeadm-config holds a %s ClusterConfiguration, which cannot "
                             "disable kube-proxy, so `kubeadm upgrade` would bring it back; migrate it first "
                             "(kubeadm config migrate, to %s)" % (cluster, version, KUBEADM_WITH_PROXY_SWITCH))
    return lines


def live_problems(fabric, nodes_found, services_found, kubeadm_found):
    return (node_problems(fabric, found_by_cluster(nodes_found))
            + service_problems(fabric, found_by_cluster(services_found))
            + kubeadm_problems(fabric, found_by_cluster(kubeadm_found)))


def daemonset_problems(daemonsets, backups):
    """A replaced CNI DaemonSet that neither runs nor was kept: a name that does not match the
    cluster (kube-proxy's may be missing: a cluster without it has nothing to replace)."""
    kept = objects_by_item(backups)
    lines = []
    for item in (daemonsets or {}).get("results", []):
        loop = item["item"]
        key = (loop["cluster"], loop["namespace"], loop["name"])
        if "resources" not in item or key not in kept or kept[key] or [o for o in item["resources"] if not deleting(o)]:
            continue  # unreadable (missing_objects says so), there, or kept
        if (loop["namespace"], loop["name"]) != ("kube-system", "kube-proxy"):
            lines.append("cluster %s, kube_router_replaced_daemonsets: DaemonSet %s/%s is not in the cluster and no "
                         "copy of it is kept (ConfigMap %s/%s); name the replaced CNI's DaemonSet as it runs"
                         % (loop["cluster"], loop["namespace"], loop["name"], loop["namespace"], loop["backup"]))
    return lines


def released_services(found, field_manager):
    """Manifest items giving back the kube-router.io/* annotations `field_manager` applied to
    Services no longer in kube_router_services: each such Service with its name only, applied by
    that manager (server-side apply then drops what it owned). `found` is a looped k8s_info of
    every Service over the `services` manifest items."""
    items = []
    for result in (found or {}).get("results", []):
        item = result.get("item") or {}
        wanted = set((m["metadata"]["name"], m["metadata"]["namespace"]) for m in item.get("manifests", []))
        release = []
        for obj in result.get("resources") or []:
            meta = obj.get("metadata") or {}
            if (meta.get("name"), meta.get("namespace")) not in wanted and owns_service_annotation(meta, field_manager):
                release.append({"apiVersion": "v1", "kind": "Service",
                                "metadata": {"name": meta["name"], "namespace": meta["namespace"]}})
        if release:
            items.append({"cluster": item["cluster"], **access_of(item), "manifests": release})
    return items


def access_of(item):
    """The cluster access a loop item carried (fabric.api_access), for the items made from it."""
    return dict((key, item.get(key)) for key in ("kubeconfig", "context", "api"))


def owns_service_annotation(meta, field_manager):
    for entry in meta.get("managedFields") or []:
        if entry.get("manager") == field_manager and entry.get("operation") == "Apply":
            annotations = ((entry.get("fieldsV1") or {}).get("f:metadata") or {}).get("f:annotations") or {}
            if any(key.startswith("f:kube-router.io/") for key in annotations):
                return True
    return False


def kubeadm_config(found, disabled):
    """[{cluster, kubeconfig, manifests}] setting ClusterConfiguration's proxy.disabled in each
    cluster's kubeadm-config (a looped k8s_info result); clusters without one are skipped."""
    items = []
    for item in (found or {}).get("results", []):
        for obj in item.get("resources") or []:
            config = yaml.safe_load(str(obj["data"]["ClusterConfiguration"])) or {}
            if bool((config.get("proxy") or {}).get("disabled")) == disabled:
                continue
            config.setdefault("proxy", {})["disabled"] = disabled
            items.append({"cluster": item["item"]["cluster"], **access_of(item["item"]), "manifests": [
                {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"]},
                 "data": {"ClusterConfiguration": yaml.safe_dump(config, default_flow_style=False)}}]})
    return items


# Fields the API server sets; a DaemonSet restored from the copy gets its own.
SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
                 "deletionTimestamp", "deletionGracePeriodSeconds", "finalizers", "ownerReferences")


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


def objects_by_item(found, live=False):
    """{(cluster, namespace, name) of the loop item: [objects]} of a k8s_info loop over
    replaced_daemonsets; with `live`, without objects being deleted (a deletion interrupted by a
    timeout leaves one with a deletionTimestamp: it is going, not there)."""
    return dict(((i["item"]["cluster"], i["item"]["namespace"], i["item"]["name"]),
                 [o for o in i.get("resources") or [] if not (live and deleting(o))])
                for i in (found or {}).get("results", []) if "resources" in i)


def deleting(obj):
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def terminating(found):
    """The loop items whose DaemonSet is being deleted: the rollback waits them out before it
    creates them again from the copy."""
    return [i["item"] for i in (found or {}).get("results", []) if any(deleting(o) for o in i.get("resources") or [])]


def daemonset_backup(daemonsets, backups, labels):
    """Manifest items keeping each replaced DaemonSet in its backup ConfigMap (key
    daemonset.yaml): from the DaemonSet while it runs (the copy follows it), or from one being
    deleted when no copy was kept yet; a DaemonSet already gone keeps the copy there is."""
    kept = objects_by_item(backups)
    items = []
    for item in (daemonsets or {}).get("results", []):
        loop = item["item"]
        objects = item.get("resources") or []
        running = [o for o in objects if not deleting(o)]
        if not running and kept.get((loop["cluster"], loop["namespace"], loop["name"])):
            continue
        for obj in running or objects:
            obj = plain(obj)
            meta = dict((k, v) for k, v in obj["metadata"].items() if k not in SERVER_FIELDS)
            copy = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta, "spec": obj["spec"]}
            items.append({"cluster": loop["cluster"], **access_of(loop), "manifests": [
                {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": loop["backup"], "namespace": loop["namespace"], "labels": dict(labels)},
                 "data": {"daemonset.yaml": yaml.safe_dump(copy, default_flow_style=False)}}]})
    return items


def daemonset_restore(kept, current):
    """[{cluster, kubeconfig, namespace, name, definition}]: each replaced DaemonSet from the copy
    kept, where it is not there or only being deleted (a rerun of the rollback finds it there)."""
    present = objects_by_item(current, live=True)
    items = []
    for item in (kept or {}).get("results", []):
        loop = item["item"]
        if present.get((loop["cluster"], loop["namespace"], loop["name"])):
            continue
        for obj in item.get("resources") or []:
            items.append({"cluster": loop["cluster"], **access_of(loop), "namespace": loop["namespace"],
                          "name": loop["name"], "definition": yaml.safe_load(str(obj["data"]["daemonset.yaml"]))})
    return items
