"""An API server in memory for the cluster engine's unit tests: objects keyed by kind, namespace
and name; server-side apply with field ownership per manager (an apply that drops a field its
manager owned alone removes it; a field another manager set to another value is a conflict
unless forced); resourceVersion bumped only on a change; dry runs that change nothing; deletion
that may leave an object terminating for a number of reads. A DaemonSet is ready as soon as it
is written (`ready=False` keeps it rolling out). The lab's kube-apiserver is the real judge;
this one lets each verb's decisions be tested one by one."""
import copy
import json

from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster.api import ApiError

CLUSTER_SCOPED = {"Node", "ClusterRole", "ClusterRoleBinding", "IPPool", "BGPConfiguration", "BGPPeer", "Namespace"}


def leaves(obj, prefix=()):
    """Every leaf path of an object's metadata labels/annotations, data, spec (lists are leaves)."""
    paths = {}
    for k, v in obj.items():
        if k in ("apiVersion", "kind", "status") or (prefix == ("metadata",) and k not in ("labels", "annotations")):
            continue
        if isinstance(v, dict) and v:
            paths.update(leaves(v, prefix + (k,)))
        else:
            paths[prefix + (k,)] = v
    return paths


def put(obj, path, value):
    for part in path[:-1]:
        obj = obj.setdefault(part, {})
    obj[path[-1]] = copy.deepcopy(value)


def drop(obj, path):
    parents = []
    for part in path[:-1]:
        if part not in obj:
            return
        parents.append((obj, part))
        obj = obj[part]
    obj.pop(path[-1], None)
    for parent, part in reversed(parents):
        if parent[part] == {}:
            del parent[part]


def fields_v1(paths):
    tree = {}
    for path in paths:
        node = tree
        for part in path:
            node = node.setdefault("f:" + part, {})
    return tree


class FakeApi:
    def __init__(self, objects=(), ready=True, terminating_reads=0):
        self.objects = {}
        self.owned = {}  # key: {manager: set(paths)}
        self.version = 100
        self.ready = ready
        self.terminating_reads = terminating_reads
        self.terminating = {}  # key: reads left
        self.calls = []
        for obj in objects:
            self.store(copy.deepcopy(obj))

    def key(self, obj):
        meta = obj["metadata"]
        return obj["kind"], None if obj["kind"] in CLUSTER_SCOPED else meta.get("namespace"), meta["name"]

    def bump(self, obj):
        self.version += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self.version)
        meta["generation"] = meta.get("generation", 0) + 1
        if obj["kind"] == "DaemonSet":
            obj["status"] = ({"desiredNumberScheduled": 2, "numberReady": 2, "updatedNumberScheduled": 2,
                              "observedGeneration": meta["generation"]} if self.ready else
                             {"desiredNumberScheduled": 2, "numberReady": 1, "updatedNumberScheduled": 1,
                              "observedGeneration": meta["generation"]})

    def store(self, obj):
        obj["metadata"].setdefault("managedFields", [])
        self.bump(obj)
        self.objects[self.key(obj)] = obj

    def managed(self, key):
        obj = self.objects[key]
        obj["metadata"]["managedFields"] = [
            {"manager": m, "operation": "Apply", "fieldsV1": fields_v1(paths)}
            for m, paths in sorted(self.owned.get(key, {}).items()) if paths]

    # the Api interface
    def get(self, ref):
        self.calls.append(("get", self.key(ref)))
        key = self.key(ref)
        if key in self.terminating:
            self.terminating[key] -= 1
            if self.terminating[key] < 0:
                del self.terminating[key]
                del self.objects[key]
        found = self.objects.get(key)
        return copy.deepcopy(found) if found else None

    def list(self, api_version, kind, namespace=None, label_selector=None):
        self.calls.append(("list", kind))
        wanted = dict(p.split("=", 1) for p in label_selector.split(",")) if label_selector else {}
        result = []
        for (k, ns, _name), obj in sorted(self.objects.items(), key=lambda i: str(i[0])):
            labels = obj["metadata"].get("labels") or {}
            if k == kind and (namespace is None or ns == namespace) and all(labels.get(a) == b for a, b in wanted.items()):
                result.append(copy.deepcopy(obj))
        return result

    def apply(self, obj, field_manager, force=False, dry_run=False):
        self.calls.append(("apply", self.key(obj), field_manager, force, dry_run))
        key = self.key(obj)
        before = self.objects.get(key)
        after = copy.deepcopy(before) if before else {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                                                     "metadata": dict(obj["metadata"])}
        owned = copy.deepcopy(self.owned.get(key, {}))
        wanted = leaves(obj)
        for path, value in wanted.items():
            for other, paths in owned.items():
                if other != field_manager and path in paths and (before is not None) and \
                        leaves(before).get(path, object()) != value:
                    if not force:
                        raise ApiError(409, "Apply failed with 1 conflict: conflict with \"%s\": .%s (Conflict)"
                                       % (other, ".".join(path)))
                    paths.discard(path)
        for path in owned.get(field_manager, set()) - set(wanted):
            if not any(path in p for m, p in owned.items() if m != field_manager):
                drop(after, path)
        for path, value in wanted.items():
            put(after, path, value)
        owned[field_manager] = set(wanted)
        if dry_run:
            return after
        if before is not None and json.dumps(before, sort_keys=True) == json.dumps(
                dict(after, metadata=dict(after["metadata"], managedFields=before["metadata"]["managedFields"])),
                sort_keys=True) and owned == self.owned.get(key):
            return copy.deepcopy(before)
        self.owned[key] = owned
        self.bump(after)
        self.objects[key] = after
        self.managed(key)
        return copy.deepcopy(self.objects[key])

    def create(self, obj, dry_run=False):
        self.calls.append(("create", self.key(obj)))
        if self.key(obj) in self.objects:
            raise ApiError(409, "%s already exists (AlreadyExists)" % obj["metadata"]["name"])
        obj = copy.deepcopy(obj)
        if not dry_run:
            self.store(obj)
        return obj

    def patch(self, ref, patch, dry_run=False):
        self.calls.append(("patch", self.key(ref)))
        obj = copy.deepcopy(self.objects[self.key(ref)])
        for path, value in leaves(patch).items():
            put(obj, path, value)
        if not dry_run:
            self.bump(obj)
            self.objects[self.key(ref)] = obj
        return obj

    def delete(self, ref, propagation=None, dry_run=False):
        self.calls.append(("delete", self.key(ref), propagation))
        key = self.key(ref)
        if key not in self.objects:
            return False
        if dry_run:
            return True
        if self.terminating_reads:
            self.objects[key]["metadata"]["deletionTimestamp"] = "2026-12-05T10:00:00Z"
            self.terminating[key] = self.terminating_reads
        else:
            del self.objects[key]
        return True
