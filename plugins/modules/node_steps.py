#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_steps
short_description: Run a role's node steps on one host, in order, each a module of this collection
version_added: 0.8.0
description:
  - The node-side engine the BGP roles use. It runs, in order, the steps the
    P(nodenet.fabric.node_steps#filter) filter returns for the host, each a module of this
    collection with the arguments its plan gives (a desired document, never repeated in YAML).
  - A step may always run in check mode (a read, a wait on what something else makes), run
    again until a condition holds (a cleanup while a terminating agent syncs once more), run
    only when an earlier result says so (on any host of the play, for the stage before), or be
    skipped in check mode (a wait for what a check run never makes).
  - A failed step stops the rest and fails the task naming it, except a read, whose result is
    kept. A step whose arguments hold passwords returns only changed, failed, msg and diff, with
    every password masked, and its module runs with no_log.
  - An action plugin; each step is an ordinary module run on the host (with the task's become).
author: nodenet.fabric developers (!UNKNOWN)
options:
  steps:
    description:
      - The steps, from P(nodenet.fabric.node_steps#filter), each with C(name), C(module),
        C(args), C(key) and the optional C(check), C(read), C(until), C(timeout), C(delay),
        C(only_if), C(live_only), C(report), C(secret).
    type: list
    elements: dict
    required: true
  stage:
    description:
      - The stage these steps belong to; the host keeps whether each step changed or failed in
        the fact C(node_base_node_results) under it (C(start) begins it anew), where a later
        stage's C(only_if) reads them for every host of the play.
    type: str
attributes:
  check_mode: {support: full, description: Every step runs in check mode; steps marked live_only are skipped.}
  diff_mode: {support: full, description: The diffs of the steps that change something.}
  action: {support: full, description: Runs the modules on the host through the task's connection.}
"""

EXAMPLES = r"""
- name: This node's steps of kube-router's install, up to the gate where every node peers
  nodenet.fabric.node_steps:
    steps: "{{ node_base_fabric | nodenet.fabric.node_steps('kube_router_install', 'present', none, inventory_hostname) }}"
  become: true
"""

RETURN = r"""
steps:
  description: Each step's module result, by the step's key (a secret step's cut to changed, failed, msg and diff).
  returned: always
  type: dict
  sample: {"cni_config": {"changed": true, "written": ["/etc/cni/net.d/10-kuberouter.conflist"]}}
module_runs:
  description: How many module runs the steps took (a step run again until its condition holds counts each run).
  returned: always
  type: int
report:
  description: What the steps marked C(report) say (a session table), by key.
  returned: when a step reports
  type: dict
step:
  description: The name of the step that failed.
  returned: on failure
  type: str
"""
