# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A namespace's kernel state as iproute2 prints it, and its split into what a role owns
and everything else (which must stay byte-identical across our runs). Used by tools/lab
and by the tests."""

import json
import subprocess


def dump(ns, *argv):
    out = subprocess.run(["ip", "netns", "exec", ns] + list(argv), check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else []


def kernel_state(ns):
    """Links (without operstate, which a peer changes), IPv4 routes of every table and IPv6 routes
    of every table but local (whose entries come and go with DAD), addresses, and permanent
    neighbors and FDB entries."""
    return {
        "links": [strip_link(link) for link in dump(ns, "ip", "-j", "-d", "link", "show")],
        "routes": dump(ns, "ip", "-4", "-N", "-j", "route", "show", "table", "all")
        + [r for r in dump(ns, "ip", "-6", "-N", "-j", "route", "show", "table", "all") if r.get("table") != "255"],
        "addrs": [[a["ifname"], [stable(i) for i in a.get("addr_info", [])]] for a in dump(ns, "ip", "-j", "addr", "show")],
        "neighbors": [n for n in dump(ns, "ip", "-j", "neigh", "show") if "PERMANENT" in n.get("state", [])],
        "fdb": [f for f in dump(ns, "bridge", "-j", "fdb", "show") if f.get("state") == "permanent"],
        "nexthops": dump(ns, "ip", "-N", "-j", "nexthop", "show"),
    }


def split(state, device, protocol):
    """({owned}, {foreign}): the device with its entries and the routes of `protocol`, and the rest."""
    owned = {  # sorted: the kernel lists entries in hash order, which a re-add may change
        "links": [l for l in state["links"] if l["ifname"] == device],
        "routes": ordered(r for r in state["routes"] if r.get("protocol") == str(protocol)),
        "neigh": ordered(n for n in state["neighbors"] if n.get("dev") == device),
        "fdb": ordered(f for f in state["fdb"] if f.get("ifname") == device),
        "nexthops": ordered(n for n in state["nexthops"] if n.get("protocol") == str(protocol)),
    }
    foreign = {
        "links": [l for l in state["links"] if l["ifname"] != device],
        "routes": [r for r in state["routes"] if r.get("protocol") != str(protocol) and r.get("dev") != device],
        "neigh": [n for n in state["neighbors"] if n.get("dev") != device],
        "fdb": [f for f in state["fdb"] if f.get("ifname") != device],
        "addrs": [a for a in state["addrs"] if a[0] != device],
        "nexthops": [n for n in state["nexthops"] if n.get("protocol") != str(protocol)],
    }
    return owned, foreign


def snapshot(ns, device, protocol):
    return split(kernel_state(ns), device, protocol)


def ordered(entries):
    return sorted(entries, key=lambda e: json.dumps(e, sort_keys=True))


VOLATILE_ADDRESS_KEYS = ("tentative", "dadfailed", "valid_life_time", "preferred_life_time")


def stable(info):
    """An address without what the kernel changes on its own (IPv6 DAD finishing, lifetimes)."""
    return dict((k, v) for k, v in info.items() if k not in VOLATILE_ADDRESS_KEYS)


def strip_link(link):
    """A link without operstate (a peer changes it) and the bridge timers the kernel counts down."""
    link = dict((k, v) for k, v in link.items() if k != "operstate")
    info = link.get("linkinfo")
    if info:
        link["linkinfo"] = info = dict(info)
        for key in ("info_data", "info_slave_data"):
            if isinstance(info.get(key), dict):
                info[key] = dict((k, v) for k, v in info[key].items() if not k.endswith("_timer"))
    return link
