# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options and attributes every leftover-cleanup module (kube_proxy_cleanup, kube_router_cleanup) shares.
    DOCUMENTATION = r"""
options:
  iptables_backends:
    description:
      - The iptables backends to clean, each in both families (C(iptables-nft-save),
        C(ip6tables-nft-save), C(iptables-legacy-save), C(ip6tables-legacy-save)). A backend whose
        tools are missing or whose tables are empty is skipped.
    type: list
    elements: str
    choices: [nft, legacy]
    default: [nft, legacy]
  ipset:
    description: Destroy the owner's ipsets (after the rules that use them are gone).
    type: bool
    default: true
attributes:
  check_mode: {support: full, description: Reads and reports what would be removed; changes nothing.}
  diff_mode: {support: full, description: "The iptables-save text of the affected tables before and after, per backend, and the other objects."}
"""
