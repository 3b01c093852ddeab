#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: reconcile
short_description: Bring a node's device, neighbors, FDB, nexthops and routes to a desired state
version_added: 0.1.0
description:
  - Reads the kernel state with C(ip -json) and C(bridge -json), compares it with the desired
    state, and applies the difference with batch processes (C(ip -batch) and C(bridge -batch)),
    never one process per entry.
  - Entries are added in the order ARP, FDB, route, with replace semantics; stale entries are
    removed after the adds.
  - "Ownership: the managed device with every permanent neighbor and FDB entry on it, and routes
    in O(route_table) and nexthop objects whose protocol is O(route_protocol). Nothing else is
    changed or removed."
  - The device is recreated only when its VNI, port, local IP, underlay device or learning flag
    differ; RV(device_recreated) says why.
  - Needs only python3's standard library and iproute2 on the node.
author: nodenet.fabric developers (!UNKNOWN)
options:
  desired:
    description:
      - The whole desired state as one JSON document (or dict) with the keys of the options below
        (O(device), O(neighbors), O(fdb), O(routes), O(route_protocol), ...), as the plan filters
        return it in C(reconcile). Give either this or those options.
      - O(state) and O(persist) are taken from the task when the document does not set them.
    type: json
  device:
    description:
      - The managed device. Omit to manage routes only.
    type: dict
    suboptions:
      name: {description: Interface name., type: str, required: true}
      kind:
        description: Device kind; vxlan needs O(device.vni), O(device.port), O(device.local) and O(device.underlay).
        type: str
        default: vxlan
        choices: [vxlan, bridge, dummy]
      vni: {description: VXLAN network identifier (vxlan only)., type: int}
      port: {description: UDP destination port (vxlan only)., type: int}
      local:
        description: Local underlay IP, the node IP, IPv4 or IPv6 (vxlan only).
        type: str
      underlay: {description: Underlay interface (vxlan only)., type: str}
      learning: {description: Whether the device learns FDB entries., type: bool, default: false}
      mtu: {description: Device MTU., type: int, required: true}
      mac: {description: Device MAC address., type: str, required: true}
      address:
        description:
          - The device's addresses with their prefix length, at most one per family, for example
            C([179.17.1.21/24, fd17:1::15/64]); one address may be given as a string. IPv6 addresses
            are added without duplicate address detection (the plan makes them unique).
        type: list
        elements: str
        required: true
  neighbors:
    description: Permanent neighbor entries on the device (ARP for IPv4, NDP for IPv6).
    type: list
    elements: dict
    default: []
    suboptions:
      ip: {description: Peer IP on the device., type: str, required: true}
      mac: {description: Peer MAC., type: str, required: true}
  fdb:
    description: Permanent FDB entries on the device (peer MAC to peer underlay IP).
    type: list
    elements: dict
    default: []
    suboptions:
      mac: {description: Peer MAC., type: str, required: true}
      dst: {description: Peer underlay IP., type: str, required: true}
  routes:
    description: Routes that carry O(route_protocol).
    type: list
    elements: dict
    default: []
    suboptions:
      dst: {description: Destination CIDR (IPv4 or IPv6; IPv6 routes are read with C(ip -6))., type: str, required: true}
      via: {description: Gateway., type: str, required: true}
      dev: {description: Output device., type: str, required: true}
      onlink: {description: Add the route with the onlink flag., type: bool, default: false}
      handover:
        description:
          - Makes the route a bridge to another agent's route, the successor (for example
            flanneld's host-gw route to a node's whole pod CIDR, bridged by two more specific
            routes of ours). The route is wanted until a route with this destination, gateway
            and device and another protocol is in the table; from then on it is not, and ours
            goes (the successor already carries the traffic, so nothing is lost).
        type: dict
        suboptions:
          dst: {description: The successor's destination., type: str, required: true}
          via: {description: The successor's gateway., type: str, required: true}
          dev: {description: The successor's device., type: str, required: true}
  handover_wait:
    description:
      - Seconds to wait, reading the table again every second, until every O(routes[].handover)
        successor is there, before anything changes. When they are not all there in time, the call
        fails and changes nothing. C(0) does not wait. In check mode nothing waits, and the result
        shows the run after the handover (RV(handover_pending) says what it waits for).
      - O(retire_devices) go only once no route waits for its successor any more.
    type: int
    default: 0
  route_protocol:
    description: Route protocol number that marks the routes this call owns. Required unless O(desired) sets it.
    type: int
  route_table:
    description: Routing table, by number or as C(main).
    type: str
    default: main
  route_metric:
    description:
      - Metric (priority) of the routes this call owns. A route of another protocol to the same
        destination at another metric is no conflict, so a high metric adds a fallback below a
        daemon's routes (the kernel prefers the lowest metric).
    type: int
    default: 0
  replace_foreign_on:
    description:
      - Devices whose routes of another protocol may be replaced by a desired route to the same
        destination. By default such a conflict fails the run before anything changes.
    type: list
    elements: str
    default: []
  foreign_identical_satisfies:
    description:
      - A route of another protocol with the same destination, gateway and device counts as
        satisfied, so nothing fights the daemon that owns it.
    type: bool
    default: false
  use_nexthops:
    description:
      - Route through nexthop objects the call owns (one per gateway, same protocol as the routes,
        ids in the range C(route_protocol << 24)) where the kernel has them; routes then point at
        them by C(nhid). The kernel inserts such routes far faster than routes with their own
        gateway. Where C(ip nexthop show) fails (no nexthop objects), plain routes are used.
      - C(false) uses plain routes and removes the nexthops the call owns.
    type: bool
    default: true
  retire_devices:
    description:
      - Devices another agent left behind that must go once the desired routes are in place, for
        example C(flannel.1) after a switch to host-gw, or C(tunl0) and C(kube-dummy-if). They are
        deleted last, with the neighbors, FDB entries and routes the kernel keeps on them.
      - Each is a name (a vxlan device) or C({name, kind}) with kind one of vxlan, bridge, dummy,
        ipip, veth, macvlan. A device that exists with another kind is refused before any change.
    type: list
    elements: raw
    default: []
  state:
    description: C(absent) removes every route this call owns and the device.
    type: str
    choices: [present, absent]
    default: present
  persist:
    description:
      - Make the state survive a reboot. Writes the desired state to O(persist.state_file) (mode
        0600), installs this module's reconcile core (standard library only) under
        O(persist.tool_dir) so a boot unit can run C(python3 <tool_dir>/cli.py <state_file>), and
        registers the collection's route protocol names in
        C(/etc/iproute2/rt_protos.d/nodenet.conf).
      - With O(persist.unit), also writes the systemd boot unit that runs it (enabling it is left to
        C(ansible.builtin.systemd_service)), so a check-mode run sees a missing or edited unit too.
      - With O(state=absent) the state file and the unit are removed.
    type: dict
    suboptions:
      state_file: {description: Path of the saved state., type: path, required: true}
      unit: {description: "Path of the boot unit, for example C(/etc/systemd/system/nodenet-fabric-vxlan-mesh.service).", type: path}
      tool_dir: {description: Where the reconcile core is installed., type: path, default: /usr/local/lib/nodenet-fabric/reconcile}
      root: {description: Prefix for every path written (the lab gives each node its own)., type: str, default: ""}
  node_check:
    description:
      - Check the node first, as M(nodenet.fabric.node_facts) does with the same options, and fail
        with its problems (and change nothing) where it disagrees. A role's check-mode preflight
        gives it, so the preflight is one module run per node.
    type: dict
    suboptions:
      expect:
        description: The inventory's view of the underlay (C(interface), C(address), C(mtu)); see M(nodenet.fabric.node_facts).
        type: dict
        default: {}
        suboptions:
          interface: {description: The underlay device., type: str}
          address: {description: "Its addresses with the prefix length of the node's subnet, one per family.", type: list, elements: str}
          mtu: {description: Its MTU., type: int}
      require:
        description: Kernel features the plan needs.
        type: list
        elements: str
        choices: [vxlan]
        default: []
      systemd: {description: "A boot unit will be enabled: systemd must be running.", type: bool, default: false}
      root: {description: The module must run as root., type: bool, default: true}
  verify:
    description:
      - Where the node is in sync (nothing differs, or would in check mode), also ping these
        targets, as M(nodenet.fabric.reachability) does, and return what answered in RV(verify).
        A role's no-op run takes this as its check when no node of the play has anything to
        change, sparing a module run per node; a node that changes is checked after every node
        applied. Never fails the run.
    type: dict
    suboptions:
      targets: {description: IPv4 and IPv6 addresses (the plan filters' C(verify.targets))., type: list, elements: str, default: []}
      attempts: {description: Rounds of pings., type: int, default: 1}
      timeout: {description: Seconds a round waits for replies., type: int, default: 1}
attributes:
  check_mode: {support: full, description: Reports what would change and changes nothing.}
  diff_mode: {support: full, description: Shows owned entries before and after.}
notes:
  - Conflicts (a foreign device with the managed name, a foreign route to a managed destination)
    fail the run before any change.
"""

EXAMPLES = r"""
- name: Apply one node's mesh state computed by the plan filter
  nodenet.fabric.reconcile:
    desired: "{{ (node_base_fabric | nodenet.fabric.vxlan_mesh_node_state(inventory_hostname)).reconcile }}"

- name: Remove everything the mesh owns
  nodenet.fabric.reconcile:
    device: {name: vxlan-test, vni: 10001, port: 4899, local: 192.168.0.21, underlay: eth0,
             mtu: 1450, mac: "c2:6a:9b:e5:39:8d", address: 179.17.1.21/24}
    route_protocol: 201
    state: absent
"""

RETURN = r"""
changed:
  description: Whether anything changed (or would, in check mode).
  type: bool
  returned: always
changes:
  description: One readable line per change.
  type: list
  elements: str
  returned: always
  sample: ["add neighbor 179.17.1.31 lladdr 7a:3a:fe:45:a3:76 on vxlan-test"]
commands:
  description: The batch lines, per tool, in the order they run.
  type: dict
  returned: always
  sample: {"ip": ["route replace 10.235.88.0/24 via 179.17.1.16 dev vxlan-test proto 201 table 254 onlink"], "bridge": []}
files_changed:
  description: Files written or removed by O(persist).
  type: list
  elements: str
  returned: always
in_sync:
  description:
    - Nothing differs (or, in check mode, would) and no handover is pending. Roles skip a node's
      apply when its check-mode preflight found it in sync.
  type: bool
  returned: success
verify:
  description:
    - With O(verify), where the node is in sync, C(reachable), C(unreachable) and C(method), as
      M(nodenet.fabric.reachability) returns them, and C(ok) (every target answered).
  type: dict
  returned: with O(verify), when in sync
  sample: {"ok": true, "reachable": ["172.31.1.11"], "unreachable": [], "method": "socket"}
restore:
  description:
    - In check mode, the desired state (JSON text, for O(desired)) that gives back what the call
      owns as it is now. Roles keep it from the preflight and apply it to undo a node's run when
      another node's apply fails.
  type: str
  returned: check mode, with O(state=present)
applied:
  description: When an apply failed, the batch lines that were in effect before the kernel refused one.
  type: list
  elements: str
  returned: on an apply failure
rolled_back:
  description: When an apply failed, the changes that gave back the owned state as it was before the run (null if that failed too).
  type: list
  elements: str
  returned: on an apply failure after some lines were applied
handover_pending:
  description: The successor routes that are not there yet (the bridging routes stay, and no device is retired),
    or, when O(handover_wait) ran out, those that did not come.
  type: list
  elements: dict
  returned: when a route waits for its successor
device_recreated:
  description: Why the device was recreated, or null.
  type: str
  returned: always
  sample: "VNI is 10002, want 10001"
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nodenet.fabric.plugins.module_utils.icmp_sweep import reach
from ansible_collections.nodenet.fabric.plugins.module_utils import node_facts
from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import files
from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.core import STATE_KEYS, ReconcileError, reconcile


def argument_spec():
    def entry(**fields):
        return dict(type="list", elements="dict", default=[], options=fields)

    req = dict(type="str", required=True)
    return dict(
        desired=dict(type="json"),
        device=dict(type="dict", options=dict(
            name=req, kind=dict(type="str", default="vxlan", choices=["vxlan", "bridge", "dummy"]),
            vni=dict(type="int"), port=dict(type="int"), local=dict(type="str"), underlay=dict(type="str"),
            learning=dict(type="bool", default=False),
            mtu=dict(type="int", required=True), mac=req, address=dict(type="list", elements="str", required=True))),
        neighbors=entry(ip=req, mac=req),
        fdb=entry(mac=req, dst=req),
        routes=entry(dst=req, via=req, dev=req, onlink=dict(type="bool", default=False),
                     handover=dict(type="dict", options=dict(dst=req, via=req, dev=req))),
        handover_wait=dict(type="int", default=0),
        route_protocol=dict(type="int"),
        route_table=dict(type="str", default="main"),
        route_metric=dict(type="int", default=0),
        replace_foreign_on=dict(type="list", elements="str", default=[]),
        foreign_identical_satisfies=dict(type="bool", default=False),
        retire_devices=dict(type="list", elements="raw", default=[]),
        use_nexthops=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        node_check=dict(type="dict", options=node_facts.ARGUMENT_SPEC),
        verify=dict(type="dict", options=dict(
            targets=dict(type="list", elements="str", default=[]),
            attempts=dict(type="int", default=1),
            timeout=dict(type="int", default=1))),
        persist=dict(type="dict", options=dict(
            state_file=dict(type="path", required=True),
            unit=dict(type="path"),
            tool_dir=dict(type="path", default="/usr/local/lib/nodenet-fabric/reconcile"),
            root=dict(type="str", default=""))),
    )


ENTRY_OPTIONS = tuple(k for k in STATE_KEYS if k != "state")


def desired_params(module):
    """The module's parameters, with a `desired` document in place of the entry options."""
    params = dict(module.params)
    params.pop("node_check")  # a check before the run, not part of the state
    params.pop("verify")  # a check after it
    document = params.pop("desired")
    if document is None:
        if params["route_protocol"] is None:
            module.fail_json(msg="route_protocol is required (or give the whole state as desired)")
        return params
    spec = argument_spec()
    given = [k for k in ENTRY_OPTIONS if params[k] != spec[k].get("default")]
    if given:
        module.fail_json(msg="give either desired or %s, not both" % ", ".join(given))
    try:
        desired = json.loads(document)
    except ValueError as exc:
        module.fail_json(msg="desired is not a JSON document: %s" % exc)
    if not isinstance(desired, dict) or "route_protocol" not in desired:
        module.fail_json(msg="desired must be a JSON object with at least route_protocol")
    unknown = sorted(set(desired) - set(ENTRY_OPTIONS) - {"state", "persist"})
    if unknown:
        module.fail_json(msg="desired has unknown keys: %s" % ", ".join(unknown))
    params.update(desired)
    return params


def saved_device(params):
    """The device name in the saved state: a device of that name is ours (under an earlier name,
    a renamed mesh device, it may go to free its VNI)."""
    opts, device = params["persist"], params.get("device")
    if not opts or not device:
        return None
    try:
        with open(opts["root"].rstrip("/") + opts["state_file"]) as handle:
            return (json.load(handle).get("device") or {}).get("name")
    except (IOError, OSError, ValueError, AttributeError):
        return None


def persist_files(params, check_mode):
    """Save or remove the state for boot; returns the paths that change."""
    opts = params["persist"]
    if not opts:
        return []
    root = opts["root"].rstrip("/")
    if params["state"] == "absent":
        return files.remove([root + path for path in (opts["state_file"], opts["unit"]) if path], check_mode)
    state = dict((k, v) for k, v in params.items() if k != "persist")
    return files.sync(files.wanted_files(root, opts["state_file"], state, opts["tool_dir"], opts["unit"]), check_mode)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    for tool in ("ip", "bridge"):
        module.get_bin_path(tool, required=True)
    if module.params["node_check"] is not None:
        facts, problems = node_facts.check(module.run_command, module.params["node_check"])
        if not facts["nexthop"]:
            module.warn(node_facts.NO_NEXTHOP_WARNING)
        if problems:
            module.fail_json(msg="; ".join(problems), problems=problems, facts=facts, changed=False)
    params = desired_params(module)
    try:
        result = reconcile(dict(params, saved_device=saved_device(params)), check_mode=module.check_mode,
                           want_diff=module._diff, want_restore=True)
        if "restore" in result:  # one string, which a later task passes back whole as `desired`
            result["restore"] = json.dumps(result["restore"], separators=(",", ":"))
        result["files_changed"] = persist_files(params, module.check_mode)
    except KeyError as exc:
        module.fail_json(msg="nothing was changed: an entry of the desired state lacks the key %s" % exc)
    except (ReconcileError, ValueError, TypeError) as exc:
        module.fail_json(msg=str(exc), **getattr(exc, "result", {}))
    except (IOError, OSError) as exc:
        module.fail_json(msg="persisting the state failed: %s" % exc)
    result["changed"] = result["changed"] or bool(result["files_changed"])
    result["in_sync"] = not result["changed"] and not result.get("handover_pending")
    verify = module.params["verify"]
    if verify and result["in_sync"]:
        result["verify"] = reach(module, verify["targets"], verify["attempts"], verify["timeout"])
        result["verify"]["ok"] = not result["verify"]["unreachable"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
