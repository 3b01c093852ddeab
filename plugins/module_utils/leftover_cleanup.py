# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An owner's leftovers on a node (see leftover_owners: kube-proxy's, kube-router's), found in
the node's own dumps, and the batches that remove them. Nothing the owner's list does not name is
ever the subject of a command.

read() -> make_plan() -> batches() -> apply, re-read; the parsing and planning functions are
pure, so unit tests feed them captured text. `node` is anything with run(argv, stdin) ->
(rc, out, err) and which(tool) -> path or None.
"""

from __future__ import absolute_import, division, print_function

import ipaddress
import json
import re
import shlex
from collections import Counter

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nodenet.fabric.plugins.module_utils.leftover_owners import KUBE_PROXY

__metaclass__ = type

IPTABLES_FAMILIES = ("iptables", "ip6tables")  # both owners clean both families
JUMP_FLAGS = ("-j", "--jump", "-g", "--goto")
SET_FLAGS = ("--match-set", "--add-set", "--del-set", "--map-set")
IPVS_FLAGS = {"-t": "tcp", "--tcp-service": "tcp", "-u": "udp", "--udp-service": "udp", "--sctp-service": "sctp",
              "-f": "fwmark", "--fwmark-service": "fwmark"}
# What a tool prints when the kernel lacks the feature (or its module): nothing of it can exist.
UNAVAILABLE = re.compile(r"protocol not (available|supported)|address family not supported|"
                         r"can't initialize ipvs|cannot open session to kernel|operation not supported", re.I)
COUNTERS = re.compile(r"\s*\[\d+:\d+\]$")
CATEGORIES = ("ipsets", "ipvs", "links", "nftables", "routes")


class CleanupError(Exception):
    def __init__(self, message, result=None):
        super(CleanupError, self).__init__(message)
        self.result = result or {}


# ---------------------------------------------------------------- options

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


def iptables_keys(backends):
    """[(key, save tool, restore tool)]: both address families of each backend."""
    return [("%s-%s" % (family, backend), "%s-%s-save" % (family, backend), "%s-%s-restore" % (family, backend))
            for backend in backends for family in IPTABLES_FAMILIES]


# ---------------------------------------------------------------- iptables

def owned_chain(table, chain, owner=KUBE_PROXY):
    return chain in owner.chains.get(table, ()) or chain.startswith(owner.prefixes.get(table, ("\0",)))


def split_rule(line):
    try:
        return shlex.split(line)
    except ValueError:  # an unbalanced quote in a comment: the flags we look for are never quoted
        return line.split()


def parse_rule(line):
    """{chain, line, target, sets} of an `-A CHAIN ...` line."""
    tokens = split_rule(line)
    target = None
    sets = set()
    for i, token in enumerate(tokens[:-1]):
        if token in JUMP_FLAGS:
            target = tokens[i + 1]
        elif token in SET_FLAGS:
            sets.add(tokens[i + 1])
    return {"chain": tokens[1] if len(tokens) > 1 else "", "line": line, "target": target, "sets": sets,
            "tokens": tokens}


def parse_save(text):
    """[{name, chains: [names], builtin: set, rules: [parse_rule]}] from iptables-save output."""
    tables, table = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("*"):
            table = {"name": line[1:], "chains": [], "builtin": set(), "rules": []}
            tables.append(table)
        elif table is None or not line or line.startswith("#") or line == "COMMIT":
            continue
        elif line.startswith(":"):
            parts = line[1:].split()
            table["chains"].append(parts[0])
            if len(parts) > 1 and parts[1] != "-":
                table["builtin"].add(parts[0])
        elif line.startswith("-A "):
            table["rules"].append(parse_rule(line))
    return tables


def plan_table(table, owner=KUBE_PROXY):
    """What of one table goes: {jumps, chains}, what stays {chains, rules} (counts), the
    conflicts (a rule that stays but jumps to a chain that goes: deleting it would fail), and
    the ipsets the staying rules use."""
    name = table["name"]
    chains = [c for c in table["chains"] if owned_chain(name, c, owner) and c not in table["builtin"]]
    owned = set(chains)
    base = owner.base.get(name, frozenset())
    jumps, kept, conflicts, sets = [], 0, [], set()
    for rule in table["rules"]:
        if rule["chain"] in owned:
            continue  # flushed with its chain
        if rule["chain"] in base and (rule["target"] in owned or owner.base_rule and owner.base_rule(name, rule)):
            jumps.append(rule["line"])
            continue
        kept += 1
        sets |= rule["sets"]
        if rule["target"] in owned:
            conflicts.append("table %s: %r stays (not %s's) and jumps to %s, which %s's cleanup deletes"
                             % (name, rule["line"], owner.name, rule["target"], owner.name))
    foreign = [c for c in table["chains"] if c not in owned and c not in table["builtin"]]
    return {"remove": {"jumps": jumps, "chains": chains}, "kept": {"chains": len(foreign), "rules": kept},
            "conflicts": conflicts, "sets": sets}


def plan_iptables(text, owner=KUBE_PROXY):
    """{remove: {table: {jumps, chains}}, kept: {table: {chains, rules}}, conflicts, sets}."""
    plan = {"remove": {}, "kept": {}, "conflicts": [], "sets": set()}
    for table in parse_save(text):
        part = plan_table(table, owner)
        if part["remove"]["jumps"] or part["remove"]["chains"]:
            plan["remove"][table["name"]] = part["remove"]
        plan["kept"][table["name"]] = part["kept"]
        plan["conflicts"] += part["conflicts"]
        plan["sets"] |= part["sets"]
    return plan


def restore_batch(tables):
    """iptables-restore --noflush input: per table, the jumps out first, then every owned chain
    flushed, then deleted (flushing first drops the jumps between our own chains)."""
    lines = []
    for name in sorted(tables):
        part = tables[name]
        lines.append("*%s" % name)
        lines += ["-D" + line[2:] for line in part["jumps"]]
        lines += ["-F %s" % chain for chain in part["chains"]]
        lines += ["-X %s" % chain for chain in part["chains"]]
        lines.append("COMMIT")
    return "\n".join(lines) + "\n" if lines else ""


def after_text(text, tables):
    """The iptables-save text as it is once `tables` ({table: {jumps, chains}}) is removed:
    every other line exactly as it was."""
    out, table, jumps, chains = [], None, Counter(), set()
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("*"):
            table = line[1:]
            part = tables.get(table, {"jumps": [], "chains": []})
            jumps, chains = Counter(part["jumps"]), set(part["chains"])
        elif table is not None and line.startswith(":") and line[1:].split()[0] in chains:
            continue
        elif table is not None and line.startswith("-A "):
            if jumps[line] > 0:
                jumps[line] -= 1
                continue
            if parse_rule(line)["chain"] in chains:
                continue
        out.append(raw)
    return "\n".join(out) + ("\n" if out else "")


def table_text(text, names):
    """Only the tables `names`, without comments or counters: what diff mode shows."""
    out, keep = [], False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("*"):
            keep = line[1:] in names
        if keep and line and not line.startswith("#"):
            out.append(COUNTERS.sub("", line) if line.startswith(":") else line)
        if line == "COMMIT":
            keep = False
    return "\n".join(out) + ("\n" if out else "")


# ---------------------------------------------------------------- ipsets

def parse_ipset_names(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def plan_ipsets(names, in_use, owner=KUBE_PROXY):
    """(to destroy, kept count, conflicts): the owner's sets; one a staying rule uses cannot go."""
    remove = [name for name in owner.ipsets if name in names]
    remove += [name for name in names if owner.ipset_prefixes and name.startswith(owner.ipset_prefixes)]
    conflicts = ["ipset %s is %s's but a rule that stays uses it" % (name, owner.name)
                 for name in remove if name in in_use]
    return remove, len(set(names) - set(remove)), conflicts


