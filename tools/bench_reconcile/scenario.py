# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reconcile benchmark's scenario: one node with N vxlan peers in a private namespace, the
desired state, the same entries as raw iproute2 batches, and the checks that they are applied."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE_UTILS = os.path.join(ROOT, "plugins", "module_utils")
CLI = os.path.join(MODULE_UTILS, "reconcile", "cli.py")
DOC = os.path.join(ROOT, "docs", "performance.md")
RESULT = os.path.join(ROOT, ".bench", "reconcile.md")
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, MODULE_UTILS)

NS = "nnbench"
DEV = "nnvx0"
UNDERLAY, UNDERLAY_PEER = "nnul0", "nnul1"
PROTO = 201
NSEXEC = ["ip", "netns", "exec", NS]
SYS_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

TARGET_APPLY = 0.5   # module first apply (routes over nexthop objects) / raw batch with plain routes, at most
TARGET_NOOP = 1.5    # module no-op / raw dumps, at most


# ---------------------------------------------------------------- helpers

def run(argv, stdin=None, check=True):
    proc = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed (rc=%d): %s" % (" ".join(argv), proc.returncode, proc.stderr.strip()))
    return proc


def ipv4(base, offset):
    value = base + offset
    return "%d.%d.%d.%d" % (value >> 24 & 255, value >> 16 & 255, value >> 8 & 255, value & 255)


def addr(text):
    a, b, c, d = (int(x) for x in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


# ---------------------------------------------------------------- state

def desired_state(peers):
    """One node, `peers` peers. Peer n (n >= 2; the node itself is 1):
    underlay 10.0.0.0/16 + n, vxlan IP 100.64.0.0/16 + n, MAC 02:00:00:nn:nn:nn
    (unicast, locally administered), pod CIDR the (n-2)th /24 of 10.64.0.0/10."""
    if peers > 16384 or peers + 2 > 65534:
        raise SystemExit("at most 16,384 peers fit the address plan")
    under, vx, pods = addr("10.0.0.0"), addr("100.64.0.0"), addr("10.64.0.0")
    neighbors, fdb, routes = [], [], []
    for i in range(peers):
        n = i + 2
        mac = "02:00:00:%02x:%02x:%02x" % (n >> 16 & 255, n >> 8 & 255, n & 255)
        vx_ip = ipv4(vx, n)
        neighbors.append({"ip": vx_ip, "mac": mac})
        fdb.append({"mac": mac, "dst": ipv4(under, n)})
        routes.append({"dst": "%s/24" % ipv4(pods, i * 256), "via": vx_ip, "dev": DEV, "onlink": True})
    return {
        "device": {"name": DEV, "kind": "vxlan", "vni": 4242, "port": 4789, "local": "10.0.0.1",
                   "underlay": UNDERLAY, "learning": False, "mtu": 1450, "mac": "02:ff:00:00:00:01",
                   "address": "100.64.0.1/16"},
        "neighbors": neighbors,
        "fdb": fdb,
        "routes": routes,
        "route_protocol": PROTO,
        "route_table": "main",
        "state": "present",
    }


def raw_commands(desired):
    """The same entries, rendered once for `ip -batch` and `bridge -batch`."""
    d = desired["device"]
    ip_cmds = ["link add %s mtu %d address %s type vxlan id %d dstport %d local %s dev %s nolearning"
               % (d["name"], d["mtu"], d["mac"], d["vni"], d["port"], d["local"], d["underlay"]),
               "address replace %s dev %s" % (d["address"], d["name"]),
               "link set dev %s up" % d["name"]]
    ip_cmds += ["neighbor replace %s lladdr %s dev %s nud permanent" % (n["ip"], n["mac"], DEV)
                for n in desired["neighbors"]]
    ip_cmds += ["route replace %s via %s dev %s proto %d table 254 onlink" % (r["dst"], r["via"], r["dev"], PROTO)
                for r in desired["routes"]]
    br_cmds = ["fdb replace %s dev %s dst %s self permanent" % (f["mac"], DEV, f["dst"])
               for f in desired["fdb"]]
    return ip_cmds, br_cmds


# ---------------------------------------------------------------- namespace

def ns_delete():
    run(["ip", "netns", "delete", NS], check=False)


def ns_create():
    ns_delete()
    run(["ip", "netns", "add", NS])
    ip = ["ip", "-n", NS]
    run(ip + ["link", "set", "lo", "up"])
    run(ip + ["link", "add", UNDERLAY, "type", "veth", "peer", "name", UNDERLAY_PEER])
    run(ip + ["address", "add", "10.0.0.1/16", "dev", UNDERLAY])
    run(ip + ["link", "set", UNDERLAY, "up"])
    run(ip + ["link", "set", UNDERLAY_PEER, "up"])


def reset():
    """Back to an empty namespace: the kernel drops the device's neighbors, FDB and routes with it."""
    run(["ip", "-n", NS, "link", "delete", DEV], check=False)
    left = counts()
    if any(left.values()):
        raise RuntimeError("namespace not empty after deleting %s: %s" % (DEV, left))


def counts():
    """Entries present: permanent neighbors and FDB entries on the device, routes of our protocol."""
    link = run(["ip", "-n", NS, "-j", "link", "show", "dev", DEV], check=False)
    if link.returncode != 0:
        neigh, fdb = [], []
    else:
        neigh = json.loads(run(["ip", "-n", NS, "-j", "neigh", "show", "dev", DEV]).stdout or "[]")
        fdb = json.loads(run(["bridge", "-n", NS, "-j", "fdb", "show", "dev", DEV]).stdout or "[]")
    routes = json.loads(run(["ip", "-n", NS, "-j", "route", "show", "proto", str(PROTO)]).stdout or "[]")
    return {"neighbors": sum(1 for n in neigh if "PERMANENT" in n.get("state", [])),
            "fdb": sum(1 for f in fdb if f.get("state") == "permanent"),
            "routes": len(routes)}


def check_applied(peers, label):
    got = counts()
    want = {"neighbors": peers, "fdb": peers, "routes": peers}
    if got != want:
        raise RuntimeError("%s: kernel holds %s, want %s" % (label, got, want))
