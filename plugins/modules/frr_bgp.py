#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: frr_bgp
short_description: Bring the BGP neighbors and policies nodenet.fabric owns on an FRR router to a desired state
version_added: 0.4.0
description:
  - Reads FRR's running configuration through C(vtysh), changes only what is ours, and saves it.
  - "Ownership: BGP neighbors whose description starts with C(nodenet.fabric), and prefix-lists and
    route-maps named C(NODENET-*). Other neighbors, policies and daemons are never the subject of a
    command; a neighbor of ours that is no longer wanted is removed."
  - Refuses, changing nothing, when the router already runs BGP with another AS, or when a wanted
    neighbor exists and is not ours.
  - A neighbor whose settings differ is removed and added again (its session restarts); an
    unchanged neighbor is not touched, so its session stays up.
author: nodenet.fabric developers (!UNKNOWN)
options:
  asn:
    description: The router's own AS (created with O(router_id) when the router has no BGP yet).
    type: int
    required: true
  router_id:
    description: The BGP router ID used when the router has no BGP instance yet.
    type: str
  neighbors:
    description: Our neighbors.
    type: list
    elements: dict
    default: []
    suboptions:
      ip: {description: "The neighbor's address, IPv4 or IPv6 (its address family: C(ipv6 unicast) is activated for it).", type: str, required: true}
      remote_as: {description: Its AS., type: int, required: true}
      description: {description: Must start with C(nodenet.fabric)., type: str, required: true}
      in: {description: Route-map applied to what it sends., type: str, required: true}
      out: {description: Route-map applied to what we send., type: str, required: true}
      in6:
        description:
          - An IPv4 neighbor only - also activate C(address-family ipv6 unicast) on its session (MP-BGP), with
            this route-map applied to the IPv6 routes it sends (kube-router carries both families over one session).
        type: str
      multihop: {description: The neighbor is not on a shared subnet (C(ebgp-multihop)), type: bool, default: false}
      password: {description: TCP MD5 password (never logged)., type: str}
  prefix_lists:
    description: Our prefix-lists; each prefix is accepted with any longer mask (C(le 32), C(le 128) for IPv6).
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: C(NODENET-*)., type: str, required: true}
      prefixes: {description: "CIDRs of one family (an C(ipv6 prefix-list) when IPv6).", type: list, elements: str, required: true}
  route_maps:
    description: Our route-maps, one entry (sequence 10) each.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: C(NODENET-*)., type: str, required: true}
      action: {description: permit or deny., type: str, choices: [permit, deny], required: true}
      match: {description: Prefix-list to match., type: str}
  state:
    description: C(absent) removes every neighbor, prefix-list and route-map of ours.
    type: str
    choices: [present, absent]
    default: present
  vtysh:
    description: The vtysh command line (a router in a network namespace, a non-default socket
      directory, C(--vty_socket DIR --config_dir DIR)).
    type: list
    elements: str
    default: [vtysh]
  save:
    description: Save the running configuration (C(write memory)) after a change.
    type: bool
    default: true
attributes:
  check_mode: {support: full, description: Computes the commands and changes nothing.}
  diff_mode:
    support: full
    description: Our part of the configuration before and after, passwords masked.
requirements: [FRR (vtysh, bgpd)]
"""

EXAMPLES = r"""
- name: The ToR peers with the route reflectors of cluster k8s
  nodenet.fabric.frr_bgp:
    asn: 7675
    router_id: 172.31.13.116
    neighbors:
      - {ip: 172.31.13.27, remote_as: 64512, description: nodenet.fabric k8s k8s-1,
         in: NODENET-k8s-IN, out: NODENET-k8s-OUT}
    prefix_lists: [{name: NODENET-k8s-IN, prefixes: [172.27.208.0/22]}]
    route_maps:
      - {name: NODENET-k8s-IN, action: permit, match: NODENET-k8s-IN}
      - {name: NODENET-k8s-OUT, action: deny}
"""

RETURN = r"""
commands:
  description: The configuration commands run (or, in check mode, that would run), passwords masked.
  returned: always
  type: list
  elements: str
neighbors:
  description: The neighbors of ours after the run.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nodenet.fabric.plugins.module_utils import frr


def vtysh(module, *commands):
    argv = list(module.params["vtysh"])
    for command in commands:
        argv += ["-c", command]
    rc, out, err = module.run_command(argv)
    return rc, out, err


def running(module):
    rc, out, err = vtysh(module, "show running-config")
    if rc != 0:
        module.fail_json(msg="vtysh show running-config failed: %s" % (err or out).strip(), changed=False)
    return frr.parse(out)


def main():
    neighbor = dict(ip=dict(type="str", required=True), remote_as=dict(type="int", required=True),
                    description=dict(type="str", required=True), multihop=dict(type="bool", default=False),
                    password=dict(type="str", no_log=True),
                    in6=dict(type="str"),
                    **{"in": dict(type="str", required=True), "out": dict(type="str", required=True)})
    module = AnsibleModule(
        argument_spec=dict(
            asn=dict(type="int", required=True), router_id=dict(type="str"),
            neighbors=dict(type="list", elements="dict", default=[], options=neighbor),
            prefix_lists=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), prefixes=dict(type="list", elements="str", required=True))),
            route_maps=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), action=dict(type="str", required=True, choices=["permit", "deny"]),
                match=dict(type="str"))),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            vtysh=dict(type="list", elements="str", default=["vtysh"]),
            save=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    args = module.params
    present = args["state"] == "present"
    before = running(module)
    problems = frr.problems(args, before) if present else []
    if problems:
        module.fail_json(msg="refusing to change the router: " + "; ".join(problems), changed=False,
                         problems=problems)
    commands = frr.commands(args, before, present)
    masked = [frr.mask(c) for c in commands]
    result = {"changed": bool(commands), "commands": masked}
    want = frr.desired(args) if present else frr.EMPTY
    if module._diff:
        result["diff"] = {"before": frr.render(frr.owned(before, args)), "after": frr.render(want)}
    if commands and not module.check_mode:
        rc, out, err = vtysh(module, "configure terminal", *commands)
        after = running(module)
        result["changed"] = frr.owned(after, args) != frr.owned(before, args)
        if rc != 0 or frr.owned(after, args if present else None) != want:
            module.fail_json(msg="vtysh did not reach the desired state: %s" % frr.mask((err or out).strip()),
                             **result)
        if args["save"]:
            rc, out, err = vtysh(module, "write memory")
            if rc != 0:
                module.fail_json(msg="write memory failed: %s" % (err or out).strip(), **result)
        before = after
    result["neighbors"] = sorted(want["neighbors"]) if commands and not module.check_mode else frr.owned_neighbors(before)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