def ipset_batch(names):
    return "".join("destroy %s\n" % name for name in names)


# ---------------------------------------------------------------- IPVS and links

def parse_ipvs_save(text):
    """[{key, proto, address, port}] of the virtual services in `ipvsadm -S -n` output; key is
    the service as ipvsadm takes it (`-t 10.96.0.1:443`)."""
    services = []
    for line in text.splitlines():
        tokens = line.split()
        if len(tokens) < 3 or tokens[0] != "-A" or tokens[1] not in IPVS_FLAGS:
            continue
        proto, spec = IPVS_FLAGS[tokens[1]], tokens[2]
        service = {"key": "%s %s" % (tokens[1], spec), "proto": proto, "address": None, "port": None}
        if proto != "fwmark":
            host, _sep, port = spec.rpartition(":")
            service["address"], service["port"] = host.strip("[]"), int(port)
        services.append(service)
    return services


def parse_links(text):
    """{name: {kind, addresses: [str]}} from `ip -json -details address show`."""
    links = {}
    for link in json.loads(text or "[]"):
        links[link["ifname"]] = {"kind": (link.get("linkinfo") or {}).get("info_kind"),
                                 "addresses": [a["local"] for a in link.get("addr_info") or [] if "local" in a]}
    return links


def node_addresses(links):
    """The addresses kube-proxy puts NodePorts on: every one not on kube-ipvs0, without loopback
    and IPv6 link-local (GetAllLocalAddressesExcept with isValidForSet)."""
    found = set()
    for name, link in links.items():
        if name == KUBE_PROXY.dummy:
            continue
        for text in link["addresses"]:
            ip = ipaddress.ip_address(u"%s" % text)
            if not ip.is_loopback and not (ip.version == 6 and ip.is_link_local):
                found.add(ip)
    return found


