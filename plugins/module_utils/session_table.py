# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the session modules share (bgp_sessions' backends, BIRD and gobgp): the
daemon's routes of one protocol, a one-line mismatch, and polling until the table matches."""

from __future__ import absolute_import, division, print_function

import json
import time

__metaclass__ = type


def routes_of(module, protocol):
    """(routes, error): the node's routes of the daemon's protocol in each of the module's
    `families`, as `ip -j route` prints them."""
    routes = []
    for version in module.params.get("families") or [4]:
        rc, out, err = module.run_command(["ip", "-%d" % version, "-j", "route", "show", "proto", str(protocol)])
        if rc != 0:
            return None, "ip route failed: %s" % err.strip()
        routes += json.loads(out or "[]")
    return routes, None


def mismatch(result, established="Established"):
    parts = []
    for key, what in (("missing", "missing"), ("down", "not " + established), ("unexpected", "unexpected"),
                      ("routes_missing", "routes missing")):
        if result[key]:
            parts.append("%s: %s" % (what, ", ".join(result[key])))
    return "; ".join(parts)


def wait(module, read, established, what):
    """Poll read() -> (result, error) until the table matches or the timeout runs out; exit."""
    deadline = time.monotonic() + module.params["timeout"]
    while True:
        result, error = read(module)
        problem = error or mismatch(result, established)
        if not problem or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    if error:
        module.fail_json(msg=error, changed=False)
    if problem:
        module.fail_json(msg="%s do not match the expected table: %s" % (what, problem), changed=False, **result)
    module.exit_json(changed=False, **result)
