# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""BIRD's session table as `calicoctl node status` reads it, compared with an expected one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PEER_TYPES = {"Mesh": "node-to-node mesh", "Node": "node specific", "Global": "global"}
BIRD_PROTOCOL = 12  # rtnetlink's RTPROT_BIRD


def parse_protocols(text):
    """[{name, ip, type, state, since, info}] of the BGP protocols in `birdc show protocols`."""
    sessions = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[1] != "BGP":
            continue
        prefix, _sep, rest = fields[0].partition("_")
        ip = protocol_ip(rest.split("_port_")[0]) if prefix in PEER_TYPES else ""
        # name proto table state since info: BIRD's default time format prints `since` as one field
        since, tail = fields[4], fields[5:]
        sessions.append({"name": fields[0], "ip": ip, "type": PEER_TYPES.get(prefix, "other"),
                         "state": fields[3], "since": since, "info": " ".join(tail)})
    return sessions


def protocol_ip(text):
    """The peer address in a protocol's name, where confd wrote `.` (IPv4) or `:` (IPv6) as `_`."""
    parts = text.split("_")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return ".".join(parts)
    return ":".join(parts)


def established(session):
    return session["state"] == "up" and session["info"].startswith("Established")


def compare(expected, sessions, exact=True, scope=None):
    """{table, missing, down, unexpected, other}: every expected session present and Established;
    with `exact`, no other BGP session to an address in `scope` (None: any address) either.
    Sessions to addresses outside `scope` (a user's own BGPPeers) are listed in `other`."""
    by_name = dict((s["name"], s) for s in sessions)
    wanted = set(e["name"] for e in expected)
    table, missing, down = [], [], []
    for want in expected:
        have = by_name.get(want["name"])
        row = dict(want, state=have["state"] if have else "missing", info=have["info"] if have else "",
                   since=have["since"] if have else "")
        row["ok"] = bool(have) and established(have)
        table.append(row)
        if have is None:
            missing.append(want["name"])
        elif not row["ok"]:
            down.append(want["name"])
    extra = [s for s in sessions if s["name"] not in wanted]
    inside = [s["name"] for s in extra if scope is None or s["ip"] in scope]
    return {"table": table, "missing": missing, "down": down, "unexpected": sorted(inside) if exact else [],
            "other": sorted(s["name"] for s in extra if s["name"] not in inside)}


def missing_routes(wanted, routes):
    """Wanted {dst, via} with no route (of the daemon's protocol) to dst through via (single path or
    one of many; a null via accepts any gateway)."""
    have = {}
    for route in routes:
        gateways = set([route.get("gateway")] + [n.get("gateway") for n in route.get("nexthops", [])])
        have.setdefault(route["dst"], set()).update(gateways)
    return ["%s via %s" % (w["dst"], w.get("via") or "any gateway") for w in wanted
            if w["dst"] not in have or (w.get("via") and w["via"] not in have[w["dst"]])]


# The backend of the bgp_sessions module for calico-node's BIRD: what Established is called, what
# the table is, and one read through the control socket.
ESTABLISHED = "Established"
LABEL = "BGP sessions"


def read(module, routes_of):
    """(result, error) of one read: `birdc show protocols` of each family's BIRD (calico-node runs
    one for IPv4 and one for IPv6, as confd renders bird.cfg and bird6.cfg) compared with the
    expected table, and BIRD's routes (`routes_of(module, protocol)`: the node's routes of a
    protocol)."""
    p = module.params
    sessions, seen = [], set()
    for version in p["families"]:
        birdc = p["birdc"] if version == 4 else p["birdc6"]
        rc, out, err = module.run_command(list(birdc) + ["show", "protocols"])
        if rc != 0:
            return None, "birdc failed (%s): %s" % (" ".join(birdc), (err or out).strip())
        for session in parse_protocols(out):  # one socket given for both families lists each once
            if session["name"] not in seen:
                seen.add(session["name"])
                sessions.append(session)
    routes, error = routes_of(module, BIRD_PROTOCOL) if p["routes"] else ([], None)
    if error:
        return None, error
    result = compare(p["expected"], sessions, p["exact"], p["scope"])
    result["routes_missing"] = missing_routes(p["routes"], routes)
    return result, None