def ipvs_reason(service, bound, nodes, nodeport_range, cidrs):
    """Why a virtual service is one kube-proxy would have made, or None."""
    if service["proto"] == "fwmark":
        return None  # kube-proxy makes none
    ip = ipaddress.ip_address(u"%s" % service["address"])
    if ip in bound:
        return "bound to %s" % KUBE_PROXY.dummy
    for cidr in cidrs:
        if ip.version == cidr.version and ip in cidr:
            return "in service CIDR %s" % cidr
    if nodeport_range and ip in nodes and nodeport_range[0] <= service["port"] <= nodeport_range[1]:
        return "NodePort on a node address"
    return None


def plan_ipvs(services, links, nodeport_range, cidrs):
    """(keys to delete, kept count): the virtual services kube-proxy would have made."""
    bound = set(ipaddress.ip_address(u"%s" % a) for a in (links.get(KUBE_PROXY.dummy) or {}).get("addresses", []))
    nodes = node_addresses(links)
    remove = [s["key"] for s in services if ipvs_reason(s, bound, nodes, nodeport_range, cidrs)]
    return remove, len(services) - len(remove)


def ipvs_batch(keys):
    return "".join("-D %s\n" % key for key in keys)


def plan_links(links, owner=KUBE_PROXY):
    """(links to delete, conflicts): the owner's dummy link when it is a dummy, as its cleanup checks."""
    link = links.get(owner.dummy)
    if link is None:
        return [], []
    if link["kind"] != "dummy":
        return [], ["%s exists but is a %s device, not %s's dummy" % (owner.dummy, link["kind"] or "plain", owner.name)]
    return [owner.dummy], []


# ---------------------------------------------------------------- nftables

def parse_routes(text, family=""):
    """["DST via GW dev DEV"] of `ip -json route show` (family "-6 " marks IPv6 ones)."""
    found = []
    for route in json.loads(text or "[]"):
        words = [family + route["dst"]] + [w for key, name in (("gateway", "via"), ("dev", "dev"))
                                           for w in ((name, route[key]) if route.get(key) else ())]
        found.append(" ".join(words))
    return found


def routes_batches(routes, protocol):
    """One flush per family that has any: every route of the protocol is the owner's."""
    steps = []
    for family, args in (("", []), ("-6 ", ["-6"])):
        if any(r.startswith("-6 ") == bool(family) for r in routes):
            steps.append(("routes", "ip", args + ["route", "flush", "proto", str(protocol)], None))
    return steps


def parse_nft_tables(text):
    """["FAMILY NAME"] from `nft list tables`."""
    return [" ".join(line.split()[1:3]) for line in text.splitlines() if line.split()[:1] == ["table"]]


def nft_batch(tables):
    return "".join("delete table %s\n" % table for table in tables)


# ---------------------------------------------------------------- read, plan, apply

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
    remove["nftables"] = [t for t in owner.nft_tables if t in state["nftables"]]
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


class ModuleNode:
    """The node as the backend sees it through an AnsibleModule: tools found in PATH and the sbin
    folders, commands run with the C locale so kernel messages read the same everywhere."""

    def __init__(self, module):
        self.module = module

    def which(self, tool):
        return self.module.get_bin_path(tool)

    def run(self, argv, stdin=None):
        return self.module.run_command(argv, data=stdin, binary_data=True,
                                       environ_update={"LC_ALL": "C", "LANG": "C"})


# The options both modules share (the leftover_cleanup doc fragment documents them).
COMMON_ARGS = dict(
    iptables_backends=dict(type="list", elements="str", choices=["nft", "legacy"], default=["nft", "legacy"]),
    ipset=dict(type="bool", default=True),
)


def run_module(owner, argument_spec):
    """A leftover-cleanup module's main(): the shared options plus its own, the cleanup for
    `owner`, then fail or exit."""
    module = AnsibleModule(argument_spec=dict(COMMON_ARGS, **argument_spec), supports_check_mode=True)
    try:
        result = cleanup(ModuleNode(module), module.params, check_mode=module.check_mode, want_diff=module._diff,
                         owner=owner)
    except ValueError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except CleanupError as exc:
        module.fail_json(msg=str(exc), **dict(dict(changed=False), **exc.result))
    module.exit_json(**result)
