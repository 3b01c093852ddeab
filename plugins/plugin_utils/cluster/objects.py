# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the verbs say about objects: how one is named in a message, what of it a diff shows (the
server's bookkeeping left out, a Secret's values redacted), and the fields a copy drops."""

from __future__ import annotations

import copy
import json

REDACTED = "<redacted>"
REDACTED_CHANGED = "<redacted, changed>"
# The server's bookkeeping: not part of what an apply asks for, never a difference.
SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink")
# A copy kept of an object, to create it again, drops these too: the new object gets its own.
COPY_DROPS = SERVER_METADATA + ("deletionTimestamp", "deletionGracePeriodSeconds", "finalizers", "ownerReferences")


def ref(api_version, kind, name, namespace=None):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def describe(obj):
    """`Kind name` or `Kind namespace/name`, as messages name an object."""
    meta = obj.get("metadata") or {}
    if meta.get("name") is None:
        return "every %s" % obj.get("kind")
    where = "%s/%s" % (meta["namespace"], meta.get("name")) if meta.get("namespace") else meta.get("name")
    return "%s %s" % (obj.get("kind"), where)


def key(obj):
    meta = obj.get("metadata") or {}
    return obj.get("kind"), meta.get("namespace"), meta.get("name")


def plain(value):
    """Plain dicts, lists and strings (Ansible hands plugins its own tagged types)."""
    return json.loads(json.dumps(value))


def shown(obj, than=None):
    """The object as a diff shows it: without the server's bookkeeping, a Secret's values
    redacted (marked changed where they differ from `than`'s, the object before)."""
    if obj is None:
        return None
    obj = copy.deepcopy(obj)
    meta = obj.get("metadata") or {}
    for field in SERVER_METADATA:
        meta.pop(field, None)
    (meta.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if obj.get("kind") == "Secret":
        for field in ("data", "stringData"):
            old = (than or {}).get(field) or {}
            if obj.get(field):
                obj[field] = dict((k, REDACTED if than is None or old.get(k) == v else REDACTED_CHANGED)
                                  for k, v in obj[field].items())
    return obj


def same(before, after):
    """The object did not change (status aside: it is the controllers', not ours)."""
    def spec(obj):
        obj = shown(obj)
        if obj is not None:
            obj.pop("status", None)
        return obj
    return spec(before) == spec(after)


def deleting(obj):
    return bool(obj and (obj.get("metadata") or {}).get("deletionTimestamp"))


def copy_of(obj):
    """The object as it can be created again: without the server's fields and its status."""
    obj = plain(obj)
    meta = dict((k, v) for k, v in obj["metadata"].items() if k not in COPY_DROPS)
    return dict((k, v) for k, v in dict(obj, metadata=meta).items() if k != "status")


def field(obj, path):
    """The value at a dotted path, or None."""
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def daemonset_ready(obj):
    """Every scheduled pod runs the current template and is ready (what `kubectl rollout status` waits for)."""
    if obj is None:
        return False
    status = obj.get("status") or {}
    desired = status.get("desiredNumberScheduled")
    return (desired is not None
            and status.get("observedGeneration", 0) >= (obj.get("metadata") or {}).get("generation", 0)
            and status.get("updatedNumberScheduled", 0) == desired
            and status.get("numberReady", 0) == desired
            and not status.get("numberUnavailable"))
