# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An owner's leftovers on a node (see owners.py: kube-proxy's, kube-router's), found in the
node's own dumps by one backend per tool (iptables, ipset, ipvs, links, nft), and the batches
that remove them. Nothing the owner's list does not name is ever the subject of a command.

read() -> make_plan() -> batches() -> apply, re-read; the parsing and planning functions are
pure, so unit tests feed them captured text. `node` is anything with run(argv, stdin) ->
(rc, out, err) and which(tool) -> path or None."""

from __future__ import absolute_import, division, print_function

import ipaddress
import re
from collections import Counter

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.iptables import (
    after_text, iptables_keys, parse_save, plan_iptables, restore_batch, table_text
)
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.ipset import (
    ipset_batch, parse_ipset_names, plan_ipsets
)
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.ipvs import (
    ipvs_batch, parse_ipvs_save, plan_ipvs
)
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.links import (
    parse_links, parse_routes, plan_links, routes_batches
)
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.nft import nft_batch, parse_nft_tables
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_PROXY

__metaclass__ = type


# What a tool prints when the kernel lacks the feature (or its module): nothing of it can exist.
UNAVAILABLE = re.compile(r"protocol not (available|supported)|address family not supported|"
                         r"can't initialize ipvs|cannot open session to kernel|operation not supported", re.I)


CATEGORIES = ("ipsets", "ipvs", "links", "nftables", "routes")


class CleanupError(Exception):
    def __init__(self, message, result=None):
        super(CleanupError, self).__init__(message)
        self.result = result or {}


def check_options(options, owner=KUBE_PROXY):
    """The options in the form the planner uses; ValueError on a bad one, before anything runs.
    IPVS and nftables are read only for an owner that makes them; the owner's dummy link goes
    with `links` (kube-proxy's with `ipvs`)."""
    opts = dict(options)
    opts["owner"] = owner
    opts["ipvs"] = bool(opts.get("ipvs")) and owner.ipvs
    opts["nftables"] = bool(opts.get("nftables")) and bool(owner.nft_tables)
    opts["links"] = bool(opts.get("links", opts["ipvs"]))
    opts["routes"] = bool(opts.get("routes")) and owner.route_protocol is not None
    unknown = sorted(set(opts.get("iptables_backends") or []) - {"nft", "legacy"})
    if unknown:
        raise ValueError("unknown iptables backend(s): %s (nft, legacy)" % ", ".join(unknown))
    opts["nodeport_range"] = parse_port_range(opts.get("nodeport_range") or "")
    opts["service_cidrs"] = [ipaddress.ip_network(u"%s" % c, strict=False) for c in opts.get("service_cidrs") or []]
    return opts


def parse_port_range(text):
    """(low, high) from "30000-32767" (or one port); None for "", which matches no NodePort."""
    text = text.strip()
    if not text:
        return None
    match = re.match(r"^(\d+)(?:\s*-\s*(\d+))?$", text)
    if not match:
        raise ValueError("nodeport_range must look like 30000-32767, not %r" % text)
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    if not 0 < low <= high <= 65535:
        raise ValueError("nodeport_range %r is not a port range" % text)
    return low, high


def empty_removal():
    return {"iptables": {}, "ipsets": [], "ipvs": [], "links": [], "nftables": [], "routes": []}


def is_empty(removal):
    return not removal["iptables"] and not any(removal[k] for k in CATEGORIES)


def run_read(node, tool, args, label):
    """(status, output): `unavailable` when the tool is missing or the kernel lacks the feature."""
    path = node.which(tool)
    if not path:
        return "unavailable", "%s: %s not found" % (label, tool)
    rc, out, err = node.run([path] + list(args))
    if rc == 0:
        return "read", out
    if UNAVAILABLE.search(err or out or ""):
        return "unavailable", "%s: %s" % (label, (err or out).strip().splitlines()[0])
    raise CleanupError("%s %s failed (rc=%d): %s" % (tool, " ".join(args), rc, (err or out).strip()))


def read(node, opts):
    """Every dump the plan needs: {status, notes, iptables: {key: text}, ipsets, ipvs, links, nftables}."""
    state = {"status": {}, "notes": [], "iptables": {}, "ipsets": [], "ipvs": [], "links": {}, "nftables": [],
             "routes": []}

    def one(label, tool, args, wanted, parse, field):
        if not wanted:
            state["status"][label] = "skipped"
            return
        status, out = run_read(node, tool, args, label)
        state["status"][label] = status
        if status == "read":
            state[field] = parse(out)
        else:
            state["notes"].append(out)

    for key, save, _restore in iptables_keys(opts["iptables_backends"]):
        status, out = run_read(node, save, [], key)
        if status == "read" and not parse_save(out):
            status = "empty"
        state["status"][key] = status
        if status == "read":
            state["iptables"][key] = out
        elif status == "unavailable":
            state["notes"].append(out)
    one("ipset", "ipset", ["list", "-n"], opts["ipset"], parse_ipset_names, "ipsets")
    one("ipvs", "ipvsadm", ["-S", "-n"], opts["ipvs"], parse_ipvs_save, "ipvs")
    one("links", "ip", ["-json", "-details", "address", "show"], opts["links"] or opts["ipvs"], parse_links, "links")
    one("nftables", "nft", ["list", "tables"], opts["nftables"], parse_nft_tables, "nftables")
    if opts["owner"].route_protocol is None:
        return state  # an owner without routes of its own: nothing to say about them
    protocol = str(opts["owner"].route_protocol)
    one("routes", "ip", ["-json", "route", "show", "proto", protocol], opts["routes"], parse_routes, "routes")
    if opts["routes"]:
        status, out = run_read(node, "ip", ["-6", "-json", "route", "show", "proto", protocol], "routes6")
        if status == "read":
            state["routes"] += parse_routes(out, "-6 ")
    return state


def make_plan(state, opts):
    """{remove (the shape of the module's `removed`), kept, conflicts} from a read."""
    owner = opts["owner"]
    remove, kept, conflicts, in_use = empty_removal(), {"iptables": {}}, [], set()
    for key, text in state["iptables"].items():
        part = plan_iptables(text, owner)
        if part["remove"]:
            remove["iptables"][key] = part["remove"]
        kept["iptables"][key] = part["kept"]
        conflicts += ["%s %s" % (key, c) for c in part["conflicts"]]
        in_use |= part["sets"]
    remove["ipsets"], kept["ipsets"], set_conflicts = plan_ipsets(state["ipsets"], in_use, owner)
    conflicts += set_conflicts
    remove["ipvs"], kept["ipvs"] = plan_ipvs(state["ipvs"], state["links"], opts["nodeport_range"],
                                             opts["service_cidrs"])
    if opts["links"]:
        remove["links"], link_conflicts = plan_links(state["links"], owner)
        conflicts += link_conflicts
    remove["nftables"] = [t for t in state["nftables"] if owner.owns("nft_table", t)]
    kept["nftables"] = len(state["nftables"]) - len(remove["nftables"])
    remove["routes"] = list(state["routes"])
    return {"remove": remove, "kept": kept, "conflicts": conflicts}


def batches(remove, opts):
    """[(label, tool, args, stdin)] in the order they run: IPVS services, the link, iptables per
    backend and family, then ipsets (only once no rule uses them), then nftables, then the
    owner's routes."""
    steps = []
    if remove["ipvs"]:
        steps.append(("ipvs", "ipvsadm", ["-R"], ipvs_batch(remove["ipvs"])))
    for link in remove["links"]:
        steps.append(("links", "ip", ["link", "delete", link], None))
    for key, _save, restore in iptables_keys(opts["iptables_backends"]):
        if key in remove["iptables"]:
            # legacy takes the xtables lock, which kubelet holds for a moment every minute
            args = ["--noflush"] + (["--wait=5"] if key.endswith("-legacy") else [])
            steps.append((key, restore, args, restore_batch(remove["iptables"][key])))
    if remove["ipsets"]:
        steps.append(("ipset", "ipset", ["restore"], ipset_batch(remove["ipsets"])))
    if remove["nftables"]:
        steps.append(("nftables", "nft", ["-f", "-"], nft_batch(remove["nftables"])))
    if remove["routes"]:
        steps += routes_batches(remove["routes"], opts["owner"].route_protocol)
    return steps


def render(steps):
    return [{"command": " ".join([tool] + args), "stdin": stdin} for _label, tool, args, stdin in steps]


def still_present(remove, state):
    """The part of `remove` that a later read still shows."""
    left = empty_removal()
    for key, tables in remove["iptables"].items():
        parsed = dict((t["name"], t) for t in parse_save(state["iptables"].get(key, "")))
        for name, part in tables.items():
            table = parsed.get(name, {"chains": [], "rules": []})
            lines = Counter(r["line"] for r in table["rules"])
            jumps = []
            for line in part["jumps"]:
                if lines[line] > 0:
                    lines[line] -= 1
                    jumps.append(line)
            chains = [c for c in part["chains"] if c in table["chains"]]
            if jumps or chains:
                left["iptables"].setdefault(key, {})[name] = {"jumps": jumps, "chains": chains}
    services = set(s["key"] for s in state["ipvs"])
    left["ipsets"] = [n for n in remove["ipsets"] if n in state["ipsets"]]
    left["ipvs"] = [k for k in remove["ipvs"] if k in services]
    left["links"] = [n for n in remove["links"] if n in state["links"]]
    left["routes"] = [r for r in remove["routes"] if r in state["routes"]]
    left["nftables"] = [t for t in remove["nftables"] if t in state["nftables"]]
    return left


def subtract(remove, left):
    """`remove` without what is `left`."""
    done = empty_removal()
    for key, tables in remove["iptables"].items():
        for name, part in tables.items():
            other = left["iptables"].get(key, {}).get(name, {"jumps": [], "chains": []})
            jumps = list((Counter(part["jumps"]) - Counter(other["jumps"])).elements())
            jumps.sort(key=part["jumps"].index)
            chains = [c for c in part["chains"] if c not in other["chains"]]
            if jumps or chains:
                done["iptables"].setdefault(key, {})[name] = {"jumps": jumps, "chains": chains}
    for kind in CATEGORIES:
        done[kind] = [item for item in remove[kind] if item not in left[kind]]
    return done


def object_lines(remove):
    lines = ["ipset %s" % n for n in remove["ipsets"]] + ["ipvs %s" % k for k in remove["ipvs"]]
    lines += ["link %s" % n for n in remove["links"]] + ["nftables table %s" % t for t in remove["nftables"]]
    lines += ["route %s" % r for r in remove["routes"]]
    return "".join(line + "\n" for line in lines)


def diff(before, after, remove, left, owner=KUBE_PROXY):
    """Diff mode: per iptables backend the affected tables before and after; then the other
    objects. `after` is a state re-read after applying, or None to compute it from the plan."""
    entries = []
    for key, tables in sorted(remove["iptables"].items()):
        text = before["iptables"][key]
        new = after_text(text, tables) if after is None else after["iptables"].get(key, "")
        entries.append({"before_header": "%s-save (%s)" % (key, ", ".join(sorted(tables))),
                        "after_header": "%s-save (%s)" % (key, ", ".join(sorted(tables))),
                        "before": table_text(text, tables), "after": table_text(new, tables)})
    if any(remove[k] for k in CATEGORIES):
        header = "%s objects" % owner.name
        entries.append({"before_header": header, "after_header": header,
                        "before": object_lines(remove), "after": object_lines(left)})
    return entries


def cleanup(node, options, check_mode=False, want_diff=False, owner=KUBE_PROXY):
    """Remove the owner's leftovers. Returns the result; raises CleanupError (with the result)."""
    opts = check_options(options, owner)
    before = read(node, opts)
    plan = make_plan(before, opts)
    steps = batches(plan["remove"], opts)
    result = {"changed": not is_empty(plan["remove"]), "removed": plan["remove"], "kept": plan["kept"],
              "status": before["status"], "notes": before["notes"], "conflicts": plan["conflicts"],
              "commands": render(steps)}
    for label, tool, _args, _stdin in steps:
        if not node.which(tool):
            plan["conflicts"].append("%s: %s not found" % (label, tool))
    if plan["conflicts"]:
        result.update(changed=False, removed=empty_removal())
        raise CleanupError("nothing was changed: " + "; ".join(plan["conflicts"]), result)
    if check_mode or not steps:
        if want_diff:
            result["diff"] = diff(before, None, plan["remove"], empty_removal(), owner)
        return result
    error = apply(node, steps)
    try:
        after = read(node, opts)
    except CleanupError as exc:
        result["changed"] = True  # something ran; what is gone is unknown
        raise CleanupError("%sreading back failed: %s" % ("%s; " % error if error else "", exc), result)
    left = still_present(plan["remove"], after)
    result["removed"] = subtract(plan["remove"], left)
    result["changed"] = not is_empty(result["removed"])
    if want_diff:
        result["diff"] = diff(before, after, plan["remove"], left, owner)
    if error:
        raise CleanupError(error, result)
    again = make_plan(after, opts)["remove"]
    if not is_empty(left) or not is_empty(again):
        result["remaining"] = again if is_empty(left) else left
        raise CleanupError("%s objects are still there after the cleanup (is %s still running?)"
                           % (owner.name, owner.name), result)
    return result


def apply(node, steps):
    """Run the steps in order; stop at the first that fails and return its error (None if none)."""
    for label, tool, args, stdin in steps:
        rc, out, err = node.run([node.which(tool)] + list(args), stdin)
        if rc != 0:
            return "%s: %s failed (rc=%d): %s" % (label, " ".join([tool] + args), rc, (err or out).strip())
    return None
