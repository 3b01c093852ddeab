# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read -> plan -> apply, shared by the Ansible module and the boot-time CLI."""

from __future__ import absolute_import, division, print_function

import os
import re
import subprocess
import time

from . import kernel, read
from .kinds import ENTRY_KINDS, LINK, Ownership, retire_entries
from .plan import handover_pending, make_plan, without_handed_over

__metaclass__ = type


class ReconcileError(Exception):
    def __init__(self, message, result=None):
        super(ReconcileError, self).__init__(message)
        self.result = result or {}


class Runner:
    """Runs argv lists (never a shell string), optionally under a prefix such as
    `ip netns exec NS` for tools that work on a namespace from outside."""

    def __init__(self, prefix=None):
        self.prefix = list(prefix or [])

    def run(self, argv, stdin=None):
        argv = [self.which(argv[0])] + list(argv[1:])
        proc = subprocess.Popen(self.prefix + argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True)
        out, err = proc.communicate(stdin)
        if proc.returncode != 0:
            raise ReconcileError("%s failed (rc=%d): %s" % (" ".join(argv), proc.returncode, err.strip()))
        return out

    def start_all(self, argvs):
        """Start every {name: argv} at once; the returned function waits and gives
        {name: (rc, stdout, stderr)}. Output goes to anonymous memory files, so no dump
        stalls on a full pipe and nothing wakes this process while they run."""
        started = {}
        for name, argv in argvs.items():
            out, err = (os.memfd_create("nodenet-%s-%d" % (name, i)) for i in (1, 2))
            proc = subprocess.Popen(self.prefix + [self.which(argv[0])] + list(argv[1:]),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            started[name] = (proc, out, err)

        def read_all(fd):
            size = os.lseek(fd, 0, os.SEEK_END)
            os.lseek(fd, 0, os.SEEK_SET)
            data = os.read(fd, size) if size else b""
            os.close(fd)
            return data.decode()

        def wait():
            return dict((name, (proc.wait(), read_all(out), read_all(err)))
                        for name, (proc, out, err) in started.items())
        return wait

    @staticmethod
    def which(tool):
        # iproute2 lives in /usr/sbin or /sbin, which a non-login PATH may lack.
        for folder in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]:
            path = os.path.join(folder, tool)
            if folder and os.access(path, os.X_OK):
                return path
        return tool


def normalise(desired):
    """Canonical forms, by each kind's canonicaliser, so comparisons with the kernel's output are exact."""
    state = dict(desired)
    state.setdefault("state", "present")
    state.setdefault("route_table", kernel.MAIN_TABLE)
    state["route_table"] = table_id(state["route_table"])
    state["route_protocol"] = int(state["route_protocol"])
    state["route_metric"] = int(state.get("route_metric") or 0)
    if state.get("device"):
        state["device"] = LINK.canonical(state["device"])
    for key, kind in ENTRY_KINDS:
        state[key] = kind.canonical(state.get(key) or [])
    state["replace_foreign_on"] = list(state.get("replace_foreign_on") or [])
    state["retire_devices"] = list(state.get("retire_devices") or [])
    retire_entries(state["retire_devices"])  # refuses an unknown kind now, before any read
    state["foreign_identical_satisfies"] = bool(state.get("foreign_identical_satisfies", False))
    state["use_nexthops"] = bool(state.get("use_nexthops", True))
    state["handover_wait"] = int(state.get("handover_wait") or 0)
    check_unique(state)
    return state


def table_id(table):
    names = {"main": 254, "local": 255, "default": 253}
    return names[table] if table in names else int(table)


def check_unique(state):
    for key, kind in ENTRY_KINDS:
        seen = set()
        for entry in state[key]:
            if kind.key(entry) in seen:
                raise ReconcileError("%s lists %s twice" % (key, kind.describe(entry)))
            seen.add(kind.key(entry))


