# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: node_failures
short_description: Every node whose registered reconcile result failed, so one node stops the whole run
version_added: 0.3.0
description:
  - Takes the registered results of a C(nodenet.fabric.reconcile) task on every host of the play
    and returns one line per node whose result failed (in the preflight, a foreign device or route
    in the way, a missing underlay device, a VNI and port another device holds; in the apply, a
    line the kernel refused), or that has no result at all (unreachable, or failed before it).
  - Roles run it once (C(run_once)) after the preflight, so that no node changes when any node
    would refuse, and after the apply, so that the other nodes give back their state.
extends_documentation_fragment:
  - nodenet.fabric.fabric_inventory.play_results
options:
  result:
    description:
      - The name the results were registered as, or a list of names checked in order for each host
        (a node's first failed result is reported, and its later results are not asked for).
      - An entry of the list may itself be a list of names, of which each host has one (its kind's,
        a node's preflight or a router's); the first one the host has is read.
      - A result with a C(problems) list gives one line per problem.
    type: raw
    required: true
  skipped_ok:
    description: A host whose task was skipped (by its C(when)) passed, instead of having no result.
    type: bool
    default: false
  clusters:
    description:
      - The registered result of M(nodenet.fabric.cluster_steps) running a role's
        P(nodenet.fabric.cluster_checks#filter) (the same on every host, run once); its problems and
        failures (one line per cluster and object) come first.
    type: dict
"""

EXAMPLES = r"""
- name: Stop every node if any node's preflight failed
  ansible.builtin.fail:
    msg: "{{ failures | join('\n') }}"
  vars:
    failures: "{{ hostvars | nodenet.fabric.node_failures(ansible_play_hosts_all, 'node_base_preflight_result') }}"
  when: failures | length > 0
  run_once: true
  any_errors_fatal: true
"""

RETURN = r"""
_value:
  description: One line per node that failed its preflight, sorted by node; empty when all passed.
  type: list
  elements: str
  sample: ["node edge-2: device flannel.1 exists and is of kind vxlan ..."]
"""


import re


def node_failures(hostvars, hosts, result, skipped_ok=False, clusters=None):
    """One line per problem of each cluster (`clusters`, the checks' result) and of each host;
    `result` may name several registered results, checked in order: one that failed is reported,
    and a later one without a result then is not."""
    names = [result] if isinstance(result, str) else list(result)
    lines = cluster_lines(clusters)
    for host in sorted(hosts):
        failed = False
        for name in names:
            found = first_result(hostvars[host], name) if host in hostvars else None
            if skipped_ok and isinstance(found, dict) and found.get("skipped"):
                continue
            if not isinstance(found, dict) or found.get("skipped") and "failed" not in found:
                if not failed:
                    lines.append("node %s: no result (unreachable, or it failed before this step)" % host)
                break
            if found.get("failed") or "msg" in found:  # failed_when: false clears `failed`; our modules set msg only on failure
                lines.extend("node %s: %s" % (host, line) for line in failure_lines(found))
                failed = True
    return lines


def first_result(facts, name):
    """The host's result of that name; for a list of names, the first one the host has (a play
    whose hosts keep their result under their kind's name: a node's, a router's)."""
    if isinstance(name, str):
        return facts.get(name)
    found = [facts.get(n) for n in name if isinstance(facts.get(n), dict) and not facts.get(n).get("skipped")]
    return found[0] if found else None


def cluster_lines(found):
    if not isinstance(found, dict) or found.get("skipped"):
        return []
    lines = [str(p) for p in found.get("problems") or []]
    if found.get("failed") or "msg" in found:  # failed_when: false clears `failed`; the engine sets msg only on failure
        lines += str(found.get("msg") or "the cluster checks failed").splitlines()
    return lines


def failure_lines(found):
    """The module's own problems, or what stopped it before it ran (a become or Python failure
    leaves only Ansible's MODULE FAILURE and the node's stderr)."""
    problems = found.get("problems")
    if isinstance(problems, list) and problems and found.get("msg") == "; ".join(str(p) for p in problems):
        return [str(p) for p in problems]  # the message is only the problems: one line each
    msg = str(found.get("msg") or "it failed")
    msg = msg[len("Task failed: "):] if msg.startswith("Task failed: ") else msg
    if msg.startswith("MODULE FAILURE") or found.get("unreachable"):
        stderr = [line.strip() for line in str(found.get("module_stderr") or "").splitlines() if line.strip()]
        msg = stderr[-1] if stderr else msg.splitlines()[0]
        if not BECOME_FAILED.search(msg):
            return ["the module did not run: %s" % msg]
    if BECOME_FAILED.search(msg):
        return ["become did not give root (%s): the SSH user needs sudo without a password here, or give "
                "ansible_become_password" % msg.splitlines()[0]]
    return [msg]


# What Ansible's become plugins and sudo say when escalation fails before the module runs.
BECOME_FAILED = re.compile(r"(missing|incorrect) (sudo|su|doas|become) password|a password is required|"
                           r"is not in the sudoers|not allowed to execute|privilege escalation", re.I)


class FilterModule:
    def filters(self):
        return {"node_failures": node_failures}
