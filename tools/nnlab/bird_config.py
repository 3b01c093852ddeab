# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The BGP sessions a BIRD configuration defines, one row per `protocol bgp` block with what its
template gives it, in one shape for Calico's confd output (BIRD 1.x syntax) and the lab's
calico-node stand-in (BIRD 2): so the two can be compared peer by peer.

Each row: name, ip, port, as, local_as, rr_cluster_id (None without `rr client`), password
(present or not), ttl_security, multihop (effective: a hop count, "any" or "direct"; BIRD's
default is multihop for iBGP, direct for eBGP), passive, restart_time (None: BIRD's default),
next_hop_keep, source (the source address, or None), allow_local_as.
"""

import re

BLOCK = re.compile(r"^\s*(protocol|template)\s+bgp\s+(\S+)(?:\s+from\s+(\S+))?\s*\{")


def statements(lines):
    """The block's statements, with those of its channels (BIRD 2's `ipv4 { ... }`); comments and
    filter blocks left out."""
    text = " ".join(strip_comment(line) for line in lines)
    stack, out, head = [], [], ""
    for part in re.split(r"([{};])", text):
        if part == "{":
            stack.append((head.split() or [""])[0])
            head = ""
        elif part == "}":
            if stack:
                stack.pop()
            head = ""
        elif part == ";":
            if head.strip() and all(kind in ("ipv4", "ipv6") for kind in stack):
                out.append(" ".join(head.split()))
            head = ""
        else:
            head += part
    return out


def strip_comment(line):
    """Everything before a `#` that is not inside quotes."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:index]
    return line


def blocks(text):
    """[(kind, name, parent, [lines])] of every bgp protocol and template block."""
    found, current, depth = [], None, 0
    for line in text.splitlines():
        if current is None:
            match = BLOCK.match(strip_comment(line))
            if match:
                current = (match.group(1), match.group(2), match.group(3), [])
                depth = 1
            continue
        depth += strip_comment(line).count("{") - strip_comment(line).count("}")
        if depth <= 0:
            found.append(current)
            current = None
        else:
            current[3].append(line)
    return found


def settings(lines):
    """{field: value} from a block's statements."""
    result = {}
    for statement in statements(lines):
        words = statement.split()
        if words[:1] == ["neighbor"]:
            result["ip"] = words[1]
            if "port" in words:
                result["port"] = int(words[words.index("port") + 1])
            if "as" in words:
                result["as"] = int(words[words.index("as") + 1])
        elif words[:2] == ["local", "as"]:
            result["local_as"] = int(words[2])
        elif words[:2] == ["rr", "client"]:
            result["rr_client"] = True
        elif words[:3] == ["rr", "cluster", "id"]:
            result["rr_cluster_id"] = words[3]
        elif words[:1] == ["password"]:
            result["password"] = True
        elif words[:2] == ["ttl", "security"]:
            result["ttl_security"] = words[2] == "on"
        elif words[:1] == ["multihop"]:
            result["multihop"] = int(words[1]) if len(words) > 1 else "any"
        elif words[:1] == ["direct"]:
            result["multihop"] = "direct"
        elif words[:2] == ["passive", "on"]:
            result["passive"] = True
        elif words[:3] == ["graceful", "restart", "time"]:
            result["restart_time"] = int(words[3])
        elif words[:2] == ["next", "hop"] and words[2:3] == ["keep"]:
            result["next_hop_keep"] = True
        elif words[:2] == ["source", "address"]:
            result["source"] = words[2]
        elif words[:3] == ["allow", "local", "as"]:
            result["allow_local_as"] = int(words[3]) if len(words) > 3 else "any"
    return result


def protocol_count(text):
    """How many `protocol bgp` blocks the text holds (a table keyed by name must have as many)."""
    return len([b for b in blocks(text) if b[0] == "protocol"])


def sessions(text):
    """{protocol name: row} of every `protocol bgp` block, its template's statements inherited."""
    templates, rows = {}, {}
    for kind, name, parent, lines in blocks(text):
        own = dict(templates.get(parent, {}), **settings(lines))
        if kind == "template":
            templates[name] = own
            continue
        ebgp = own.get("as") != own.get("local_as")
        rows[name] = {
            "name": name, "ip": own.get("ip"), "port": own.get("port"), "as": own.get("as"),
            "local_as": own.get("local_as"),
            "rr_cluster_id": own.get("rr_cluster_id") if own.get("rr_client") else None,
            "password": bool(own.get("password")), "ttl_security": bool(own.get("ttl_security")),
            "multihop": own.get("multihop", "direct" if ebgp else "any"),
            "passive": bool(own.get("passive")), "restart_time": own.get("restart_time"),
            "next_hop_keep": bool(own.get("next_hop_keep")), "source": own.get("source"),
            "allow_local_as": own.get("allow_local_as"),
        }
    return rows


# What a comparison of two tables looks at: every field of a row but its name.
FIELDS = ("ip", "port", "as", "local_as", "rr_cluster_id", "password", "ttl_security", "multihop", "passive",
          "restart_time", "next_hop_keep", "source", "allow_local_as")


def differences(expected, actual):
    """One line per session (by name) that is missing from `actual`, extra in it, or differs in a
    field; `expected` and `actual` are {name: row} tables (sessions(), or a model's table)."""
    lines = ["missing %s" % name for name in sorted(set(expected) - set(actual))]
    lines += ["extra %s" % name for name in sorted(set(actual) - set(expected))]
    for name in sorted(set(expected) & set(actual)):
        lines += ["%s: %s is %r, confd has %r" % (name, field, actual[name][field], expected[name][field])
                  for field in FIELDS if actual[name][field] != expected[name][field]]
    return lines
