# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One function per step action. Each reads what it needs, decides, and acts only outside
check mode; it returns what changed as [Change] and, for a check, problem lines. A verb never
reads an Ansible variable: everything it knows is in its step."""

from __future__ import annotations

import time

import yaml

from . import objects, steps
from .api import ApiError
from .owners import MANAGER, OURS

FIELD_MANAGER = MANAGER


class Change:
    """One object changed (or, in check mode, that would change): what, how, and its two sides."""

    def __init__(self, obj, how, before=None, after=None):
        self.what = objects.describe(obj)
        self.how = how
        self.before = objects.shown(before)
        self.after = objects.shown(after, than=before)

    def row(self):
        return "%s %s" % (self.how, self.what)


class StepFailed(Exception):
    """A verb cannot go on; `what` names the object (or the step's subject)."""

    def __init__(self, what, message):
        super().__init__(message)
        self.what = what
        self.message = message


class Context:
    """What every verb shares: the cluster's Api, check mode, and the run's time limit."""

    def __init__(self, api, check_mode, timeout, sleep=1.0, clock=time.monotonic, pause=time.sleep):
        self.api = api
        self.check_mode = check_mode
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.pause = pause

    def until(self, what, ready, describe_wait):
        """Poll `ready()` until true, or fail naming what was awaited."""
        deadline = self.clock() + self.timeout
        while not ready():
            if self.clock() >= deadline:
                raise StepFailed(what, "still %s after %s s" % (describe_wait, self.timeout))
            self.pause(self.sleep)


def on(obj, call):
    """Run `call`, naming `obj` in its failure."""
    try:
        return call()
    except ApiError as exc:
        raise StepFailed(objects.describe(obj), exc.message)


def apply_one(ctx, obj, field_manager, force):
    before = on(obj, lambda: ctx.api.get(obj))
    if ctx.check_mode:
        after = on(obj, lambda: ctx.api.apply(obj, field_manager, force, dry_run=True))
        changed = not objects.same(before, after)
    else:
        after = on(obj, lambda: ctx.api.apply(obj, field_manager, force))
        changed = before is None or (before["metadata"].get("resourceVersion")
                                     != after["metadata"].get("resourceVersion"))
    if not changed:
        return []
    return [Change(obj, "created" if before is None else "updated", before, after)]


def apply(ctx, step):
    """Server-side apply each object (its field manager, forcing conflicts only when told), then
    prune: delete the objects the step's selector finds that no object of the step names."""
    manager = step.get("field_manager") or FIELD_MANAGER
    changes = []
    for obj in step.get("objects", []):
        changes += apply_one(ctx, obj, manager, bool(step.get("force")))
    prune = step.get("prune")
    if prune:
        wanted = set(objects.key(o) for o in step.get("objects", []))
        listed = on({"kind": prune["kind"], "metadata": {"name": None}},
                    lambda: ctx.api.list(prune["api_version"], prune["kind"], label_selector=prune["label_selector"]))
        for found in listed:
            found.setdefault("apiVersion", prune["api_version"])
            found.setdefault("kind", prune["kind"])
            if objects.key(found) not in wanted and OURS.owns("object", found):  # the label, read again
                changes += delete_one(ctx, found, None)
    return changes


def delete_one(ctx, obj, propagation):
    live = on(obj, lambda: ctx.api.get(obj))
    if live is None:
        return []
    if not ctx.check_mode:
        on(obj, lambda: ctx.api.delete(obj, propagation))
    return [Change(obj, "deleted", live, None)]


def gone(ctx, obj):
    ctx.until(objects.describe(obj), lambda: on(obj, lambda: ctx.api.get(obj)) is None, "there")


def delete(ctx, step):
    """Delete each object that is there (its dependents first with `propagation: Foreground`),
    and with `wait`, wait until each is gone."""
    changes = []
    for obj in step.get("objects", []):
        done = delete_one(ctx, obj, step.get("propagation"))
        changes += done
        if step.get("wait") and not ctx.check_mode:
            gone(ctx, obj)
    return changes


def wait(ctx, step):
    """Wait until each object is ready (`until: ready`, a DaemonSet's rollout done on every node;
    with `if_present`, one that is not there is not awaited) or gone (`until: gone`). Nothing is
    awaited in check mode: nothing changed."""
    if ctx.check_mode:
        return []

    def ready(obj):
        live = on(obj, lambda: ctx.api.get(obj))
        return (live is None and step.get("if_present")) or objects.daemonset_ready(live)

    for obj in step.get("objects", []):
        if step.get("until") == "gone":
            gone(ctx, obj)
        else:
            ctx.until(objects.describe(obj), lambda o=obj: ready(o), "not ready")
    return []


def keep(ctx, step):
    """Keep a copy of each object in a ConfigMap beside it (key `<kind>.yaml`, the step's labels),
    to create it again later: from the object while it is there (the copy follows it); once it is
    gone, the copy stays as it is. An object being deleted is copied only when no copy exists."""
    changes = []
    for obj in step.get("objects", []):
        copy_ref = objects.ref("v1", "ConfigMap", step["copy"], obj["metadata"].get("namespace"))
        live = on(obj, lambda: ctx.api.get(obj))
        kept = on(copy_ref, lambda: ctx.api.get(copy_ref))
        if live is None or (objects.deleting(live) and kept is not None):
            continue
        copy_ref["metadata"]["labels"] = dict(step.get("labels") or {})
        copy_ref["data"] = {copy_key(obj): yaml.safe_dump(objects.copy_of(live), default_flow_style=False)}
        changes += apply_one(ctx, copy_ref, step.get("field_manager") or FIELD_MANAGER, False)
    return changes


def copy_key(obj):
    return "%s.yaml" % obj["kind"].lower()


def restore(ctx, step):
    """Create each object again from its copy (`keep`) where it is not there: one still being
    deleted is waited out first. Created, not applied: its fields' owners are the ones it had.
    Without a copy there is nothing to bring back (the object never ran: nothing was kept)."""
    changes = []
    for obj in step.get("objects", []):
        copy_ref = objects.ref("v1", "ConfigMap", step["copy"], obj["metadata"].get("namespace"))
        live = on(obj, lambda: ctx.api.get(obj))
        if live is not None and not objects.deleting(live):
            continue
        kept = on(copy_ref, lambda: ctx.api.get(copy_ref))
        if kept is None or copy_key(obj) not in (kept.get("data") or {}):
            continue
        definition = yaml.safe_load(kept["data"][copy_key(obj)])
        if not ctx.check_mode:
            if live is not None:
                gone(ctx, obj)
            on(obj, lambda: ctx.api.create(definition))
        changes.append(Change(obj, "created", None, definition))
    return changes


def edit(ctx, step):
    """Set one value inside the YAML document a ConfigMap key holds (`key`, a dotted `path`,
    `value`), applying only that key (`force`: the key is another manager's, as kubeadm's record
    is); a ConfigMap that is not there, or without the key, is left alone."""
    changes = []
    for obj in step.get("objects", []):
        live = on(obj, lambda: ctx.api.get(obj))
        if live is None or step["key"] not in (live.get("data") or {}):
            continue
        document = yaml.safe_load(str(live["data"][step["key"]])) or {}
        node = document
        parts = step["path"].split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if node.get(parts[-1]) == step["value"]:
            continue
        node[parts[-1]] = step["value"]
        patch = objects.ref("v1", "ConfigMap", obj["metadata"]["name"], obj["metadata"].get("namespace"))
        patch["data"] = {step["key"]: yaml.safe_dump(document, default_flow_style=False)}
        changes += apply_one(ctx, patch, step.get("field_manager") or FIELD_MANAGER, bool(step.get("force")))
    return changes


def release(ctx, step):
    """Give back what our field manager applied on objects of a kind the step no longer names:
    each object whose managed fields show our manager owning a key under `prefix` (of
    metadata.annotations or metadata.labels) is applied by that manager with its name only, so
    the API server drops what it owned."""
    manager = step.get("field_manager") or FIELD_MANAGER
    wanted = set(objects.key(o) for o in step.get("objects", []))
    changes = []
    subject = {"kind": step["kind"], "metadata": {"name": None}}
    for found in on(subject, lambda: ctx.api.list(step["api_version"], step["kind"])):
        found.setdefault("apiVersion", step["api_version"])
        found.setdefault("kind", step["kind"])
        if objects.key(found) in wanted or not OURS.owns("field", (found, manager, step["prefix"])):
            continue
        meta = found["metadata"]
        changes += apply_one(ctx, objects.ref(step["api_version"], step["kind"], meta["name"], meta.get("namespace")),
                             manager, False)
    return changes


def restart(ctx, step):
    """Restart each DaemonSet as `kubectl rollout restart` does (its template's restartedAt
    annotation, so its own rolling update replaces the pods node by node)."""
    changes = []
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for obj in step.get("objects", []):
        live = on(obj, lambda: ctx.api.get(obj))
        if live is None:
            raise StepFailed(objects.describe(obj), "it is not there to restart")
        patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
        after = live if ctx.check_mode else on(obj, lambda: ctx.api.patch(obj, patch))
        changes.append(Change(obj, "restarted", live, after))
    return changes


def facet_function(name):
    """A facet's function named `module.function` under plugin_utils (a check, a condition)."""
    try:
        return steps.function_named(name)
    except LookupError as exc:
        raise StepFailed(name, str(exc).split(": ", 1)[1])


def read(ctx, reads):
    """{name: object or None, or [objects]} of a step's `read`: one object where it gives a
    name, else every object of the kind (in its namespace, if given)."""
    found = {}
    for name, spec in sorted((reads or {}).items()):
        if "name" in spec:
            obj = objects.ref(spec["api_version"], spec["kind"], spec["name"], spec.get("namespace"))
            found[name] = on(obj, lambda o=obj: ctx.api.get(o))
        else:
            subject = {"kind": spec["kind"], "metadata": {"name": None}}
            found[name] = on(subject, lambda r=spec: ctx.api.list(r["api_version"], r["kind"], r.get("namespace")))
    return found


def check(ctx, step):
    """Read the step's `read` and hand it to the facet's `check` function (step, found) -> problem
    lines. Nothing changes."""
    return facet_function(step["check"])(step, read(ctx, step.get("read")))


def wanted(ctx, step, changed):
    """Whether a step with `only_if` runs: the facet's function (step, found, changed) decides,
    from its `read` and the names of this cluster's steps that changed so far."""
    if not step.get("only_if"):
        return True
    return facet_function(step["only_if"])(step, read(ctx, step.get("read")), changed)


VERBS = {"apply": apply, "delete": delete, "wait": wait, "keep": keep, "restore": restore, "edit": edit,
         "release": release, "restart": restart}
