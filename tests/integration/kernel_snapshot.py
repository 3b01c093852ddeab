"""Kernel state of a namespace, split into what a role owns and everything else."""
import json
import subprocess


def dump(ns, *argv):
    out = subprocess.run(["ip", "netns", "exec", ns] + list(argv), check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else []


def snapshot(ns, device, protocol):
    """({owned}, {foreign}) where foreign must stay byte-identical across our runs."""
    links = dump(ns, "ip", "-j", "-d", "link", "show")
    routes = dump(ns, "ip", "-4", "-N", "-j", "route", "show", "table", "all")
    neigh = [n for n in dump(ns, "ip", "-j", "neigh", "show") if "PERMANENT" in n.get("state", [])]
    fdb = [f for f in dump(ns, "bridge", "-j", "fdb", "show") if f.get("state") == "permanent"]
    addrs = dump(ns, "ip", "-j", "addr", "show")
    owned = {  # sorted: the kernel lists entries in hash order, which a re-add may change
        "links": [l for l in links if l["ifname"] == device],
        "routes": ordered(r for r in routes if r.get("protocol") == str(protocol)),
        "neigh": ordered(n for n in neigh if n.get("dev") == device),
        "fdb": ordered(f for f in fdb if f.get("ifname") == device),
    }
    foreign = {
        "links": [strip_link(l) for l in links if l["ifname"] != device],
        "routes": [r for r in routes if r.get("protocol") != str(protocol) and r.get("dev") != device],
        "neigh": [n for n in neigh if n.get("dev") != device],
        "fdb": [f for f in fdb if f.get("ifname") != device],
        "addrs": [(a["ifname"], a.get("addr_info")) for a in addrs if a["ifname"] != device],
    }
    return owned, foreign


def ordered(entries):
    return sorted(entries, key=lambda e: json.dumps(e, sort_keys=True))


def strip_link(link):
    """Drop what the kernel changes on its own (operstate of a peer, queue counters)."""
    return {k: v for k, v in link.items() if k not in ("operstate",)}
