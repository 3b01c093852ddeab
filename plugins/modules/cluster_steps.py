#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_steps
short_description: Run a facet's ordered cluster steps against each cluster's API
version_added: 0.8.0
description:
  - The cluster-side engine every role uses. It runs, in order, the steps a plan filter returns,
    each one action on one cluster's API.
  - C(apply) server-side applies the step's objects (field manager C(nodenet.fabric), or the
    step's C(field_manager); conflicts are forced only with C(force)) and, given C(prune), deletes
    the objects the label selector finds that the step no longer names.
  - C(delete) deletes objects that are there (C(propagation), and C(wait) until gone); C(wait)
    waits until each DaemonSet is ready on every node (C(until=ready)) or an object is gone
    (C(until=gone)); C(keep) keeps a copy of an object in a ConfigMap beside it, and C(restore)
    creates it again from that copy (waiting out one still being deleted); C(edit) sets one value
    in the YAML document a ConfigMap key holds; C(release) gives back what our field manager
    applied (keys under a prefix) on objects the step no longer names; C(restart) restarts a
    DaemonSet as C(kubectl rollout restart) does; C(check) reads objects and returns the problems
    of a facet's named check.
  - A step with C(file) first renders its objects into C(<folder>/<cluster>/<file>) (0600 when
    C(secret)), also for a cluster without API access (C(api=false), render only), where nothing
    else runs.
  - After a step fails, the steps of the same name on the other clusters still run, and nothing
    after them. The message has one line per cluster and object; tokens and passwords are
    redacted, and no Secret's value is ever returned.
  - An action plugin (the controller's own process, the kubernetes Python client).
author: nodenet.fabric developers (!UNKNOWN)
options:
  steps:
    description:
      - The steps, from a plan filter, each with C(cluster), C(kubeconfig), C(context), C(api),
        C(action), C(name) and the action's own keys (C(objects), C(file), C(secret), C(force),
        C(field_manager), C(prune), C(propagation), C(wait), C(until), C(copy), C(labels), C(key),
        C(path), C(value), C(kind), C(api_version), C(prefix), C(check), C(read)).
    type: list
    elements: dict
    required: true
  folder:
    description: The controller folder of the rendered manifests (C(node_base_manifest_dir)).
    type: path
  wait_timeout:
    description: Seconds any one wait may take (a rollout, a deletion).
    type: int
    default: 300
attributes:
  check_mode: {support: full, description: Applies as a server-side dry run and compares; deletes and waits nothing.}
  diff_mode: {support: full, description: Each changed object before and after (a Secret's values redacted) and each rendered file.}
  action: {support: full, description: Runs on the controller only.}
requirements: [kubernetes (the Python client, for its kubeconfig loader)]
notes:
  - Runs on the controller whatever the host; the roles call it with C(run_once).
"""

EXAMPLES = r"""
- name: Apply each cluster's pools and prune ours no longer named
  nodenet.fabric.cluster_steps:
    steps: "{{ node_base_fabric | nodenet.fabric.cluster_steps('vxlan_mesh', 'present') }}"
    folder: "{{ node_base_manifest_dir }}"
  run_once: true
"""

RETURN = r"""
changes:
  description: One line per object changed (in check mode, that would change), naming cluster, step and object.
  returned: always
  type: list
  elements: str
  sample: ["cluster east, pools: created IPPool pod-west"]
files:
  description: The rendered files written (in check mode, that would be written).
  returned: always
  type: list
  elements: str
problems:
  description: The problem lines of the C(check) steps (nothing is changed by a check).
  returned: always
  type: list
  elements: str
"""
