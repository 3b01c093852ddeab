"""The kernel's neighbor tables are one per host, shared by every network namespace, and their
garbage-collection limits (gc_thresh*) exist only in the host's namespace. A lab of 60 nodes on
three subnets holds over a thousand ARP entries at once, past the default gc_thresh3 (1024): the
kernel then refuses new entries ("neighbor table overflow!") and same-subnet peers go silent.
`raise_for` lifts the limits only as far as the lab needs, records what it found, and `restore`
puts back each value the lab still holds (a value someone changed since is left alone)."""
import subprocess

FAMILIES = ("ipv4", "ipv6")
KEYS = ("gc_thresh2", "gc_thresh3")
MARGIN = 256  # the machine's own entries, and other namespaces on it


def wanted(entries):
    """{key: value} the lab needs for this many dynamic entries: the soft limit above them, and
    the hard limit (past which new entries are refused) twice that. A small lab needs nothing
    above the kernel's defaults (512, 1024)."""
    base = entries + MARGIN
    return {"gc_thresh2": base, "gc_thresh3": 2 * base}


def _path(family, key):
    return "/proc/sys/net/%s/neigh/default/%s" % (family, key)


def read(family, key):
    with open(_path(family, key)) as handle:
        return int(handle.read().strip())


def write(family, key, value):
    subprocess.run(["sysctl", "-qw", "net.%s.neigh.default.%s=%d" % (family, key, value)], check=True,
                   capture_output=True)


def raise_for(entries, record):
    """Raise the host's limits that are below what `entries` needs; return what changed as
    [(family, key, before, after)], also kept in record["host_sysctls"] for `restore`."""
    changed = []
    need = wanted(entries)
    for family in FAMILIES:
        # gc_thresh3 first when raising: the kernel does not require an order, but a reader of the
        # values mid-way then never sees thresh2 above thresh3.
        for key in reversed(KEYS):
            before = read(family, key)
            if before < need[key]:
                write(family, key, need[key])
                changed.append((family, key, before, need[key]))
    if changed:
        record["host_sysctls"] = changed
    return changed


def restore(record):
    """Put back each limit the lab raised, if it still holds the lab's value."""
    for family, key, before, after in reversed(record.get("host_sysctls", [])):
        if read(family, key) == after:
            write(family, key, before)
