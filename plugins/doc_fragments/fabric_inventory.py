# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the fabric filters."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  _input:
    description:
      - The fabric model document, C(node_base_fabric), read once per run from the whole inventory by
        the P(nodenet.fabric.fabric#inventory) inventory plugin or by P(nodenet.fabric.fabric_model#filter).
      - It holds every node of the inventory, not only the play's hosts, so C(--limit) changes nothing.
      - A model with problems in the core or in the filter's facet makes the filter fail with every
        problem at once.
    type: str
    required: true
"""

    PLAY_RESULTS = r"""
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts whose registered results are read, normally C(ansible_play_hosts_all), or C(ansible_play_batch) under C(serial).
    type: list
    elements: str
    required: true
"""

    ROLE_STEPS = r"""
options:
  role:
    description: The role (vxlan_mesh, flannel_hostgw, calico_bgp_rr, kube_router_install).
    type: str
    required: true
  state:
    description: The role's state; C(absent) is the removal, or the rollback order where the role has one.
    type: str
    default: present
  options:
    description: The role's switches its steps depend on (flannel_hostgw's C(restart_flanneld), kube_router_install's C(kube_proxy_backup)).
    type: dict
"""

    NODE_PLAN = r"""
options:
  host:
    description: The node, usually C(inventory_hostname).
    type: str
    required: true
notes:
  - "C(reconcile) is the node's desired state as one JSON string, passed whole to
    M(nodenet.fabric.reconcile) as O(nodenet.fabric.reconcile#module:desired). Ansible copies one
    string per host cheaply but walks every value of a nested structure; for 1,000 mesh nodes a
    plan held as nested data took 90 s, as a string 21 s. Read it with C(from_json)."
"""

    BGP_HOST = r"""
options:
  host:
    description: The router or client host (of group C(bgp_routers) or C(bgp_clients)), usually C(inventory_hostname).
    type: str
    required: true
notes:
  - Fails with every problem of the core, calico_bgp_rr, bgp_routers and bgp_clients facets.
"""

    PEER_SECRETS = r"""
options:
  secrets:
    description: The run's value of each peer's C(password_var) (the P(nodenet.fabric.peer_secrets#filter) filter's result).
    type: dict
    default: {}
"""
