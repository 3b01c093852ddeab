# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: flannel_unswitched
short_description: The clusters whose flanneld still runs another backend than host-gw
version_added: 0.7.0
description:
  - flanneld writes its backend on its Node (annotation C(flannel.alpha.coreos.com/backend-type))
    each time it starts. A cluster where any Node says something else than C(host-gw), or
    nothing, needs flanneld restarted with the new C(net-conf.json).
  - Takes the registered result of a C(kubernetes.core.k8s_info) read of each cluster's Nodes,
    looped over the items of P(nodenet.fabric.flannel_configmaps#filter).
options:
  _input:
    description: The registered loop result (its C(results)), or the list of results.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Restart flanneld where a Node does not say host-gw yet
  kubernetes.core.k8s:
    kubeconfig: "{{ item.kubeconfig }}"
    kind: DaemonSet
    name: "{{ item.daemonset.name }}"
    namespace: "{{ item.daemonset.namespace }}"
    state: patched
    definition: {spec: {template: {metadata: {annotations: {kubectl.kubernetes.io/restartedAt: "{{ now() }}"}}}}}
  loop: "{{ flannel_hostgw_nodes | nodenet.fabric.flannel_unswitched }}"
"""

RETURN = r"""
_value:
  description: The items of P(nodenet.fabric.flannel_configmaps#filter) whose cluster needs flanneld restarted.
  type: list
  elements: dict
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils import hostgw


def flannel_unswitched(read):
    results = read.get("results", []) if isinstance(read, dict) else read or []
    return hostgw.unswitched(results)


class FilterModule:
    def filters(self):
        return {"flannel_unswitched": flannel_unswitched}
