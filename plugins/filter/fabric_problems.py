# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric_problems
short_description: Every problem in the fabric inventory, at once
version_added: 0.1.0
description:
  - One line per problem of the model, each naming the cluster, node and variable. An empty list
    means valid.
  - "Core checks: malformed or missing values, overlapping cluster CIDRs, node pod CIDRs outside
    their cluster or overlapping, duplicate node IPs, interface names the kernel refuses, a
    C(node_ip) outside its C(node_subnet), overlapping C(node_subnet)s that differ, pod and service
    ranges overlapping an underlay subnet; and, where the group variables can be seen (a play's
    C(hostvars), the inventory plugin), a host in two groups that set different C(cluster_name)s
    and one C(cluster_name) set by two unrelated groups."
  - "vxlan_mesh checks: duplicate vxlan IPs and MACs, vxlan IPs outside the mesh subnet,
    multicast, zero or broadcast MACs, VNI and port ranges, MTUs without room for the 50-byte vxlan
    overhead, mesh nodes disagreeing on VNI, port or subnet, a device name that a CNI, runtime or
    the kernel owns (C(flannel.*), C(vxlan.calico), C(tunl0), C(cali*), C(kube-*), C(cilium_*),
    C(docker*), C(cni*), C(lo), ...) or that is any node's C(node_interface), the VNI and port of
    the cluster's CNI (flannel C(flannel_vni)/8472, Calico 4096/4789), a mesh subnet overlapping an
    underlay subnet."
  - "flannel_hostgw checks: C(cluster_cni) is flannel or canal, every node of the cluster is in the
    group, one C(node_subnet) per cluster, the platform acknowledgement on cloud and openstack, the
    VNI."
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
options:
  facets:
    description:
      - Facets whose problems count, with the core's problems of their nodes and clusters. A cluster
        outside a facet's group is not part of that facet's fabric and does not block it.
      - Default, every facet and every core problem.
    type: list
    elements: str
  api_facets:
    description:
      - Facets whose run needs their clusters' APIs. A cluster of one of them with neither
        C(cluster_kubeconfig) nor C(cluster_kube_context) is a problem, unless it sets
        C(cluster_render_only) (the manifests are then only rendered, never applied).
      - "A list of facets, or C({facet: bool}) where the run's switch says whether it calls the API
        (vxlan_mesh only with C(vxlan_mesh_ippools))."
    type: raw
    default: []
"""

EXAMPLES = r"""
- name: Validate once, before any node is touched
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ node_base_fabric | nodenet.fabric.fabric_problems(['vxlan_mesh']) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: One line per problem, sorted; empty when the fabric is valid.
  type: list
  elements: str
  sample: ["cluster test-cluster2, node multicluster-test-003, vxlan_mesh_mac: 01:00:5e:00:00:01 is a multicast address; a unicast address is required"]
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model


def fabric_problems(document, facets=None, api_facets=None):
    if isinstance(api_facets, dict):
        api_facets = [f for f, calls in api_facets.items() if boolean(calls)]
    try:
        fabric = model.loads(document)
        return [str(e) for e in sorted(set(fabric.problems(facets)) | set(model.access_problems(fabric, api_facets or [])))]
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"fabric_problems": fabric_problems}
