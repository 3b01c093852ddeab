# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: vxlan_mesh_ippools
short_description: Calico IPPools for the other clusters of the mesh, per cluster
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.calico_ippools) still works (deprecated).
  - For every calico cluster in the mesh, one disabled IPPool with C(natOutgoing=false) per
    other cluster's pod CIDR and service CIDR (seed 002), so felix does not SNAT mesh traffic.
  - Names follow the seed, C(pod-<cluster>) and C(svc-<cluster>), labelled
    C(app.kubernetes.io/managed-by=nodenet.fabric).
  - Each item also carries C(prune), the selector of the pools we own, so that the pools for a
    cluster that left the mesh are deleted; a pool anyone else made is never touched.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
options:
  present:
    description: False gives every cluster no manifests, so that every pool we own is pruned.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Render each cluster's pools
  ansible.builtin.copy:
    content: "{{ item.manifests | to_nice_yaml }}"
    dest: "out/{{ item.cluster }}-ippools.yml"
  loop: "{{ node_base_fabric | nodenet.fabric.vxlan_mesh_ippools }}"
"""

RETURN = r"""
_value:
  description: One item per calico cluster of the mesh, with its C(cluster_kubeconfig) (or null),
    its IPPool manifests (crd.projectcalico.org/v1) and the C(prune) selector of the pools we own.
  type: list
  elements: dict
  sample: [{"cluster": "test-cluster1", "kubeconfig": null, "manifests": [
           {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "svc-test-cluster2"},
            "spec": {"cidr": "10.235.0.0/18", "natOutgoing": false, "disabled": true}}]}]
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh.cluster import remote_ippools
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh.model import NAME as MESH


def vxlan_mesh_ippools(document, present=True):
    return remote_ippools(fabric_of(document, [MESH]), present)


class FilterModule:
    def filters(self):
        return {"vxlan_mesh_ippools": vxlan_mesh_ippools}
