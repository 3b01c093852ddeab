# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: kube_router_install_node_plan
short_description: One kube-router node's CNI files, expected BGP peers and routes, from the fabric model
version_added: 0.8.0
description:
  - Its earlier name C(nodenet.fabric.kube_router_node_plan) still works (deprecated).
  - C(cni) is the node's CNI side, for P(nodenet.fabric.cni_config#module) - the conflist
    C(10-kuberouter.conflist) with the node's pod CIDR, byte for byte as kube-router writes it
    back at start, and the replaced CNI's files to set aside.
  - C(verify.sessions) are the peers kube-router gives the node - with route reflectors a
    client (C(kube-router.io/rr.client)) peers only with the reflectors and a reflector with
    every other node; without them every node peers with every other; every node peers with the
    routers of C(kube_router_peers).
  - C(verify.routes) are every other node's pod CIDR, via its IP when it shares the node's subnet.
  - C(cleanup) is what P(nodenet.fabric.kube_proxy_cleanup#module) reads (the service CIDR).
  - Fails with every problem of the core and kube_router_install facets when the model has any.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
  - nodenet.fabric.fabric_inventory.node_plan
"""

EXAMPLES = r"""
- name: kube-router's peers are the expected ones, all established
  nodenet.fabric.bgp_sessions:
    daemon: gobgp
    expected: "{{ (node_base_fabric | nodenet.fabric.kube_router_install_node_plan(inventory_hostname)).verify.sessions }}"
    timeout: 120
"""

RETURN = r"""
_value:
  description: The node's plan.
  type: dict
  contains:
    cluster: {description: The node's cluster., type: str}
    applied: {description: Whether the cluster has a kubeconfig (its objects are applied)., type: bool}
    cni: {description: "The CNI side: dir, backup_dir, file, content, replaced.", type: dict}
    replace_kube_proxy: {description: Whether kube-proxy leaves the node., type: bool}
    cleanup: {description: What the kube-proxy cleanup reads., type: dict}
    verify: {description: "Expected sessions [{ip, asn, kind, node}] and routes [{dst, via, node}].", type: dict}
  sample: {"cluster": "k8s", "applied": true, "replace_kube_proxy": true,
           "verify": {"sessions": [{"ip": "172.26.6.2", "asn": 64512, "kind": "node", "node": "k8s-2"}],
                      "routes": [{"dst": "10.244.1.0/24", "via": "172.26.6.2", "node": "k8s-2"}], "router": true}}
"""

from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import model as kube_router
from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import plan as kube_router_plan
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of


def kube_router_install_node_plan(document, host):
    return kube_router_plan.node_plan(fabric_of(document, [kube_router.NAME], host, kube_router.NAME), host)


class FilterModule:
    def filters(self):
        return {"kube_router_install_node_plan": kube_router_install_node_plan}
