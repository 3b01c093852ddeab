# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Re-apply a saved state file at boot, without Ansible:

    python3 /usr/local/lib/nodenet-fabric/reconcile/cli.py /etc/nodenet-fabric/vxlan_mesh.json

The roles copy this package to the node and point a systemd unit at it.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import sys

__metaclass__ = type


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if __package__:
        from .core import ReconcileError, reconcile
    else:  # run as a script from the copied package directory
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from reconcile.core import ReconcileError, reconcile
    check = "--check" in argv
    paths = [a for a in argv if not a.startswith("--")]
    if len(paths) != 1:
        sys.stderr.write("usage: cli.py [--check] STATE_FILE\n")
        return 2
    with open(paths[0]) as handle:
        desired = json.load(handle)
    try:
        result = reconcile(desired, check_mode=check)
    except ReconcileError as exc:
        sys.stderr.write("nodenet-fabric: %s\n" % exc)
        return 1
    for line in result["changes"]:
        sys.stdout.write(line + "\n")
    sys.stdout.write("nodenet-fabric: %s, %d change(s)\n" % (paths[0], len(result["changes"])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
