# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FRR's running configuration as the parts nodenet.fabric owns, and the vtysh commands that
bring them to a desired state.

Ours (FrrOwnership, the ownership policy): BGP neighbors whose description starts with OWNER,
and prefix-lists (IPv4 and IPv6) and route-maps whose name starts with NAME_PREFIX. A neighbor is
set up in the address family of its address (`address-family ipv4 unicast`, or `ipv6 unicast`
with `activate`, which FRR does not do by default); a prefix-list is in its prefixes' family. Every other line of the
configuration (other neighbors, the router's own policies, other daemons) is never the subject
of a command.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import socket

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.ownership import Policy

OWNER = "nodenet.fabric"
NAME_PREFIX = "NODENET-"
SECRET = re.compile(r"(\bpassword\s+)\S+")
AFI = {"address-family ipv4 unicast": "afi", "address-family ipv6 unicast": "afi6"}
EMPTY = {"neighbors": {}, "prefix_lists": {}, "prefix_lists6": {}, "route_maps": {}}


class FrrOwnership(Policy):
    __slots__ = ()
    KINDS = ("neighbor", "prefix_list", "route_map")

    @staticmethod
    def owns_neighbor(item):
        """(ip, its lines in the running configuration): ours by its description."""
        ip, lines = item
        return any(line.startswith("neighbor %s description %s" % (ip, OWNER)) for line in lines)

    @staticmethod
    def owns_prefix_list(name):
        return name.startswith(NAME_PREFIX)

    owns_route_map = owns_prefix_list


OURS = FrrOwnership()


def mask(line):
    return SECRET.sub(r"\1********", line)


def ipv6(text):
    return ":" in text


def parse(text):
    """{asn, router_id, neighbors: {ip: [lines]}, afi/afi6: {ip: [lines]} (IPv4/IPv6 unicast),
    prefix_lists/prefix_lists6: {name: [lines]}, route_maps: {name: [lines]}} from `show
    running-config`; lines are as FRR prints them."""
    config = {"asn": None, "router_id": None, "neighbors": {}, "afi": {}, "afi6": {}, "prefix_lists": {},
              "prefix_lists6": {}, "route_maps": {}}
    block, route_map = None, None
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped == "!":
            continue
        if not line.startswith(" "):
            block, route_map = None, None
            if stripped.startswith("router bgp ") and len(stripped.split()) == 3:
                block, config["asn"] = "bgp", int(stripped.split()[2])
            elif stripped.startswith("ip prefix-list "):
                config["prefix_lists"].setdefault(stripped.split()[2], []).append(stripped)
            elif stripped.startswith("ipv6 prefix-list "):
                config["prefix_lists6"].setdefault(stripped.split()[2], []).append(stripped)
            elif stripped.startswith("route-map "):
                route_map = stripped.split()[1]
                config["route_maps"].setdefault(route_map, []).append(stripped)
                block = "route-map"
            continue
        if block == "route-map" and stripped != "exit":
            config["route_maps"][route_map].append(stripped)
        elif block in ("bgp", "afi", "afi6", "other-afi"):
            if stripped.startswith("address-family "):
                block = AFI.get(stripped, "other-afi")
            elif stripped == "exit-address-family":
                block = "bgp"
            elif block == "other-afi":
                continue  # multicast, EVPN...: not ours to compare
            elif stripped.startswith("bgp router-id ") and block == "bgp":
                config["router_id"] = stripped.split()[2]
            elif stripped.startswith("neighbor "):
                ip = stripped.split()[1]
                config["neighbors" if block == "bgp" else block].setdefault(ip, []).append(stripped)
    return config


def owned_neighbors(config):
    return sorted(ip for ip, lines in config["neighbors"].items() if OURS.owns("neighbor", (ip, lines)))


def neighbor_lines(neighbor):
    ip = neighbor["ip"]
    lines = ["neighbor %s remote-as %d" % (ip, neighbor["remote_as"]),
             "neighbor %s description %s" % (ip, neighbor["description"])]
    if neighbor.get("password"):
        lines.append("neighbor %s password %s" % (ip, neighbor["password"]))
    if neighbor.get("multihop"):
        lines.append("neighbor %s ebgp-multihop 255" % ip)
    afi = ["neighbor %s route-map %s in" % (ip, neighbor["in"]), "neighbor %s route-map %s out" % (ip, neighbor["out"])]
    if ipv6(ip):
        return lines, [], ["neighbor %s activate" % ip] + afi
    if neighbor.get("in6"):  # IPv6 routes over the IPv4 session (MP-BGP)
        return lines, afi, ["neighbor %s activate" % ip, "neighbor %s route-map %s in" % (ip, neighbor["in6"]),
                            "neighbor %s route-map %s out" % (ip, neighbor["out"])]
    return lines, afi, []


def prefix_list_lines(item):
    if item["prefixes"] and ipv6(item["prefixes"][0]):
        return ["ipv6 prefix-list %s seq %d permit %s le 128" % (item["name"], 5 * (i + 1), prefix)
                for i, prefix in enumerate(item["prefixes"])]
    return ["ip prefix-list %s seq %d permit %s le 32" % (item["name"], 5 * (i + 1), prefix)
            for i, prefix in enumerate(item["prefixes"])]


def prefix_list_kind(item):
    return "prefix_lists6" if item["prefixes"] and ipv6(item["prefixes"][0]) else "prefix_lists"


def route_map_lines(item, ipv6_lists=()):
    """`ipv6_lists`: the names of the IPv6 prefix-lists (a match names its family)."""
    lines = ["route-map %s %s 10" % (item["name"], item["action"])]
    if item.get("match"):
        lines.append("match %s address prefix-list %s" % ("ipv6" if item["match"] in ipv6_lists else "ip",
                                                          item["match"]))
    return lines


def ipv6_lists(args):
    return set(p["name"] for p in args["prefix_lists"] if prefix_list_kind(p) == "prefix_lists6")


def owned(config, args=None):
    """Our part of a parsed configuration, comparable with desired(args)."""
    # a neighbor's lines in its own family, and in IPv6 where args carry IPv6 over its IPv4 session
    # or its IPv6 lines name our route-maps (left from such a session): another family someone
    # else activated is theirs
    mp = set(n["ip"] for n in (args or {}).get("neighbors", []) if n.get("in6"))

    def afi6(ip):
        lines = sorted(config["afi6"].get(ip, []))
        ours = ipv6(ip) or ip in mp or any(" route-map %s" % NAME_PREFIX in line for line in lines)
        return lines if ours else []

    return {
        "neighbors": dict((ip, (sorted(config["neighbors"][ip]), [] if ipv6(ip) else sorted(config["afi"].get(ip, [])),
                                afi6(ip)))
                          for ip in owned_neighbors(config)),
        "prefix_lists": dict((n, sorted(l)) for n, l in config["prefix_lists"].items() if OURS.owns("prefix_list", n)),
        "prefix_lists6": dict((n, sorted(l)) for n, l in config["prefix_lists6"].items()
                              if OURS.owns("prefix_list", n)),
        "route_maps": dict((n, l) for n, l in config["route_maps"].items() if OURS.owns("route_map", n)),
    }


def desired(args):
    neighbors = {}
    for neighbor in args["neighbors"]:
        neighbors[neighbor["ip"]] = tuple(sorted(part) for part in neighbor_lines(neighbor))
    lists6 = ipv6_lists(args)
    return {
        "neighbors": neighbors,
        "prefix_lists": dict((p["name"], sorted(prefix_list_lines(p))) for p in args["prefix_lists"]
                             if prefix_list_kind(p) == "prefix_lists"),
        "prefix_lists6": dict((p["name"], sorted(prefix_list_lines(p))) for p in args["prefix_lists"]
                              if prefix_list_kind(p) == "prefix_lists6"),
        "route_maps": dict((r["name"], route_map_lines(r, lists6)) for r in args["route_maps"]),
    }


def problems(args, config):
    """Why the desired state cannot be applied without touching what is not ours."""
    found = []
    if config["asn"] is not None and config["asn"] != args["asn"]:
        found.append("the router runs BGP as AS %d, not %d (bgp_router_as); nodenet.fabric never changes "
                     "the router's own AS" % (config["asn"], args["asn"]))
    ours = set(owned_neighbors(config))
    for neighbor in args["neighbors"]:
        if neighbor["ip"] in config["neighbors"] and neighbor["ip"] not in ours:
            found.append("neighbor %s exists and is not ours (its description does not start with %s); remove it "
                         "or give it that description to hand it over" % (neighbor["ip"], OWNER))
        if not neighbor["description"].startswith(OWNER):
            found.append("neighbor %s: description must start with %s" % (neighbor["ip"], OWNER))
    for item in list(args["prefix_lists"]) + list(args["route_maps"]):
        if not OURS.owns("prefix_list", item["name"]):
            found.append("%s: our prefix-lists and route-maps are named %s*" % (item["name"], NAME_PREFIX))
    found += input_problems(args)
    return found


def canonical(text):
    """An address or CIDR as FRR prints it (compressed IPv6), or None when it is none."""
    address, _sep, length = text.partition("/")
    kind = socket.AF_INET6 if ipv6(address) else socket.AF_INET
    try:
        out = socket.inet_ntop(kind, socket.inet_pton(kind, address))
    except (OSError, ValueError):
        return None
    return out + (("/" + length) if _sep else "")


def input_problems(args):
    """What FRR would print otherwise, so that no run would ever match it (and each would set the
    neighbor up again)."""
    found = []
    for neighbor in args["neighbors"]:
        if canonical(neighbor["ip"]) != neighbor["ip"]:
            found.append("neighbor %s: give the address as FRR prints it (%s)" % (
                neighbor["ip"], canonical(neighbor["ip"]) or "not an address"))
        if neighbor.get("in6") and ipv6(neighbor["ip"]):
            found.append("neighbor %s: in6 is for an IPv4 neighbor's session; an IPv6 neighbor's `in` is its IPv6 "
                         "route-map" % neighbor["ip"])
    for item in args["prefix_lists"]:
        if len(set(ipv6(p) for p in item["prefixes"])) > 1:
            found.append("prefix-list %s mixes IPv4 and IPv6 prefixes; give one list per family" % item["name"])
        for prefix in item["prefixes"]:
            if canonical(prefix) != prefix:
                found.append("prefix-list %s: give %s as FRR prints it (%s)" % (
                    item["name"], prefix, canonical(prefix) or "not a CIDR"))
    return found


def commands(args, config, present=True):
    """vtysh configuration commands from `config` to the desired state (or none of ours)."""
    have = owned(config, args if present else None)
    want = desired(args) if present else EMPTY
    bgp = []
    for ip in sorted(have["neighbors"]):
        if want["neighbors"].get(ip) != have["neighbors"][ip]:
            bgp.append("no neighbor %s" % ip)
    afi, afi6 = [], []
    for neighbor in (args["neighbors"] if present else []):
        ip = neighbor["ip"]
        if have["neighbors"].get(ip) != want["neighbors"][ip]:
            lines, afi_lines, afi6_lines = neighbor_lines(neighbor)
            bgp += lines
            afi += afi_lines
            afi6 += afi6_lines
    head, tail = [], []
    lists6 = ipv6_lists(args)
    for kind, render, items in (
            ("prefix_lists", prefix_list_lines, [p for p in args["prefix_lists"] if p["name"] not in lists6]),
            ("prefix_lists6", prefix_list_lines, [p for p in args["prefix_lists"] if p["name"] in lists6]),
            ("route_maps", lambda item: route_map_lines(item, lists6), args["route_maps"])):
        drop = {"prefix_lists": "no ip prefix-list %s", "prefix_lists6": "no ipv6 prefix-list %s",
                "route_maps": "no route-map %s"}[kind]
        wanted = dict((i["name"], i) for i in items) if present else {}
        for name in sorted(have[kind]):
            if name not in wanted:
                tail.append(drop % name)  # after the neighbors that used it are gone
            elif have[kind][name] != want[kind][name]:
                head.append(drop % name)
        for name, item in sorted(wanted.items()):
            if have[kind].get(name) != want[kind][name]:
                lines = render(item)
                head += lines + ["exit"] if kind == "route_maps" else lines
    result = list(head)
    if bgp or afi:
        result.append("router bgp %d" % args["asn"])
        if config["asn"] is None and args.get("router_id"):
            result.append("bgp router-id %s" % args["router_id"])
        result += bgp
        if afi:
            result += ["address-family ipv4 unicast"] + afi + ["exit-address-family"]
        if afi6:
            result += ["address-family ipv6 unicast"] + afi6 + ["exit-address-family"]
        result.append("exit")
    return result + tail


def render(part):
    """Our part of a configuration as text, for diff mode (passwords masked)."""
    lines = []
    for kind in ("prefix_lists", "prefix_lists6", "route_maps"):
        for name in sorted(part[kind]):
            lines += part[kind][name]
    for ip in sorted(part["neighbors"]):
        bgp, afi, afi6 = part["neighbors"][ip]
        lines += ([mask(l) for l in bgp] + ["address-family ipv4 unicast: %s" % l for l in afi]
                  + ["address-family ipv6 unicast: %s" % l for l in afi6])
    return "\n".join(lines) + ("\n" if lines else "")
