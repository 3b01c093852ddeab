# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iptables and ip6tables (nft and legacy backends): the owner's chains and the jumps into them,
read from iptables-save and removed with one iptables-restore --noflush batch per backend and
family; a staying rule that jumps into an owned chain is a conflict."""

from __future__ import absolute_import, division, print_function

import re
import shlex
from collections import Counter

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_PROXY

__metaclass__ = type


IPTABLES_FAMILIES = ("iptables", "ip6tables")  # both owners clean both families
JUMP_FLAGS = ("-j", "--jump", "-g", "--goto")
SET_FLAGS = ("--match-set", "--add-set", "--del-set", "--map-set")
COUNTERS = re.compile(r"\s*\[\d+:\d+\]$")


def iptables_keys(backends):
    """[(key, save tool, restore tool)]: both address families of each backend."""
    return [("%s-%s" % (family, backend), "%s-%s-save" % (family, backend), "%s-%s-restore" % (family, backend))
            for backend in backends for family in IPTABLES_FAMILIES]


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
    chains = [c for c in table["chains"] if owner.owns("chain", (name, c)) and c not in table["builtin"]]
    owned = set(chains)
    jumps, kept, conflicts, sets = [], 0, [], set()
    for rule in table["rules"]:
        if rule["chain"] in owned:
            continue  # flushed with its chain
        if owner.owns("base_rule", (name, rule)):
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
