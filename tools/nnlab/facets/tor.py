# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ToR routers and outside clients in the lab: FRR (zebra and bgpd) per router, vtysh on the
lab's sockets, each client's pod targets (the lab's pod stand-ins hold each block's first
address), and what the routers learned and the clients reach."""

from __future__ import annotations

import json
import subprocess

from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import model as tor
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import plan


def start(lab):
    from nnlab import daemons
    for host in sorted(lab.fabric.facets.get(tor.ROUTERS, {})):
        lab.record["daemons"].append(daemons.start_frr(lab.run_dir, host))
        lab.save()


def overlay(lab, host):
    from nnlab import daemons
    if host in lab.fabric.facets.get(tor.ROUTERS, {}):
        return ["      calico_bgp_rr_vtysh: %s" % json.dumps(daemons.vtysh(lab.run_dir, host))]
    if host in lab.fabric.facets.get(tor.CLIENTS, {}):
        return ["      calico_bgp_rr_client_targets: %s" % json.dumps(plan.client_targets(lab.fabric, host))]
    return []


def out(argv):
    return subprocess.run(argv, capture_output=True, text=True).stdout


def status(lab):
    from nnlab import daemons, ping
    for host in sorted(lab.fabric.facets.get(tor.ROUTERS, {})):
        print("Router %s: BGP neighbors" % host)
        summary = out(["ip", "netns", "exec", host] + daemons.vtysh(lab.run_dir, host) + ["-c", "show bgp summary"])
        print("\n".join("  " + line for line in summary.splitlines() if line.strip()))
        print("Router %s: routes learned over BGP" % host)
        for family in ("-4", "-6"):
            for line in out(["ip", "-n", host, family, "route", "show", "proto", "bgp"]).splitlines():
                print("  " + line)
    failed = 0
    for host in sorted(lab.fabric.facets.get(tor.CLIENTS, {})):
        targets = plan.client_targets(lab.fabric, host)
        results = ping.ping_all([(host, ip) for ip in targets])
        failed += sum(not ok for ok in results.values())
        print("Client %s reaches pods: %s" % (host, ", ".join("%s %s" % (ip, "ok" if results[(host, ip)] else "FAIL")
                                                              for ip in targets) or "-"))
    return failed
