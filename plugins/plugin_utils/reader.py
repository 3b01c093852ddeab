# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one typed reader of inventory variables, shared by every facet of the model.

Each facet declares its variables and their defaults (``VARIABLES``); values are read,
defaulted and checked here, and every bad value becomes a FabricError naming the cluster,
node and variable. Read values come out canonical (strings as iproute2 prints them, ints,
bools), so the loaded model is plain data.
"""

from __future__ import annotations

from .addresses import NAMES, family
from .errors import FabricError

# netaddr is imported where a value is parsed, not here: planning from a loaded model (in every
# forked Ansible worker) never parses, and importing netaddr costs ~20 ms per process.

MISSING = object()


def netaddr(*names):
    """Names from netaddr, imported when first needed so that ansible-doc lists the plugins without
    it; a controller without it gets one sentence that says what to install."""
    try:
        import netaddr as library
    except ImportError:
        raise ImportError("nodenet.fabric needs the Python library netaddr on the controller: pip install netaddr "
                          "(an execution environment built from meta/execution-environment.yml has it)") from None
    return tuple(getattr(library, name) for name in names)


class VarReader:
    """Reads one host's variables, recording a FabricError for each bad value."""

    def __init__(self, host, hostvars, errors, defaults, cluster=None, facet="core"):
        self.host = host
        self.facet = facet
        self.vars = hostvars
        self.errors = errors
        self.defaults = defaults
        self.cluster = cluster if cluster is not None else str(hostvars.get("cluster_name") or "")

    def error(self, variable, message):
        self.errors.append(FabricError(self.cluster, self.host, variable, message, self.facet))

    def is_set(self, name):
        return self.vars.get(name) not in (None, "")

    def raw(self, name, required=True):
        value = self.vars.get(name)
        if value is None or value == "":
            value = self.defaults.get(name)
        if value is None or value == "":
            if required:
                self.error(name, "is required but not set")
            return None
        return value

    def network(self, name, required=True, value=MISSING, versions=(4,)):
        """`address/len` with no host bits in one of the families `versions`, or None."""
        net = self._network(name, required, value, versions)
        return None if net is None else str(net)

    def _network(self, name, required=True, value=MISSING, versions=(4,)):
        AddrFormatError, IPNetwork = netaddr("AddrFormatError", "IPNetwork")
        value = self.raw(name, required) if value is MISSING else value
        if value is None:
            return None
        try:
            net = IPNetwork(str(value).strip(), flags=0)
        except (AddrFormatError, ValueError, TypeError):
            self.error(name, "%r is not a CIDR" % (value,))
            return None
        if net.version not in versions or "/" not in str(value):
            self.error(name, "%r is not an %s CIDR (address/prefix)" % (value, family_names(versions)))
            return None
        if net.ip != net.network:
            self.error(name, "%s has host bits set; did you mean %s?" % (value, net.cidr))
            return None
        return net

    def address(self, name, required=True, value=MISSING, versions=(4,)):
        AddrFormatError, IPAddress = netaddr("AddrFormatError", "IPAddress")
        value = self.raw(name, required) if value is MISSING else value
        if value is None:
            return None
        try:
            ip = IPAddress(str(value).strip(), flags=0)
        except (AddrFormatError, ValueError, TypeError):
            ip = None
        if ip is None or ip.version not in versions or (ip.version == 4 and str(ip) != str(value).strip()):
            self.error(name, "%r is not an %s address" % (value, family_names(versions)))
            return None
        if ip.version == 6 and ip.is_link_local():
            self.error(name, "%s is link-local (fe80::/10), which only reaches its own link; give a global or "
                       "unique local (fd00::/8) address" % ip)
            return None
        return str(ip)

    def per_family(self, name, parse, required=True):
        """A value of one CIDR or address per family: one, a comma-separated string as Kubernetes
        flags take them (`10.0.0.0/16,fd00::/56`), or a list; the first is the primary. A tuple, or
        None with every problem recorded."""
        value = self.raw(name, required)
        if value is None:
            return None
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not items:
            self.error(name, "must be one value or a list of one per family (IPv4, IPv6), got %r" % (value,))
            return None
        parsed = [parse(name, value=item, versions=(4, 6)) for item in items]
        if None in parsed:
            return None
        by_family = {}
        for item in parsed:
            by_family.setdefault(family(item), []).append(item)
        repeated = [(v, items) for v, items in sorted(by_family.items()) if len(items) > 1]
        for version, same in repeated:
            self.error(name, "lists %d %s values (%s); give at most one per family"
                       % (len(same), NAMES[version], ", ".join(same)))
        return None if repeated else tuple(parsed)

    def integer(self, name, low, high, required=True):
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool):
            self.error(name, "%r is not an integer" % (value,))
            return None
        try:
            number = int(str(value).strip(), 10)
        except ValueError:
            self.error(name, "%r is not an integer" % (value,))
            return None
        if not low <= number <= high:
            self.error(name, "%d is outside %d..%d" % (number, low, high))
            return None
        return number

    def boolean(self, name):
        value = self.raw(name, required=False)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0", "none"):
            return False
        self.error(name, "%r is not a boolean" % (value,))
        return False

    def choice(self, name, choices, required=True):
        value = self.raw(name, required)
        if value is None:
            return None
        if value not in choices:
            self.error(name, "%r is not one of %s" % (value, ", ".join(choices)))
            return None
        return value

    def mapping(self, name):
        value = self.raw(name, required=False)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(name, "must be a mapping, got %r" % (value,))
            return {}
        return dict(value)

    def mac(self, name):
        EUI, AddrFormatError = netaddr("EUI", "AddrFormatError")
        value = self.raw(name, required=False)
        if value is None:
            return None
        text = str(value).strip()
        try:
            mac = EUI(text)
        except (AddrFormatError, ValueError, TypeError):
            mac = None
        if mac is None or mac.version != 48 or len(text) != 17:
            self.error(name, "%r is not a MAC address like 0a:58:b3:11:01:15" % (value,))
            return None
        problem = mac_problem(mac)
        if problem:
            self.error(name, "%s is %s; a unicast address is required" % (text, problem))
            return None
        return ":".join("%02x" % b for b in mac.packed)

    def ifname(self, name):
        value = self.raw(name)
        if value is None:
            return None
        problem = ifname_problem(value)
        if problem:
            self.error(name, "%r %s" % (value, problem))
            return None
        return str(value)


