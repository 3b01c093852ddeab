# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a facet writes its cluster steps: one constructor per action, each taking the plan's
per-cluster items ({cluster, kubeconfig, context, api, ...}) and giving one step per cluster,
and gates, where the order waits for the nodes (a role runs its node tasks there). `stage`
cuts an order at its gates: a role asks for the steps after one gate, up to the next."""

from __future__ import annotations

import importlib

ACCESS = ("kubeconfig", "context", "api")
PLUGIN_UTILS = "ansible_collections.nodenet.fabric.plugins.plugin_utils."


def named(function):
    """How a step names a facet's function (a check, a condition): its dotted name under plugin_utils."""
    if not function.__module__.startswith(PLUGIN_UTILS):
        raise ValueError("%s is not a function under plugin_utils" % function.__qualname__)
    return "%s.%s" % (function.__module__[len(PLUGIN_UTILS):], function.__name__)


def function_named(name):
    """The facet's function a step names (see `named`), or LookupError."""
    module, _dot, function = name.rpartition(".")
    try:
        return getattr(importlib.import_module(PLUGIN_UTILS + module), function)
    except (ImportError, AttributeError, ValueError):
        raise LookupError("%s: no such function under plugin_utils (a step names its facet's function)" % name)


def step(item, action, name, **keys):
    result = {"cluster": item["cluster"], "action": action, "name": name}
    result.update((k, item.get(k)) for k in ACCESS)
    result.update((k, v) for k, v in keys.items() if v is not None)
    return result


def apply(items, name, file=None, force=False, secret=False, field_manager=None):
    """Server-side apply each item's `manifests` (and prune by its `prune`, if any)."""
    return [step(i, "apply", name, objects=i["manifests"], file=file, force=force or None, secret=secret or None,
                 field_manager=field_manager, prune=i.get("prune")) for i in items]


def per_object(items, action, name, objects, **keys):
    """One `action` step per item whose `objects(item)` is not empty."""
    result = []
    for item in items:
        found = objects(item)
        if found:
            result.append(step(item, action, name, objects=found, **keys))
    return result


def gate(name):
    """Here the order waits for the nodes: the steps after it run when the role asks for stage `name`."""
    return {"action": "gate", "name": name}


def stage(order, after=None):
    """The steps of `order` after gate `after` (None: from the start) up to the next gate."""
    if after is not None:
        names = [s["name"] for s in order if s["action"] == "gate"]
        if after not in names:
            raise ValueError("no gate %r in this order (its gates: %s)" % (after, ", ".join(names) or "none"))
        order = order[[i for i, s in enumerate(order) if s["action"] == "gate" and s["name"] == after][0] + 1:]
    result = []
    for item in order:
        if item["action"] == "gate":
            break
        result.append(item)
    return result


def gates(order):
    return [s["name"] for s in order if s["action"] == "gate"]
