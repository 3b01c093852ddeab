# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric_roles
short_description: The collection's roles with a facet, in the order site.yml runs them
version_added: 0.8.0
description:
  - Each facet of the fabric model is one package with a role of the same name; this returns
    those roles, in the order of their facets (the facet registry).
  - The AWX job templates playbook makes one job template per role from it.
author: nodenet.fabric developers (!UNKNOWN)
options: {}
"""

EXAMPLES = r"""
- name: One line per role
  ansible.builtin.debug:
    msg: "{{ item }}"
  loop: "{{ lookup('nodenet.fabric.fabric_roles', wantlist=True) }}"
"""

RETURN = r"""
_raw:
  description: The role names.
  type: list
  elements: str
  sample: [vxlan_mesh, flannel_hostgw, calico_bgp_rr, kube_router_install]
"""

from ansible.plugins.lookup import LookupBase

from ansible_collections.nodenet.fabric.plugins.plugin_utils.registry import ROLE_NAMES


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return list(ROLE_NAMES)
