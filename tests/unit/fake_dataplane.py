"""A node's dataplane tools faked over captured text, for the leftover cleanup's tests."""
import json
import re
from pathlib import Path

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover import ipset

IPVS_UNAVAILABLE = (Path(__file__).parent / "fixtures" / "kube_proxy" / "ipvs-unavailable.stderr").read_text()
IPSET_IN_USE = "ipset v7.17: Error in line 1: Set cannot be destroyed: it is in use by a kernel component"


class FakeNode:
    """A node whose tools read and change its state as the real ones would: iptables-restore
    deletes a rule only by its exact spec, refuses to delete a chain still jumped to, and (as
    iptables-nft does) applies all or nothing; ipset refuses to destroy a set a rule uses."""

    def __init__(self, iptables=None, ipsets=None, ipvs=None, addr=None, nft=None, missing=(), fail=(), routes=()):
        self.iptables = dict(iptables or {})  # key (iptables-nft, ...) -> iptables-save text
        self.ipsets = ipset.parse_ipset_names(ipsets) if ipsets is not None else None
        self.ipvs = ipvs  # ipvsadm -S text; None: the kernel has no IPVS
        self.addr = json.loads(addr) if addr else []
        self.nft = nft
        self.missing = set(missing)
        self.fail = set(fail)  # tools whose batch fails
        self.calls = []
        self.routes = list(routes)  # `ip -json route` objects of protocol 17, with "family": 4 or 6

    def which(self, tool):
        if tool in self.missing:
            return None
        key = re.sub(r"-(save|restore)$", "", tool)
        if tool.startswith(("iptables", "ip6tables")) and key not in self.iptables:
            return None
        if (tool == "ipset" and self.ipsets is None) or (tool == "nft" and self.nft is None):
            return None
        return "/usr/sbin/" + tool

    def run(self, argv, stdin=None):
        tool = argv[0].rsplit("/", 1)[-1]
        self.calls.append((tool, argv[1:], stdin))
        if tool in self.fail:
            return 1, "", "%s: line 3 failed" % tool
        key = re.sub(r"-(save|restore)$", "", tool)
        if tool.endswith("-save"):
            return 0, self.iptables[key], ""
        if tool.endswith("-restore"):
            return self.restore(key, stdin)
        if tool == "ipset":
            return (0, "".join(n + "\n" for n in self.ipsets), "") if argv[1] == "list" else self.ipset_restore(stdin)
        if tool == "ipvsadm":
            if self.ipvs is None:
                return 2, "", IPVS_UNAVAILABLE
            return (0, self.ipvs, "") if argv[1] == "-S" else self.ipvs_restore(stdin)
        if tool == "ip" and "route" in argv:
            family = 6 if "-6" in argv else 4
            if "flush" in argv:
                self.routes = [r for r in self.routes if r["family"] != family]
                return 0, "", ""
            return 0, json.dumps([r for r in self.routes if r["family"] == family]), ""
        if tool == "ip":
            if argv[1:3] == ["link", "delete"]:
                self.addr = [l for l in self.addr if l["ifname"] != argv[3]]
                return 0, "", ""
            return 0, json.dumps(self.addr), ""
        if tool == "nft":
            if argv[1] == "list":
                return 0, self.nft, ""
            for line in stdin.splitlines():
                self.nft = self.nft.replace("table %s\n" % line.split(" ", 2)[2], "")
            return 0, "", ""
        raise AssertionError(argv)

    def restore(self, key, batch):
        lines = self.iptables[key].splitlines()
        table = None
        for command in batch.splitlines():
            if command.startswith("*"):
                table = command[1:]
                continue
            if command == "COMMIT":
                continue
            start = lines.index("*" + table)
            span = range(start, lines.index("COMMIT", start))
            op, chain = command.split()[:2]
            if op == "-D":
                found = [i for i in span if lines[i] == "-A" + command[2:]]
                if not found:
                    return 1, "", "iptables-restore: line 2 failed: Bad rule"
                del lines[found[0]]
            elif op == "-F":
                lines = [l for i, l in enumerate(lines) if i not in span or not l.startswith("-A %s " % chain)]
            elif op == "-X":
                if any(re.search(r" -[jg] %s( |$)" % re.escape(chain), lines[i]) for i in span):
                    return 1, "", "iptables-restore: line 9 failed: Device or resource busy"
                lines = [l for i, l in enumerate(lines) if i not in span or not l.startswith(":%s " % chain)]
        self.iptables[key] = "\n".join(lines) + "\n"
        return 0, "", ""

    def ipset_restore(self, batch):
        for line in batch.splitlines():
            name = line.split()[1]
            if any("--match-set %s " % name in text for text in self.iptables.values()):
                return 1, "", IPSET_IN_USE
            self.ipsets.remove(name)
        return 0, "", ""

    def ipvs_restore(self, batch):
        for line in batch.splitlines():
            spec = line[3:]
            self.ipvs = "".join(l + "\n" for l in self.ipvs.splitlines()
                                if not l.startswith(("-A %s " % spec, "-a %s " % spec)) and l != "-A " + spec)
        return 0, "", ""