def owned_lines(state, dataplane=None):
    """Readable lines of what we own: from the dataplane (before) or the desired state (after)."""
    owner = Ownership(state)
    kinds = dict(ENTRY_KINDS)
    lines = []
    if dataplane is None:
        if state["state"] == "present":
            if state.get("device"):
                lines.append(LINK.describe(state["device"]))
            for key, kind in ENTRY_KINDS:
                lines += [kind.describe(entry) for entry in state[key]]
    else:
        link = dataplane.link(owner.device) if owner.device else None
        if link:
            lines.append(LINK.describe(link))
            lines += [kinds["neighbors"].describe(n) for n in dataplane.neighbors if owner.owns("neighbor", n)]
            lines += [kinds["fdb"].describe(f) for f in dataplane.fdb if owner.owns("fdb", f)]
        lines += [kinds["routes"].describe(r) for r in dataplane.routes if owner.owns("route", r)]
        # Another agent's device this run retires: gone in the after side.
        retired = [entry[0] for entry in retire_entries(state["retire_devices"]) if state["state"] == "present"]
        lines += ["%s (retired)" % LINK.describe(dataplane.link(name)) for name in retired if dataplane.link(name)]
    return sorted(lines)


def reconcile(desired, runner=None, check_mode=False, want_diff=False, want_restore=False):
    """Bring the node to `desired`. Returns a result dict; raises ReconcileError."""
    runner = runner or Runner()
    # The kernel dumps run while the desired state is normalised.
    collect = start_read(runner, desired)
    state = normalise(desired)
    dataplane = read_dataplane(runner, state, collect)
    pending = handover_pending(state, dataplane)
    if pending and state["handover_wait"] and not check_mode:
        dataplane, pending = wait_for_handover(runner, state, pending)
    # With a wait, check mode shows the run after the handover it would wait for.
    assumed = bool(check_mode and state["handover_wait"])
    state = without_handed_over(state, [] if assumed else pending)
    if pending and not assumed:
        state["retire_devices"] = []  # another agent's device goes only once its routes are handed over
    plan = make_plan(state, dataplane)
    result = plan.as_dict()
    if pending:
        result["handover_pending"] = successors(pending)
    if check_mode and want_restore and state["state"] == "present":
        result["restore"] = restore_state(state, dataplane)
    if want_diff:
        result["diff"] = {
            "before": "\n".join(owned_lines(state, dataplane)) + "\n",
            "after": "\n".join(owned_lines(state)) + "\n",
            "before_header": "kernel (owned entries)",
            "after_header": "desired",
        }
    if plan.errors:  # nothing ran, so nothing changed, whatever the plan held
        raise ReconcileError("nothing was changed: " + "; ".join(plan.errors), dict(result, changed=False))
    if check_mode or not plan.changed:
        return result
    applied, error = apply(runner, plan.batches())
    if error is None:
        return result
    # The kernel refused a line: put back what we owned before, and say exactly what is left.
    result["changed"] = bool(applied)
    result["applied"] = applied
    message = "applying failed after %d of %d change line(s): %s" % (len(applied), len(plan.steps), error)
    if applied:
        try:
            restored = reconcile_restore(runner, state, dataplane)
            result["rolled_back"] = restored
            message += "; rolled back: the owned state is as it was before this run"
        except ReconcileError as exc:
            result["rolled_back"] = None
            message += "; rolling back failed too (%s): the lines in `applied` are in effect" % exc
    raise ReconcileError(message, result)


def start_read(runner, desired):
    device = (desired.get("device") or {}).get("name")
    return read.start_read(runner, device, table_id(desired.get("route_table", kernel.MAIN_TABLE)),
                           int(desired["route_protocol"]))


def read_dataplane(runner, state, collect):
    """The dataplane; the whole route table where a desired destination has no route of ours or
    a route waits for its successor (another agent's route)."""
    try:
        dataplane = collect()
    except RuntimeError as exc:
        raise ReconcileError(str(exc))
    ours = dataplane.own_route_destinations()
    if state["state"] == "present" and any(r["dst"] not in ours or r.get("handover") for r in state["routes"]):
        try:
            dataplane.routes = read.read_foreign_routes(runner, state["route_table"])
        except RuntimeError as exc:
            raise ReconcileError(str(exc))
    return dataplane


