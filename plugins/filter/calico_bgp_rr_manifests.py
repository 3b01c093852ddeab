# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: calico_bgp_rr_manifests
short_description: One step of calico_bgp_rr's Kubernetes objects, per cluster
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.calico_bgp_manifests) still works (deprecated).
  - The objects of one step of the outage-free order, for every cluster of the calico_bgp_rr group.
  - C(as) gives BGPConfiguration C(default) with C(asNumber) alone, applied first (by a field
    manager of its own) so that external peers see the cluster's AS before they are expected up.
  - C(reflectors) gives every Node of the cluster; a route reflector carries the label
    C(route-reflector=true) and the annotation C(projectcalico.org/RouteReflectorClusterID) (how
    Calico's Kubernetes datastore stores C(spec.bgp.routeReflectorClusterID)); any other node
    carries neither, so server-side apply releases them when a node stops being a reflector.
  - C(peers) gives the BGPPeers (C(peer-with-route-reflectors) with C(nodeSelector all()) and
    C(peerSelector route-reflector == 'true'), and one per external peer), and, when a peer has a
    C(password_file), the Secret C(calico_bgp_password_secret) with one key per peer, read from
    that file on the controller, and the Role and
    RoleBinding that let calico-node read it. Its items carry C(prune), the selector of the
    BGPPeers we own.
  - C(config) gives BGPConfiguration C(default) (C(asNumber), C(nodeToNodeMeshEnabled) off when
    the cluster has route reflectors), the IPPool's C(ipipMode), C(vxlanMode) and C(natOutgoing),
    calico-config's C(calico_backend=bird) and calico-node's C(CALICO_IPV4POOL_IPIP),
    C(CALICO_IPV4POOL_VXLAN), C(FELIX_IPINIPENABLED) and C(FELIX_VXLANENABLED).
  - Fails with every problem of the core and calico_bgp_rr facets when the model has any.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.peer_secrets
options:
  step:
    description: Which step.
    type: str
    required: true
    choices: [as, reflectors, peers, config]
  topology:
    description: Only the clusters whose target is the full mesh (C(mesh)) or route reflectors
      (C(reflectors)); the role applies C(config) first for the former and last for the latter.
    type: str
    choices: [mesh, reflectors]
"""

EXAMPLES = r"""
- name: Render each cluster's BGPPeers
  ansible.builtin.copy:
    content: "{{ item.manifests | map('to_nice_yaml') | join('---\n') }}"
    dest: "out/{{ item.cluster }}-bgp-peers.yml"
    mode: "0600"
  loop: "{{ node_base_fabric | nodenet.fabric.calico_bgp_rr_manifests('peers') }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: One item per cluster of the group, with its C(cluster_kubeconfig) (or null), the
    manifests of the step and, for C(peers), the C(prune) selector of the BGPPeers we own.
  type: list
  elements: dict
  sample: [{"cluster": "k8s", "kubeconfig": null, "manifests": [
           {"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer", "metadata": {"name": "rr-peer"},
            "spec": {"peerIP": "172.31.13.116", "asNumber": 7675, "nodeSelector": "route-reflector == 'true'"}}]}]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import model as bgp
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import cluster as bgp_resources
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of


def calico_bgp_rr_manifests(document, step, topology=None, secrets=None):
    if step not in bgp_resources.STEPS:
        raise AnsibleFilterError("step %r is not one of %s" % (step, ", ".join(bgp_resources.STEPS)))
    if topology not in (None, "mesh", "reflectors"):
        raise AnsibleFilterError("topology %r is not mesh or reflectors" % (topology,))
    return bgp_resources.manifests(fabric_of(document, [bgp.NAME]), step, topology, secrets)


class FilterModule:
    def filters(self):
        return {"calico_bgp_rr_manifests": calico_bgp_rr_manifests}
