# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: peer_secrets
short_description: The run's value of every BGP peer password given by variable (password_var)
version_added: 0.8.0
description:
  - A peer of C(calico_bgp_peers) or C(kube_router_peers) may name, in C(password_var), a variable
    holding its password, for example one encrypted with Ansible Vault or an extra variable an AWX
    credential injects. The model keeps only that name; this filter reads each named variable from
    the first node of every cluster that names it, in the run, and returns the values for the
    rendering filters (their C(secrets) option).
  - Use the result only in tasks with C(no_log). The fabric model filter already refused a missing
    or malformed value, or one that differs between clusters, naming the cluster and the variable.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory
options:
  hostvars:
    description: C(hostvars).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Configure a ToR whose peers' passwords come from vaulted variables
  nodenet.fabric.frr_bgp:
    asn: "{{ router.asn }}"
    router_id: "{{ router.router_id }}"
    neighbors: "{{ router.neighbors }}"
  vars:
    router: "{{ node_base_fabric | nodenet.fabric.tor_router_state(inventory_hostname,
                secrets=node_base_fabric | nodenet.fabric.peer_secrets(hostvars)) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: "{variable name: password}; empty when no peer names a variable."
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor.model import resolve
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import fabric_of


def peer_secrets(document, hostvars):
    values, problems = resolve(fabric_of(document, facets=()), hostvars)
    if problems:
        raise AnsibleFilterError("\n".join(str(p) for p in problems))
    return values


class FilterModule:
    def filters(self):
        return {"peer_secrets": peer_secrets}
