# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the node's dataplane: every kind's dump (kinds.READ_KINDS) runs at once, in parallel."""

from __future__ import absolute_import, division, print_function

from . import kernel
from .kinds import READ_KINDS, ROUTE, Scope

__metaclass__ = type

# Dumps that must succeed. The others may fail: `dev X` without the device (nothing on it), the
# nexthop dump on a kernel without nexthop objects (the Dataplane then says None), and the IPv6
# routes on a kernel without IPv6 (none).
REQUIRED = ("links", "routes")


def ipv6(argv):
    """The same `ip` dump for IPv6 (`ip route` shows IPv4 alone unless told)."""
    return argv[:1] + ["-6"] + argv[1:]


def start_read(runner, device, table, protocol):
    """Start the dumps and return a function that collects the Dataplane.

    Only what a plan needs: links with details and addresses, permanent neighbors and the FDB of
    the managed device, the routes carrying our protocol, and every nexthop object. Foreign routes
    are only needed when a desired destination has no route of ours (see read_foreign_routes).
    """
    scope = Scope(device, table, protocol)
    argvs = dict((field, kind.read(scope)) for field, kind in READ_KINDS)
    argvs["routes6"] = ipv6(argvs["routes"])
    pending = runner.start_all(dict((field, argv) for field, argv in argvs.items() if argv))

    def collect():
        outputs = pending()
        for field, (rc, _out, err) in outputs.items():
            if rc != 0 and field in REQUIRED:
                raise RuntimeError("%s failed: %s" % (" ".join(argvs[field]), err.strip()))
        kinds = dict(READ_KINDS)

        def dump(field):
            rc, out, _err = outputs.get(field, (1, "", ""))
            return (kernel.json_stream(out) or [[]])[0] if rc == 0 else None

        links = kinds["links"].parse(dump("links"), scope)
        raw = {}
        for field in kernel.Dataplane.KINDS:
            kind = kinds[field]
            entries = dump(field) if field == "routes" or device in links else []
            if field == "routes":
                entries = (entries or []) + kernel.ipv6_routes(dump("routes6"))
            raw[field] = (entries, lambda d, kind=kind: kind.parse(d, scope), kind.keyer)
        nexthops = dump("nexthops")
        return kernel.Dataplane(links, None, None, None, raw,
                                None if nexthops is None else kinds["nexthops"].parse(nexthops, scope))
    return collect


def read_foreign_routes(runner, table):
    """The whole table: only needed to check desired destinations that have no route of ours."""
    argv = ROUTE.read(Scope(None, table, 0))[:-2]  # without the protocol filter
    pending = runner.start_all({"routes": argv, "routes6": ipv6(argv)})
    outputs = pending()
    rc, out, err = outputs["routes"]
    if rc != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(argv), err.strip()))
    rc6, out6, _err6 = outputs["routes6"]
    dump = (kernel.json_stream(out) or [[]])[0] + kernel.ipv6_routes((kernel.json_stream(out6) or [[]])[0] if rc6 == 0
                                                                     else [])
    return ROUTE.parse(dump, Scope(None, table, 0))
