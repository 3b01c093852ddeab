# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube-router's embedded gobgp, read with `gobgp neighbor -j` (the gobgp v4 CLI against its gRPC
admin port), compared with an expected peer table; and the routes kube-router injects."""

from __future__ import absolute_import, division, print_function

import json

__metaclass__ = type

# Which routes are missing is the same question for BIRD's and kube-router's routes.
from .bird import missing_routes

# gobgp's api.PeerState.SessionState, by number
SESSION_STATES = {0: "unknown", 1: "idle", 2: "connect", 3: "active", 4: "opensent", 5: "openconfirm",
                  6: "established"}
KUBE_ROUTER_PROTOCOL = 17  # kube-router injects pod routes as "zebra" (0x11)


def parse_neighbors(data):
    """[{ip, asn, state}] from the JSON `gobgp neighbor -j` prints."""
    sessions = []
    for peer in data or []:
        state = peer.get("state") or {}
        conf = peer.get("conf") or {}
        number = state.get("session_state", 0)
        sessions.append({"ip": state.get("neighbor_address") or conf.get("neighbor_address", ""),
                         "asn": state.get("peer_asn") or conf.get("peer_asn"),
                         "state": SESSION_STATES.get(number, str(number))})
    return sessions


def compare(expected, sessions, exact=True):
    """{table, missing, down, unexpected}: every expected peer present with its ASN and established;
    with `exact`, no other peer either."""
    by_ip = dict((s["ip"], s) for s in sessions)
    table, missing, down = [], [], []
    for want in expected:
        have = by_ip.get(want["ip"])
        row = dict(want, state=have["state"] if have else "missing", asn_seen=have["asn"] if have else None)
        row["ok"] = bool(have) and have["state"] == "established" and have["asn"] == want["asn"]
        table.append(row)
        if have is None:
            missing.append(want["ip"])
        elif not row["ok"]:
            down.append("%s (%s, AS %s)" % (want["ip"], have["state"], have["asn"]))
    wanted = set(e["ip"] for e in expected)
    unexpected = sorted(s["ip"] for s in sessions if s["ip"] not in wanted) if exact else []
    return {"table": table, "missing": missing, "down": down, "unexpected": unexpected}


# The backend of the bgp_sessions module for kube-router's embedded gobgp.
ESTABLISHED = "established"
LABEL = "kube-router's BGP peers"


def read(module, routes_of):
    """(result, error) of one read: `gobgp neighbor -j` against the admin port compared with the
    expected peers, and the routes kube-router injects (`routes_of(module, protocol)`)."""
    p = module.params
    rc, out, err = module.run_command(list(p["gobgp"]) + ["-p", str(p["port"]), "neighbor", "-j"])
    if rc != 0:
        return None, "gobgp failed (is kube-router running with --run-router?): %s" % (err or out).strip()
    try:
        sessions = parse_neighbors(json.loads(out or "[]"))
    except ValueError:
        return None, "gobgp printed no JSON: %s" % out[:200]
    routes, error = routes_of(module, KUBE_ROUTER_PROTOCOL) if p["routes"] else ([], None)
    if error:
        return None, error
    result = compare(p["expected"], sessions, p["exact"])
    result["routes_missing"] = missing_routes(p["routes"], routes)
    return result, None
