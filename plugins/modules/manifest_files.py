#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: manifest_files
short_description: Write each cluster's rendered manifests on the controller, in one step
version_added: 0.8.0
description:
  - Writes every item's manifests as one YAML file of documents, C(<folder>/<cluster>/<file>), on
    the controller, and only where the text or the mode differs.
  - An action plugin that runs in the controller's own process, so a role's cluster side renders
    all its clusters without a module run per file. The roles call it through
    C(node_base) C(tasks_from=manifests), before the server-side apply.
author: nodenet.fabric developers (!UNKNOWN)
options:
  items:
    description: The plan filter's items, each with C(cluster) and its C(manifests) (a list of objects).
    type: list
    elements: dict
    required: true
  folder:
    description: The controller folder that holds one folder per cluster (C(node_base_manifest_dir)).
    type: path
    required: true
  file:
    description: The file name within each cluster's folder.
    type: str
    required: true
  secret:
    description: The manifests hold a secret; the files are 0600 and no diff is returned.
    type: bool
    default: false
attributes:
  check_mode: {support: full, description: Reports what would be written and writes nothing.}
  diff_mode: {support: full, description: Each changed file before and after (not when O(secret)).}
  action: {support: full, description: Runs on the controller only.}
notes:
  - Runs on the controller whatever the host; the roles also delegate it to C(localhost).
"""

EXAMPLES = r"""
- name: Render each cluster's pools
  nodenet.fabric.manifest_files:
    items: "{{ node_base_fabric | nodenet.fabric.calico_ippools(true) }}"
    folder: "{{ playbook_dir }}/manifests"
    file: vxlan-mesh-ippools.yml
  run_once: true
"""

RETURN = r"""
files:
  description: The files written (in check mode, that would be written).
  returned: always
  type: list
  elements: str
  sample: [/srv/fabric/manifests/east/vxlan-mesh-ippools.yml]
"""