def family_names(versions):
    return " or ".join(NAMES[v] for v in versions)


def mac_problem(mac):
    """Why a MAC cannot be a vxlan endpoint address, or None."""
    value = int(mac)
    if value == 0:
        return "all-zero"
    if value == 0xFFFFFFFFFFFF:
        return "the broadcast address"
    if (value >> 40) & 1:
        return "a multicast address"
    return None


def ifname_problem(name):
    """Why the kernel would refuse an interface name (dev_valid_name), or None."""
    if not isinstance(name, str):
        return "is not a string"
    if name in ("", ".", ".."):
        return "is not a valid interface name"
    if len(name.encode()) > 15:
        return "is longer than 15 characters, the kernel limit (IFNAMSIZ)"
    if "/" in name or ":" in name:
        return "contains '/' or ':', which the kernel refuses"
    if any(c.isspace() for c in name):
        return "contains whitespace or a newline, which the kernel refuses"
    return None


def is_dns_label(text):
    return (0 < len(text) <= 50 and text[0].isalnum() and text[-1].isalnum()
            and all(c.islower() or c.isdigit() or c == "-" for c in text))


def named(reader, variable, what):
    """A Kubernetes object name (DNS-1123), or None with the problem recorded."""
    value = reader.raw(variable)
    if value is not None and not (isinstance(value, str) and dns_name(value)):
        reader.error(variable, "%r must be a DNS-1123 name (lower-case letters, digits, '-', '.'); it names %s"
                     % (value, what))
        return None
    return value


def item_reader(reader, where, item):
    """The typed reader over one item of a list variable: its keys read as `variable[i].key`."""
    values = dict(("%s.%s" % (where, key), value) for key, value in item.items())
    return VarReader(reader.host, values, reader.errors, {}, reader.cluster, reader.facet)


def mappings(reader, variable, keys, shape, tolerated=()):
    """[(where, item, typed reader)] of each mapping of a list variable; a value that is not a
    list, an item that is not a mapping and unknown keys are recorded as problems."""
    value = reader.raw(variable, required=False) or []
    if not isinstance(value, (list, tuple)):
        reader.error(variable, "must be a list of %s, got %r" % (shape, value))
        return []
    found = []
    for index, item in enumerate(value):
        where = "%s[%d]" % (variable, index)
        if not isinstance(item, dict):
            reader.error(where, "must be a mapping %s" % shape)
            continue
        unknown = sorted(set(item) - set(keys) - set(tolerated))
        if unknown:
            reader.error(where, "has unknown key(s) %s; it takes %s" % (", ".join(unknown), ", ".join(keys)))
        found.append((where, item, item_reader(reader, where, item)))
    return found


def dns_name(text):
    return 0 < len(text) <= 253 and all(part and part[0].isalnum() and part[-1].isalnum() and
                                        all(c.islower() or c.isdigit() or c == "-" for c in part)
                                        for part in text.split("."))
