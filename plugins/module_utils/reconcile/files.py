# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files that make the state survive a reboot: the saved state (0600), this
package (the boot-time apply tool) and the route protocol names. Written
atomically and only when their content or mode differs."""

from __future__ import absolute_import, division, print_function

import json
import os
import pkgutil
import tempfile

from . import cli
from .protocols import ROUTE_PROTOCOLS

__metaclass__ = type

# cli is imported so that AnsiballZ carries it to the node with the rest of the tool.
TOOL_FILES = ("__init__.py", cli.__name__.rsplit(".", 1)[1] + ".py", "core.py", "files.py", "kernel.py", "kinds.py", "ownership.py", "plan.py", "protocols.py",
              "read.py")
RT_PROTOS = "/etc/iproute2/rt_protos.d/nodenet.conf"
STATE_DIR_MODE = 0o700


def tool_sources():
    """This package's own source, read through its loader (works inside AnsiballZ)."""
    package = __name__.rsplit(".", 1)[0]
    return dict((name, pkgutil.get_data(package, name)) for name in TOOL_FILES)


def rt_protos_text(names=None):
    names = ROUTE_PROTOCOLS if names is None else names
    lines = ["# nodenet.fabric route protocols; routes we own carry these numbers."]
    lines += ["%d\t%s" % (number, name) for name, number in sorted(names.items(), key=lambda i: i[1])]
    return ("\n".join(lines) + "\n").encode()


def state_text(state):
    return (json.dumps(state, sort_keys=True, separators=(",", ":")) + "\n").encode()


def unit_text(root, state_file, tool_dir):
    """The boot unit that re-applies the saved state with the installed tool."""
    name = os.path.splitext(os.path.basename(state_file))[0]
    return "\n".join([
        "# Managed by nodenet.fabric; local changes are overwritten.",
        "[Unit]",
        "Description=nodenet.fabric: re-apply %s state" % name,
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        "ExecStart=/usr/bin/python3 %s/cli.py %s" % (root + tool_dir, root + state_file),
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        ""]).encode()


def wanted_files(root, state_file, state, tool_dir, unit=None):
    """{path: (bytes, mode)} for a present state; `unit`, the boot unit's path, when one is kept."""
    files = {root + state_file: (state_text(state), 0o600),
             root + RT_PROTOS: (rt_protos_text(), 0o644)}
    for name, data in tool_sources().items():
        files[os.path.join(root + tool_dir, name)] = (data, 0o644)
    if unit:
        files[root + unit] = (unit_text(root, state_file, tool_dir), 0o644)
    return files


def differs(path, data, mode):
    try:
        with open(path, "rb") as handle:
            if handle.read() != data:
                return True
        return (os.stat(path).st_mode & 0o7777) != mode
    except (IOError, OSError):
        return True


def sync(files, check_mode=False):
    """Write what differs; return the changed paths."""
    changed = sorted(path for path, (data, mode) in files.items() if differs(path, data, mode))
    if check_mode:
        return changed
    for path in changed:
        write(path, *files[path])
    return changed


def write(path, data, mode):
    """Replace the file at once (a temporary file renamed over it), creating its folder."""
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder, STATE_DIR_MODE if mode == 0o600 else 0o755)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".nodenet-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove(paths, check_mode=False):
    gone = sorted(p for p in paths if os.path.exists(p))
    if not check_mode:
        for path in gone:
            os.unlink(path)
    return gone
