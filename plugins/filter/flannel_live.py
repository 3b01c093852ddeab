# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: flannel_live
short_description: What the clusters' API says of flanneld, for flannel_hostgw
version_added: 0.7.0
description:
  - C(flannel_live_problems) takes a C(kubernetes.core.k8s_info) read of each cluster's Nodes,
    looped over the items of P(nodenet.fabric.flannel_configmaps#filter), and returns every reason
    the switch cannot work, before any node changes - a node of the inventory that is no Node of
    its cluster, and a flanneld that announces another address (C(flannel.alpha.coreos.com/public-ip))
    than the node's C(node_ip).
  - C(flannel_restarts) also takes the read of each cluster's flanneld DaemonSet and the clusters
    whose C(net-conf.json) changed, and returns the items whose flanneld must restart - net-conf.json
    changed, or a node's C(flannel.alpha.coreos.com/backend-type) says another backend than
    host-gw - but never one whose DaemonSet is still rolling out.
  - Both are provided by this one file; call them as C(nodenet.fabric.flannel_live_problems) and
    C(nodenet.fabric.flannel_restarts).
options:
  _input:
    description: The registered loop result of the Node reads (its C(results)), or the list of results.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse what the clusters' API says the switch cannot work with
  ansible.builtin.fail:
    msg: "{{ flannel_hostgw_nodes | nodenet.fabric.flannel_live_problems | join('\n') }}"
  when: flannel_hostgw_nodes | nodenet.fabric.flannel_live_problems | length > 0

- name: Restart flanneld where it must
  kubernetes.core.k8s:
    kubeconfig: "{{ item.kubeconfig }}"
    kind: DaemonSet
    name: "{{ item.daemonset.name }}"
    namespace: "{{ item.daemonset.namespace }}"
    state: patched
    definition: {spec: {template: {metadata: {annotations: {kubectl.kubernetes.io/restartedAt: "{{ now() }}"}}}}}
  loop: "{{ flannel_hostgw_nodes | nodenet.fabric.flannel_restarts(flannel_hostgw_daemonsets, ['edge']) }}"
"""

RETURN = r"""
_value:
  description: flannel_live_problems - one line per problem; flannel_restarts - the items to restart.
  type: list
  elements: raw
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils import hostgw


def results(read):
    return read.get("results", []) if isinstance(read, dict) else read or []


def flannel_live_problems(node_reads):
    return hostgw.live_problems(results(node_reads))


def flannel_restarts(node_reads, daemonset_reads, changed=None):
    return hostgw.restarts(results(node_reads), results(daemonset_reads), set(changed or []))


class FilterModule:
    def filters(self):
        return {"flannel_live_problems": flannel_live_problems, "flannel_restarts": flannel_restarts}
