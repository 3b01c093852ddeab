#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cni_config
short_description: Write a node's CNI conflist and set the replaced CNI's config files aside, with a copy for rollback
version_added: 0.5.0
description:
  - With O(state=present), writes O(file) in O(dir) when its bytes differ, and with O(set_aside)
    moves each file of O(replaced) (named, never a glob) from O(dir) to O(backup_dir), so the
    kubelet stops choosing the replaced CNI while a copy stays for rollback.
  - With O(state=absent) (rollback), moves the kept copies back and removes O(file).
  - Never overwrites a file that differs - a file set aside twice with other bytes, or a restore
    over a changed file, fails the task and changes nothing.
  - Any other file in O(dir) is left alone.
author: nodenet.fabric developers (!UNKNOWN)
options:
  dir: {description: The CNI config directory., type: path, default: /etc/cni/net.d}
  backup_dir: {description: Where the replaced files are kept., type: path, required: true}
  file: {description: Our conflist's file name., type: str, required: true}
  content: {description: Our conflist's exact bytes (text)., type: str, required: true}
  replaced: {description: File names of the CNI being replaced., type: list, elements: str, default: []}
  set_aside: {description: Move the replaced files now (O(state=present))., type: bool, default: false}
  state:
    description: V(present) writes our file (and sets the replaced files aside), V(absent) restores them.
    type: str
    choices: [present, absent]
    default: present
  root: {description: A prefix for every path (the lab gives each node its own)., type: str, default: ""}
attributes:
  check_mode: {support: full, description: Reports the steps and changes nothing.}
  diff_mode: {support: full, description: The directory's file names before and after.}
"""

EXAMPLES = r"""
- name: Our conflist in place, flannel's set aside
  nodenet.fabric.cni_config:
    file: 10-kuberouter.conflist
    content: "{{ plan.cni.content }}"
    backup_dir: /var/lib/nodenet-fabric/cni-replaced
    replaced: [10-flannel.conflist]
    set_aside: true
"""

RETURN = r"""
steps:
  description: What was (or, in check mode, would be) done, in order.
  returned: always
  type: list
  elements: str
  sample: ["write /etc/cni/net.d/10-kuberouter.conflist",
           "set aside /etc/cni/net.d/10-flannel.conflist -> /var/lib/nodenet-fabric/cni-replaced/10-flannel.conflist"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nodenet.fabric.plugins.module_utils import cni_files


def describe(step):
    action, source, target = step
    if action == "write":
        return "write %s" % target
    if action == "remove":
        return "remove %s" % source
    return "%s %s -> %s" % (action, source, target)


def main():
    module = AnsibleModule(argument_spec=dict(
        dir=dict(type="path", default="/etc/cni/net.d"), backup_dir=dict(type="path", required=True),
        file=dict(type="str", required=True), content=dict(type="str", required=True),
        replaced=dict(type="list", elements="str", default=[]), set_aside=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"), root=dict(type="str", default="")),
        supports_check_mode=True)
    p = module.params
    conf_dir, backup_dir = (p["root"] + p["dir"]).rstrip("/") or "/", (p["root"] + p["backup_dir"]).rstrip("/") or "/"
    ours = conf_dir.rstrip("/") + "/" + p["file"]
    old = cni_files.read(ours)
    before = cni_files.view(conf_dir, p["file"], cni_files.names(conf_dir), old and old.decode(errors="replace"))
    try:
        steps = cni_files.plan(conf_dir, backup_dir, p["file"], p["content"], p["replaced"], p["state"], p["set_aside"])
        after = cni_files.view(conf_dir, p["file"], cni_files.after_names(conf_dir, steps),
                               p["content"] if p["state"] == "present" else None)
        cni_files.apply(steps, p["content"], module.check_mode)
    except cni_files.Conflict as exc:
        module.fail_json(msg=str(exc), changed=False)
    except (IOError, OSError) as exc:
        now = cni_files.read(ours)
        after = cni_files.view(conf_dir, p["file"], cni_files.names(conf_dir), now and now.decode(errors="replace"))
        module.fail_json(msg="%s" % exc, changed=after != before)
    result = {"changed": bool(steps), "steps": [describe(s) for s in steps]}
    if module._diff:
        result["diff"] = {"before": before, "after": after, "before_header": conf_dir, "after_header": conf_dir}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
