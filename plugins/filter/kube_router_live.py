# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: kube_router_live
short_description: Check each cluster's live objects before kube_router_install changes anything; kubeadm's proxy switch
version_added: 0.5.0
description:
  - C(kube_router_live_problems) takes the fabric model and the registered results of three
    looped C(kubernetes.core.k8s_info) tasks (the Nodes, the Services named in
    C(kube_router_services), kube-system/kubeadm-config) and returns one line per problem - a
    Node without C(spec.podCIDR) or with another one than C(node_pod_cidrs) (kube-router routes
    the Node's), a DSR Service whose port differs from its targetPort, a kubeadm-config older than
    C(kubeadm.k8s.io/v1beta4) (which cannot disable kube-proxy).
  - C(kube_router_kubeadm_config) takes the kubeadm-config result and C(disabled) and returns
    manifest items setting C(proxy.disabled) in each ClusterConfiguration that differs, so that
    C(kubeadm upgrade) does not bring kube-proxy back (or, for the rollback, does).
  - C(kube_router_replaced_daemonsets) takes the fabric model and the name of the ConfigMap that
    keeps kube-proxy's DaemonSet and returns C({cluster, kubeconfig, namespace, name, backup}) for
    every DaemonSet kube-router replaces - kube-proxy's (where it goes) and those in
    C(kube_router_replaced_daemonsets), each kept in C(<name>-replaced-by-kube-router).
  - C(kube_router_daemonset_backup) takes the results of two C(kubernetes.core.k8s_info) loops
    over those items (the DaemonSets, their backup ConfigMaps) and returns manifest items keeping
    each DaemonSet (key C(daemonset.yaml)) in its ConfigMap, only where no copy was kept yet.
  - C(kube_router_daemonset_restore) takes the results of reading the backups and the DaemonSets
    and returns C({cluster, kubeconfig, namespace, name, definition}) to re-create each DaemonSet
    from its copy where it is not there (the rollback).
  - C(kube_router_daemonsets_terminating) takes the result of reading the DaemonSets and returns
    the loop items whose DaemonSet is being deleted (the rollback waits them out first).
  - C(kube_router_daemonset_problems) takes the same two results and returns a line for each
    replaced CNI DaemonSet that neither runs nor was kept (the preflight).
  - C(kube_router_released_services) takes a looped C(kubernetes.core.k8s_info) of every Service
    over the C(services) manifest items and a field manager, and returns manifest items that give
    back the C(kube-router.io/*) annotations that manager applied to Services no longer in
    C(kube_router_services) (name and namespace only, for server-side apply by that manager).
  - All are provided by this one file; call them as C(nodenet.fabric.<name>).
options:
  _input:
    description: The fabric model document (problems), or the kubeadm-config result (kubeadm_config).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Stop before any change when a cluster's API disagrees with the inventory
  ansible.builtin.fail:
    msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ node_base_fabric | nodenet.fabric.kube_router_live_problems(api_nodes, api_services, api_kubeadm) }}"
  when: problems | length > 0
"""

RETURN = r"""
_value:
  description: Problem lines, or manifest items C({cluster, kubeconfig, manifests}).
  type: list
  elements: raw
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils import kube_router, kube_router_live, kube_router_resources
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of


def kube_router_live_problems(document, nodes_found, services_found, kubeadm_found):
    return kube_router_live.live_problems(fabric_of(document, [kube_router.NAME]), nodes_found, services_found,
                                          kubeadm_found)


def kube_router_kubeadm_config(found, disabled):
    return kube_router_live.kubeadm_config(found, bool(disabled))


def kube_router_replaced_daemonsets(document, kube_proxy_backup):
    return kube_router_live.replaced_daemonsets(fabric_of(document, [kube_router.NAME]), str(kube_proxy_backup))


def kube_router_daemonset_backup(daemonsets, backups):
    return kube_router_live.daemonset_backup(daemonsets, backups, kube_router_resources.LABELS)


def kube_router_daemonset_restore(kept, current):
    return kube_router_live.daemonset_restore(kept, current)


def kube_router_daemonsets_terminating(daemonsets):
    return kube_router_live.terminating(daemonsets)


def kube_router_daemonset_problems(daemonsets, backups):
    return kube_router_live.daemonset_problems(daemonsets, backups)


def kube_router_released_services(found, field_manager):
    return kube_router_live.released_services(found, str(field_manager))


class FilterModule:
    def filters(self):
        return {"kube_router_live_problems": kube_router_live_problems,
                "kube_router_kubeadm_config": kube_router_kubeadm_config,
                "kube_router_replaced_daemonsets": kube_router_replaced_daemonsets,
                "kube_router_daemonset_backup": kube_router_daemonset_backup,
                "kube_router_daemonset_restore": kube_router_daemonset_restore,
                "kube_router_daemonsets_terminating": kube_router_daemonsets_terminating,
                "kube_router_daemonset_problems": kube_router_daemonset_problems,
                "kube_router_released_services": kube_router_released_services}
