# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: kube_router_install_manifests
short_description: One step of kube_router_install's Kubernetes objects, per cluster
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.kube_router_manifests) still works (deprecated).
  - C(base) gives the ServiceAccount, ClusterRole and ClusterRoleBinding C(kube-router), the
    kubeconfig ConfigMap C(kube-router) (seed 003 - the API server of C(kube_router_apiserver),
    the pod's own token and CA), C(kube-router-cfg) with the CNI conflist, and, when a peer has a
    C(password_file), the Secret C(kube-router-peer-passwords) read from those files on the
    controller.
  - C(nodes) gives every Node with the annotations kube-router reads its BGP role from
    (C(kube-router.io/rr.server), C(rr.client), C(node.asn)), or none.
  - C(services) gives the annotations of the Services in C(kube_router_services)
    (C(kube-router.io/service.scheduler), C(service.dsr), C(service.hairpin), C(service.local)).
  - C(daemonset) gives the DaemonSet C(kube-router) with the computed flags; hostIPC and hostPID
    only when a Service uses DSR.
  - Fails with every problem of the core and kube_router_install facets when the model has any.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.peer_secrets
options:
  step:
    description: Which step.
    type: str
    required: true
    choices: [base, nodes, services, daemonset]
  release:
    description: Each object with only its name (and namespace); applied by our field manager it
      gives back every field we set (the rollback uses it for the Node and Service annotations).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Render each cluster's kube-router DaemonSet
  ansible.builtin.copy:
    content: "{{ item.manifests | map('to_nice_yaml') | join('---\n') }}"
    dest: "out/{{ item.cluster }}-kube-router.yml"
    mode: "0644"
  loop: "{{ node_base_fabric | nodenet.fabric.kube_router_install_manifests('daemonset') }}"
"""

RETURN = r"""
_value:
  description: One item per cluster of the group, with its C(cluster_kubeconfig) (or null) and the manifests of the step.
  type: list
  elements: dict
  sample: [{"cluster": "k8s", "kubeconfig": null, "manifests": [
           {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx", "namespace": "default",
            "annotations": {"kube-router.io/service.scheduler": "dh"}}}]}]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import model as kube_router
from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import resources as kube_router_resources
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of


def kube_router_install_manifests(document, step, release=False, secrets=None):
    if step not in kube_router_resources.STEPS:
        raise AnsibleFilterError("step %r is not one of %s" % (step, ", ".join(kube_router_resources.STEPS)))
    return kube_router_resources.manifests(fabric_of(document, [kube_router.NAME]), step, bool(release), secrets)


class FilterModule:
    def filters(self):
        return {"kube_router_install_manifests": kube_router_install_manifests}
