# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a node has (root, kernel features, iproute2, systemd, its underlay device) and where that
disagrees with the inventory. Reading only: the checks never create or load anything."""

from __future__ import absolute_import, division, print_function

import json
import os

from .reconcile.kernel import parse_links

__metaclass__ = type

FEATURES = ("vxlan",)
# The options of the node_facts module, and of the reconcile module's node_check.
ARGUMENT_SPEC = dict(
    expect=dict(type="dict", default={}, options=dict(
        interface=dict(type="str"), address=dict(type="list", elements="str"), mtu=dict(type="int"))),
    require=dict(type="list", elements="str", choices=list(FEATURES), default=[]),
    systemd=dict(type="bool", default=False),
    root=dict(type="bool", default=True))
NO_NEXTHOP_WARNING = ("this kernel has no nexthop objects (`ip nexthop show` fails): routes are plain routes, one "
                      "per destination")


def check(run, options):
    """(facts, problems) for node_facts' options (ARGUMENT_SPEC, already validated)."""
    expect = dict((k, v) for k, v in (options.get("expect") or {}).items() if v not in (None, ""))
    facts = read(run, os.uname().release, os.path.exists, expect.get("interface"))
    require = list(options.get("require") or []) + (["systemd"] if options.get("systemd") else [])
    return facts, problems(facts, expect, require, options.get("root", True))


def read(run, uname_release, exists, interface=None):
    """The node's facts. `run(argv) -> (rc, out, err)`; `exists(path) -> bool`."""
    facts = {"uid": os.geteuid(), "kernel": uname_release}
    rc, out, _err = run(["ip", "-V"])
    facts["iproute2"] = out.strip() if rc == 0 else None
    rc, out, _err = run(["ip", "-j", "link", "show", "dev", "lo"])
    facts["iproute2_json"] = rc == 0 and parses(out)
    rc, _out, _err = run(["ip", "-j", "nexthop", "show"])
    facts["nexthop"] = rc == 0
    facts["vxlan"] = has_vxlan(run, uname_release, exists)
    facts["systemd"] = exists("/run/systemd/system")  # sd_booted()'s test
    facts["underlay"] = None
    if interface:
        rc, out, _err = run(["ip", "-j", "-d", "addr", "show", "dev", interface])
        links = parse_links(json.loads(out)) if rc == 0 and parses(out) else {}
        link = links.get(interface)
        if link is not None:
            facts["underlay"] = {"name": interface, "addresses": link["addresses"], "mtu": link["mtu"], "up": link["up"]}
        else:
            rc, out, _err = run(["ip", "-j", "link", "show"])
            facts["interfaces"] = sorted(e.get("ifname") for e in json.loads(out)) if rc == 0 and parses(out) else []
    return facts


def parses(text):
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def has_vxlan(run, release, exists):
    """Loaded or built in (/sys/module/vxlan), or loadable (modprobe resolves it without loading)."""
    if exists("/sys/module/vxlan"):
        return True
    rc, _out, _err = run(["modprobe", "--dry-run", "--quiet", "vxlan"])
    if rc == 0:
        return True
    return exists("/lib/modules/%s/kernel/drivers/net/vxlan" % release)


def problems(facts, expect, require, root=True):
    """One line per disagreement, naming the inventory variable to fix where there is one."""
    found = []
    if root and facts["uid"] != 0:
        found.append("runs as uid %d, not root: become must give root here (check ansible_become_user and the "
                     "node's sudo rules)" % facts["uid"])
    if not facts["iproute2_json"]:
        found.append("iproute2 has no JSON output (`ip -j` fails; %s): install iproute2 4.14 or later"
                     % (facts["iproute2"] or "`ip -V` fails"))
    if "vxlan" in require and not facts["vxlan"]:
        found.append("the kernel (%s) has no vxlan support (no vxlan module loaded, built in or loadable): the "
                     "mesh device needs it" % facts["kernel"])
    if "systemd" in require and not facts["systemd"]:
        found.append("node_base_systemd: systemd is not running here (no /run/systemd/system), so the boot unit "
                     "cannot be enabled; set node_base_systemd: false (the unit is written, not enabled), or "
                     "turn the role's persistence off")
    found.extend(underlay_problems(facts, expect))
    return found


def underlay_problems(facts, expect):
    interface = expect.get("interface")
    if not interface:
        return []
    link = facts.get("underlay")
    if link is None:
        return ["node_interface: %s does not exist on the node (it has %s); set node_interface to the underlay "
                "device" % (interface, ", ".join(facts.get("interfaces") or []) or "no other device")]
    found = []
    addresses = expect.get("address") or []
    for address in [addresses] if isinstance(addresses, str) else addresses:
        ip, prefix = address.split("/")
        mine = [a for a in link["addresses"] if a.split("/")[0] == ip]
        if not mine:
            found.append("node_ip: %s is not an address of %s (it has %s); set node_ip to this node's own "
                         "underlay address" % (ip, interface, ", ".join(link["addresses"]) or "none"))
        elif mine[0].split("/")[1] != prefix:
            found.append("node_subnet: %s has %s, whose prefix is not that of node_subnet (/%s); set node_subnet "
                         "to the underlay subnet" % (interface, mine[0], prefix))
    mtu = expect.get("mtu")
    if mtu and link["mtu"] != mtu:
        found.append("node_mtu: is %d but %s's MTU is %s; set node_mtu to %s" % (mtu, interface, link["mtu"], link["mtu"]))
    return found
