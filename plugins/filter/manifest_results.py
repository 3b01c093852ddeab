# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: manifest_results
short_description: Read the registered results of the manifests tasks (stale objects, failures per cluster)
version_added: 0.3.0
description:
  - C(stale_objects) takes the registered result of a looped C(kubernetes.core.k8s_info) over the
    manifest items (each item a C({cluster, kubeconfig, manifests, prune})) and returns the objects
    found by the prune selector that no manifest of that cluster names any more.
  - C(manifest_failures) takes the result of a failed looped Kubernetes task (a rescue's
    C(ansible_failed_result)) and returns one line per failed item, naming the cluster and the
    object, with anything that looks like a bearer token removed.
  - C(changed_clusters) takes the registered result of the looped apply and returns the clusters
    where an object changed (flannel_hostgw restarts flanneld there, and where flanneld runs another backend).
  - C(missing_objects) takes the registered result of a looped C(kubernetes.core.k8s_info) over
    manifest items and returns one line per manifest object not found, or per cluster whose API
    could not be read (calico_bgp_rr refuses to label a Node the API lacks).
  - All are provided by this one file; call them as C(nodenet.fabric.stale_objects),
    C(nodenet.fabric.manifest_failures), C(nodenet.fabric.changed_clusters) and
    C(nodenet.fabric.missing_objects).
options:
  _input:
    description: A registered result with C(results), or a rescue's C(ansible_failed_result).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Prune what we own and no manifest names
  kubernetes.core.k8s:
    kubeconfig: "{{ item.kubeconfig }}"
    api_version: "{{ item.api_version }}"
    kind: "{{ item.kind }}"
    name: "{{ item.name }}"
    state: absent
  loop: "{{ owned | nodenet.fabric.stale_objects }}"
"""

RETURN = r"""
_value:
  description: Stale objects as C({cluster, kubeconfig, api_version, kind, name, namespace}), or failure lines.
  type: list
  elements: raw
"""

import re

SECRET = re.compile(r"(?i)(bearer\s+|token[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._\-]+")


def stale_objects(owned):
    stale = []
    for result in (owned or {}).get("results", []):
        item = result.get("item") or {}
        if result.get("failed") or "resources" not in result:
            continue
        wanted = set((m["metadata"]["name"], m["metadata"].get("namespace")) for m in item.get("manifests", []))
        for obj in result["resources"]:
            meta = obj.get("metadata", {})
            if (meta.get("name"), meta.get("namespace")) not in wanted:
                stale.append({"cluster": item["cluster"], "kubeconfig": item["kubeconfig"],
                              "api_version": obj.get("apiVersion"), "kind": obj.get("kind"),
                              "name": meta.get("name"), "namespace": meta.get("namespace")})
    return stale


def missing_objects(found):
    """One line per manifest object a looped k8s_info over the manifest items did not find (or per
    cluster whose API could not be read): the mirror of stale_objects."""
    lines = []
    for result in (found or {}).get("results", []):
        item = result.get("item") or {}
        if "resources" not in result:
            message = SECRET.sub(r"\1<redacted>", str(result.get("msg") or "no answer"))
            lines.append("cluster %s: its API could not be read: %s" % (item.get("cluster"), " ".join(message.split())))
            continue
        have = set((o.get("metadata", {}).get("name"), o.get("metadata", {}).get("namespace")) for o in result["resources"])
        for manifest in item.get("manifests", []):
            meta = manifest["metadata"]
            if (meta["name"], meta.get("namespace")) not in have:
                lines.append("cluster %s: no %s named %s in its API" % (item.get("cluster"), manifest["kind"], meta["name"]))
    return lines


def describe(item):
    """(cluster, object) of a looped item: a manifest item pair, a manifest item, or a stale object."""
    if isinstance(item, list) and len(item) == 2:
        cluster, obj = item[0].get("cluster"), item[1]
        return cluster, "%s %s" % (obj.get("kind"), (obj.get("metadata") or {}).get("name"))
    if isinstance(item, dict) and "manifests" in item:
        return item.get("cluster"), "the objects it owns"
    if isinstance(item, dict):
        return item.get("cluster"), "%s %s" % (item.get("kind"), item.get("name"))
    return None, str(item)


def manifest_failures(failed):
    """One line per failed item of a looped task's result (a rescue's ansible_failed_result)."""
    lines = []
    entries = (failed or {}).get("results") or [failed or {}]
    for entry in entries:
        if not entry.get("failed"):
            continue
        cluster, what = describe(entry.get("item"))
        message = SECRET.sub(r"\1<redacted>", str(entry.get("msg") or "failed"))
        lines.append("cluster %s, %s: %s" % (cluster, what, " ".join(message.split())))
    return lines


def changed_clusters(applied):
    """The clusters where the looped apply changed an object (items are [manifest item, manifest])."""
    return sorted(set(r["item"][0]["cluster"] for r in (applied or {}).get("results", []) if r.get("changed")))


class FilterModule:
    def filters(self):
        return {"stale_objects": stale_objects, "manifest_failures": manifest_failures,
                "changed_clusters": changed_clusters, "missing_objects": missing_objects}
