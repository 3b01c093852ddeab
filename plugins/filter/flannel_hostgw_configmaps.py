# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: flannel_hostgw_configmaps
short_description: flannel's net-conf.json with Backend host-gw, per cluster
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.flannel_configmaps) still works (deprecated).
  - For every cluster with a node in the flannel_hostgw group, the ConfigMap flanneld reads its backend from, with
    C(Backend.Type=host-gw) and C(Network=cluster_pod_cidr) (plus C(flannel_netconf_extra)).
  - flannel clusters get C(kube-flannel-cfg) in C(flannel_namespace) (default C(kube-flannel); set
    C(kube-system) for older manifests); canal clusters get C(canal-config) in C(kube-system).
  - Only the C(net-conf.json) key is rendered, so a server-side apply takes over that one field and
    keeps the ConfigMap's other keys.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
"""

EXAMPLES = r"""
- name: Render the ConfigMaps
  ansible.builtin.copy:
    content: "{{ item.manifests | map('to_nice_yaml') | join('---\n') }}"
    dest: "manifests/{{ item.cluster }}/flannel-hostgw.yml"
  loop: "{{ node_base_fabric | nodenet.fabric.flannel_hostgw_configmaps }}"
"""

RETURN = r"""
_value:
  description: One item per cluster with its C(cluster_kubeconfig) (or null), its manifests, and the
    DaemonSet (name, namespace) whose flanneld reads the ConfigMap.
  type: list
  elements: dict
  sample: [{"cluster": "edge", "kubeconfig": null, "manifests": [{"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "canal-config", "namespace": "kube-system"},
           "data": {"net-conf.json": "{\n  \"Backend\": {\n    \"Type\": \"host-gw\"\n  }, ...}"}}]}]
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.flannel_hostgw import model as hostgw
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of


def flannel_hostgw_configmaps(document):
    return hostgw.configmaps(fabric_of(document, [hostgw.NAME]))


class FilterModule:
    def filters(self):
        return {"flannel_hostgw_configmaps": flannel_hostgw_configmaps}