def wait_for_handover(runner, state, pending):
    """Read again every second until every bridging route's successor is there (dataplane, []),
    or fail after handover_wait seconds with nothing changed."""
    deadline = time.monotonic() + state["handover_wait"]
    while pending and time.monotonic() < deadline:
        time.sleep(1)
        dataplane = read_dataplane(runner, state, start_read(runner, state))
        pending = handover_pending(state, dataplane)
    if pending:
        missing = successors(pending)
        raise ReconcileError("nothing was changed: after %d s, %d route(s) still wait for the route that takes "
                             "over from them: %s; they stay until it is there" % (
                                 state["handover_wait"], len(pending), ", ".join(
                                     "%s via %s dev %s" % (r["dst"], r["via"], r["dev"]) for r in missing)),
                             {"changed": False, "handover_pending": missing})
    return dataplane, pending


def successors(pending):
    """The successor routes the pending bridges wait for, each once."""
    found = []
    for route in pending:
        if route["handover"] not in found:
            found.append(route["handover"])
    return found


def apply(runner, batches):
    """Run the batches in order (one process per run of consecutive phases of one tool,
    kinds.PHASES). Returns (the lines applied, None) or, when the kernel refuses a line, (the
    lines before it, the error): `ip -batch` stops at the first failing line, which it numbers."""
    applied = []
    for tool, lines in batches:
        try:
            runner.run([tool, "-batch", "-"], "\n".join(lines) + "\n")
        except ReconcileError as exc:
            match = FAILED_LINE.search(str(exc))
            done = int(match.group(1)) - 1 if match else 0
            applied += lines[:done]
            return applied, "%s (the line was: %s)" % (exc, lines[done]) if done < len(lines) else str(exc)
        applied += lines
    return applied, None


FAILED_LINE = re.compile(r"Command failed -:(\d+)")


# The keys of a desired state document (what the module's `desired` option takes).
STATE_KEYS = ("device", "neighbors", "fdb", "routes", "route_protocol", "route_table", "route_metric", "replace_foreign_on",
              "foreign_identical_satisfies", "retire_devices", "use_nexthops", "handover_wait", "state")


def restore_state(state, dataplane):
    """The desired state that gives back what we owned before this run: the device (one
    address), its permanent neighbors and FDB entries, and our routes; a device this run would
    create goes again (retired by kind)."""
    owner = Ownership(state)
    link = dataplane.link(owner.device) if owner.device else None
    before = dict((k, state[k]) for k in STATE_KEYS if k in state)
    before.update(retire_devices=[], foreign_identical_satisfies=True, handover_wait=0, state="present")
    before["device"] = None
    if link is not None and link["kind"] == state["device"].get("kind", "vxlan"):
        before["device"] = dict((k, v) for k, v in link.items() if k not in ("addresses", "up", "carrier"))
        before["device"]["address"] = link["addresses"] or state["device"]["addresses"]
    elif owner.device and link is None:
        before["retire_devices"] = [{"name": owner.device, "kind": state["device"].get("kind", "vxlan")}]
    before["neighbors"] = [{"ip": n["ip"], "mac": n["mac"]} for n in dataplane.neighbors if owner.owns("neighbor", n)]
    before["fdb"] = [{"mac": f["mac"], "dst": f["dst"]} for f in dataplane.fdb if owner.owns("fdb", f)]
    before["routes"] = [dict((k, r[k]) for k in ("dst", "via", "dev", "onlink")) for r in dataplane.routes
                        if owner.owns("route", r) and r["metric"] == kernel.read_metric(owner.metric, r["dst"])]
    return before


def reconcile_restore(runner, state, dataplane):
    """Bring the node back to restore_state()."""
    return reconcile(restore_state(state, dataplane), runner)["changes"]
