# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Kubernetes objects and fields are ours (the ownership policy, module_utils
reconcile/ownership.py): an object we create carries our managed-by label, which is what a prune
lists by and checks again before it deletes; a field is ours when our field manager applied it
(server-side apply), which is what a release gives back."""

from __future__ import annotations

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.ownership import Policy

LABEL = "app.kubernetes.io/managed-by"
MANAGER = "nodenet.fabric"
LABELS = {LABEL: MANAGER}
SELECTOR = "%s=%s" % (LABEL, MANAGER)


class KubernetesOwnership(Policy):
    __slots__ = ()
    KINDS = ("object", "field")

    @staticmethod
    def owns_object(obj):
        return ((obj.get("metadata") or {}).get("labels") or {}).get(LABEL) == MANAGER

    @staticmethod
    def owns_field(item):
        """(object, field manager, key prefix): that manager applied a label or annotation under
        the prefix (a step may name its own manager, which is still ours)."""
        obj, manager, prefix = item
        for entry in (obj.get("metadata") or {}).get("managedFields") or []:
            if entry.get("manager") != manager or entry.get("operation") != "Apply":
                continue
            meta = ((entry.get("fieldsV1") or {}).get("f:metadata") or {})
            for field in ("f:annotations", "f:labels"):
                if any(k.startswith("f:" + prefix) for k in meta.get(field) or {}):
                    return True
        return False


OURS = KubernetesOwnership()


def prune(api_version, kind, namespace=None):
    """A step's `prune`: every object of this kind (in `namespace`) with our label."""
    result = {"api_version": api_version, "kind": kind, "label_selector": SELECTOR}
    if namespace:
        result["namespace"] = namespace
    return result
