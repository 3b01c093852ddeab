# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calico confd's own test cases, read from the pinned calico module (calico_module), and a
Kubernetes datastore to replay them into: Calico's answers, for the lab to be judged by.

A case is what confd's KDD test suite (confd/tests/test_suite_*.sh) does before it compares
confd's output with `compiled_templates/<dir>`: the objects it applies, in order, and the
checkpoints (the compiled folder to compare with at that point). Cases come from
`mock_data/calicoctl/<family>/<case>/input.yaml` (with `step2/`), and from the suite's inline
tests (heredocs in test_suite_common.sh). Every case starts from the suite's KDD prologue:
`mock_data/kdd/nodes.yaml`, then `explicit_peering/specific_node` applied and its delete.yaml.

The datastore applies `projectcalico.org/v3` objects as calicoctl does in KDD mode: Calico's
kinds as crd.projectcalico.org/v1 objects with the same spec, and a v3 Node as the Kubernetes
Node's annotations (projectcalico.org/IPv4Address, IPv6Address, ASNumber,
RouteReflectorClusterID, and its labels as JSON in projectcalico.org/labels).
"""

import functools
import json
import os
import re
from collections import namedtuple

import yaml

from nnlab import calico_module

CALICO_V1 = "crd.projectcalico.org/v1"
CALICO_KINDS = ("BGPConfiguration", "BGPPeer", "IPPool", "BGPFilter")
NODE_ANNOTATIONS = {"ipv4Address": "projectcalico.org/IPv4Address", "ipv6Address": "projectcalico.org/IPv6Address",
                    "asNumber": "projectcalico.org/ASNumber",
                    "routeReflectorClusterID": "projectcalico.org/RouteReflectorClusterID"}
LABELS_ANNOTATION = "projectcalico.org/labels"
DEFAULT_NODE = "kube-master"
PROLOGUE = "explicit_peering/specific_node"

# op: ("calico", docs) | ("k8s", docs) | ("delete", kind, name, namespace) | ("check", compiled dir)
Case = namedtuple("Case", "name node ops unsupported")


def tests_dir():
    return calico_module.confd_tests()


def load_docs(text):
    """The YAML documents as calicoctl and kubectl read them: into typed fields, so a value in a
    string field stays the text written (a community `5663:12` is not YAML 1.1's sexagesimal
    integer), but for labels, where YAML 1.1's booleans (`yes`, `true`) become "true" and "false"
    (Go's YAML to JSON to map[string]string). Calico kinds are typed by their CRD's schema."""
    raw = list(yaml.load_all(text, Loader=yaml.BaseLoader))
    typed = list(yaml.safe_load_all(text))
    return [typed_doc(r, t) for r, t in zip(raw, typed) if t]


def typed_doc(raw, typed):
    doc = dict(typed)
    if isinstance(typed.get("metadata"), dict):
        doc["metadata"] = dict(typed["metadata"])
        for key in ("labels", "annotations"):
            if isinstance(typed["metadata"].get(key), dict):
                doc["metadata"][key] = dict((k, str(v).lower() if isinstance(v, bool) else raw["metadata"][key][k])
                                            for k, v in typed["metadata"][key].items())
    if typed.get("kind") in CALICO_KINDS and "spec" in typed:
        doc["spec"] = by_schema(raw["spec"], typed["spec"], spec_schema(typed["kind"]))
    elif typed.get("kind") == "Node" and "spec" in typed and str(typed.get("apiVersion", "")).startswith("projectcalico"):
        bgp = dict(raw["spec"].get("bgp") or {})
        if "asNumber" in bgp:
            bgp["asNumber"] = typed["spec"]["bgp"]["asNumber"]
        doc["spec"] = dict(typed["spec"], bgp=bgp) if bgp or "bgp" in typed["spec"] else typed["spec"]
    for key in ("stringData", "data"):
        if key in raw and typed.get("kind") in ("Secret", "ConfigMap"):
            doc[key] = raw[key]
    return doc


def by_schema(raw, typed, schema):
    """`typed`, with the text of `raw` wherever the schema says string."""
    if not schema:
        return typed
    kind = schema.get("type")
    if kind == "string" or (schema.get("x-kubernetes-int-or-string") and not isinstance(typed, int)):
        return raw if isinstance(raw, str) else typed
    if kind == "object" and isinstance(typed, dict) and isinstance(raw, dict):
        props, extra = schema.get("properties") or {}, schema.get("additionalProperties")
        return dict((k, by_schema(raw.get(k), v, props.get(k) or (extra if isinstance(extra, dict) else None)))
                    for k, v in typed.items())
    if kind == "array" and isinstance(typed, list) and isinstance(raw, list):
        return [by_schema(r, t, schema.get("items")) for r, t in zip(raw, typed)]
    return typed


@functools.lru_cache(maxsize=None)
def spec_schema(kind):
    """The openAPIV3Schema of a Calico kind's spec, from its CRD in the calico module."""
    plural = {"BGPConfiguration": "bgpconfigurations", "BGPPeer": "bgppeers", "IPPool": "ippools",
              "BGPFilter": "bgpfilters"}[kind]
    crd = yaml.safe_load(read(calico_module.crd_path(plural)))
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    return version["schema"]["openAPIV3Schema"]["properties"]["spec"]


def read(path):
    with open(path) as handle:
        return handle.read()


def file_cases():
    """The mock_data/calicoctl cases, as run_individual_test runs them."""
    root = os.path.join(tests_dir(), "mock_data", "calicoctl")
    cases = []
    for family in sorted(os.listdir(root)):
        for name in sorted(os.listdir(os.path.join(root, family))):
            folder = os.path.join(root, family, name)
            if not os.path.exists(os.path.join(folder, "input.yaml")):
                continue
            case = "%s/%s" % (family, name)
            ops = [("calico", load_docs(read(os.path.join(folder, "input.yaml"))))]
            if os.path.exists(os.path.join(folder, "kubectl-input.yaml")):
                ops.append(("k8s", load_docs(read(os.path.join(folder, "kubectl-input.yaml")))))
            ops.append(("check", case))
            if os.path.exists(os.path.join(folder, "step2", "input.yaml")):
                ops += [("calico", load_docs(read(os.path.join(folder, "step2", "input.yaml")))),
                        ("check", case + "/step2")]
            cases.append(Case(case, DEFAULT_NODE, ops, None))
    return cases


FUNCTION = re.compile(r"^([a-z_0-9]+)\(\) \{$")
HEREDOC = re.compile(r"^\s*(\$CALICOCTL|kubectl)\s+(apply|create|replace|delete)\s+-f\s+-\s*<<\s*EOF\s*$")
CHECK = re.compile(r"^\s*test_confd_templates\s+(\S+)\s*$")
DELETE = re.compile(r"^\s*(\$CALICOCTL|kubectl)\s+delete\s+(\S+)\s+(\S+)(?:\s+-n\s+(\S+))?\s*$")
NODENAME = re.compile(r"\bNODENAME=(\S+)\s")


def functions(script):
    """{name: [body lines]} of the shell functions in a test suite script."""
    found, name = {}, None
    for line in script.splitlines():
        match = FUNCTION.match(line)
        if match:
            name, found[match.group(1)] = match.group(1), []
        elif line == "}":
            name = None
        elif name:
            found[name].append(line)
    return found


def interpret(body, library):
    """(ops, node, unsupported) of one function body, as the KDD suite runs it: heredoc applies,
    deletes, checkpoints and calls of the suite's own mesh switches; etcd-only branches skipped."""
    ops, node, skip, lines = [], DEFAULT_NODE, [], iter(body)
    for line in lines:
        text = line.strip()
        if text.startswith("if ["):
            skip.append("etcdv3" in text and "DATASTORE_TYPE" in text)
            continue
        if text == "fi":
            skip and skip.pop()
            continue
        if text == "else" and skip:
            skip[-1] = not skip[-1]
            continue
        if any(skip):
            continue
        if text.startswith(("for ", "while ")):
            return ops, node, "a shell loop (%s) builds its objects" % text
        match = NODENAME.search(line)
        if match:
            node = match.group(1)
        match = HEREDOC.match(line)
        if match:
            docs = []
            for inner in lines:
                if inner.strip() == "EOF":
                    break
                docs.append(inner)
            tool, verb = match.groups()
            kind = "calico" if tool == "$CALICOCTL" else "k8s"
            if verb == "delete":
                ops += [("delete", d["kind"], d["metadata"]["name"], d["metadata"].get("namespace"))
                        for d in load_docs("\n".join(docs))]
            else:
                ops.append((kind, load_docs("\n".join(docs))))
            continue
        match = DELETE.match(line)
        if match:
            ops.append(("delete", match.group(2), match.group(3), match.group(4)))
            continue
        match = CHECK.match(line)
        if match:
            ops.append(("check", match.group(1)))
            continue
        if text in library:
            ops += interpret(library[text], library)[0]
    return ops, node, None


def inline_cases():
    """The suite's inline tests with a checkpoint, each function one case."""
    library = functions(read(os.path.join(tests_dir(), "test_suite_common.sh")))
    cases = []
    for name, body in sorted(library.items()):
        if not any(CHECK.match(line) for line in body):
            continue
        ops, node, unsupported = interpret(body, library)
        if any(op[0] == "check" and "$" in op[1] for op in ops):
            continue  # run_individual_test's own checkpoint, of the file cases
        cases.append(Case(name, node, ops, unsupported))
    return cases


def cases():
    return file_cases() + inline_cases()


def prologue():
    """test_suite_kdd.sh before the cases: nodes.yaml, then specific_node applied and deleted."""
    folder = os.path.join(tests_dir(), "mock_data", "calicoctl", PROLOGUE)
    return ([("k8s", load_docs(read(os.path.join(tests_dir(), "mock_data", "kdd", "nodes.yaml")))),
             ("calico", load_docs(read(os.path.join(folder, "input.yaml"))))]
            + [("delete", d["kind"], d["metadata"]["name"], None)
               for d in load_docs(read(os.path.join(folder, "delete.yaml")))])


def compiled(check, version=4):
    """confd's bird.cfg (bird6.cfg: IPv6) at a checkpoint (None where the folder has none)."""
    path = os.path.join(tests_dir(), "compiled_templates", check, "bird.cfg" if version == 4 else "bird6.cfg")
    return read(path) if os.path.exists(path) else None


class Datastore:
    """A cluster's kube-apiserver as calicoctl and kubectl change it in confd's KDD suite."""

    def __init__(self, api):
        from kubernetes.dynamic import DynamicClient
        self.dynamic = DynamicClient(api)
        self.made = set()  # (api_version, kind, name, namespace) of what a case created

    def resource(self, api_version, kind):
        return self.dynamic.resources.get(api_version=api_version, kind=kind)

    def reset(self):
        """Nothing of the previous case left: its objects deleted, the Nodes made anew."""
        for api_version, kind, name, namespace in sorted(self.made):
            self.delete_object(api_version, kind, name, namespace)
        self.made.clear()
        for kind in CALICO_KINDS:
            for item in self.resource(CALICO_V1, kind).get().items:
                self.delete_object(CALICO_V1, kind, item.metadata.name, None)
        for item in self.resource("v1", "Node").get().items:
            self.delete_object("v1", "Node", item.metadata.name, None)

    def delete_object(self, api_version, kind, name, namespace):
        from kubernetes.dynamic.exceptions import NotFoundError
        try:
            self.resource(api_version, kind).delete(name=name, namespace=namespace)
        except NotFoundError:
            pass

    def run(self, op):
        if op[0] == "calico":
            for doc in op[1]:
                self.calico_apply(doc)
        elif op[0] == "k8s":
            for doc in op[1]:
                self.put(doc)
        elif op[0] == "delete":
            self.calico_delete(op[1], op[2], op[3])

    def put(self, doc):
        """kubectl create/replace/apply: the object as given, replacing what is there. IPv6
        Services and their Endpoints are left out: the lab's API servers are IPv4 only, and they
        only feed confd's static routes, never a session."""
        from kubernetes.dynamic.exceptions import NotFoundError
        meta = doc["metadata"]
        addresses = [doc.get("spec", {}).get("clusterIP") or ""] + [
            a.get("ip", "") for subset in doc.get("subsets") or [] for a in subset.get("addresses") or []]
        if doc["kind"] in ("Service", "Endpoints") and any(":" in a for a in addresses):
            return
        namespace = meta.get("namespace") or ("default" if doc["kind"] in ("Service", "Endpoints") else None)
        resource = self.resource(doc["apiVersion"], doc["kind"])
        body = json.loads(json.dumps(doc))
        body["metadata"].pop("namespace", None)
        if namespace:
            body["metadata"]["namespace"] = namespace
        try:
            current = resource.get(name=meta["name"], namespace=namespace)
        except NotFoundError:
            resource.create(body=body, namespace=namespace)
            self.made.add((doc["apiVersion"], doc["kind"], meta["name"], namespace))
            return
        body["metadata"]["resourceVersion"] = current.metadata.resourceVersion
        resource.replace(body=body, namespace=namespace)

    def calico_apply(self, doc):
        """calicoctl apply in KDD mode."""
        kind, meta = doc["kind"], doc.get("metadata") or {}
        if kind == "Node":
            self.calico_node(meta, doc.get("spec") or {})
            return
        if kind not in CALICO_KINDS:
            raise ValueError("confd case: calicoctl apply of a %s is not replayed" % kind)
        body = {"apiVersion": CALICO_V1, "kind": kind, "metadata": {"name": meta["name"]}, "spec": doc.get("spec") or {}}
        if meta.get("labels"):
            body["metadata"]["labels"] = meta["labels"]
        self.put(body)

    def calico_node(self, meta, spec):
        """A v3 Node: the Kubernetes Node's Calico annotations (made when calicoctl may not)."""
        from kubernetes.dynamic.exceptions import NotFoundError
        nodes = self.resource("v1", "Node")
        try:
            node = nodes.get(name=meta["name"]).to_dict()
        except NotFoundError:
            node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": meta["name"]}}
        notes = dict((k, v) for k, v in (node["metadata"].get("annotations") or {}).items()
                     if k not in NODE_ANNOTATIONS.values() and k != LABELS_ANNOTATION)
        bgp = spec.get("bgp") or {}
        for field, annotation in NODE_ANNOTATIONS.items():
            if bgp.get(field) not in (None, ""):
                notes[annotation] = str(bgp[field])
        if meta.get("labels"):
            notes[LABELS_ANNOTATION] = json.dumps(meta["labels"], sort_keys=True)
        node["metadata"]["annotations"] = notes
        self.put(node)

    def calico_delete(self, kind, name, namespace):
        kinds = {"bgppeer": "BGPPeer", "ippool": "IPPool", "bgpconfiguration": "BGPConfiguration",
                 "bgpfilter": "BGPFilter", "secret": "Secret", "node": "Node"}
        kind = kinds.get(kind.lower(), kind)
        if kind == "Node":
            return  # in KDD, calicoctl cannot delete a Node (the suite only does so on etcd)
        if kind in CALICO_KINDS:
            self.delete_object(CALICO_V1, kind, name, None)
        else:
            self.delete_object("v1", kind, name, namespace or "default")


class Objects:
    """The same replay without an API server: the v3 objects each checkpoint sees (Calico kinds
    by name, a Node's BGP fields and labels, Secrets), for a model to be read from."""

    def __init__(self):
        self.calico, self.nodes, self.secrets = {}, {}, {}

    def run(self, op):
        if op[0] == "calico":
            for doc in op[1]:
                meta = doc.get("metadata") or {}
                if doc["kind"] == "Node":
                    self.nodes[meta["name"]] = {"labels": dict(meta.get("labels") or {}),
                                                "bgp": dict((doc.get("spec") or {}).get("bgp") or {})}
                else:
                    self.calico[(doc["kind"], meta["name"])] = doc.get("spec") or {}
        elif op[0] == "k8s":
            for doc in op[1]:
                if doc["kind"] == "Node":
                    self.nodes.setdefault(doc["metadata"]["name"], {"labels": {}, "bgp": {}})
                elif doc["kind"] == "Secret":
                    self.secrets[doc["metadata"]["name"]] = dict(doc.get("stringData") or {})
        elif op[0] == "delete":
            kind = {"bgppeer": "BGPPeer", "ippool": "IPPool", "bgpconfiguration": "BGPConfiguration",
                    "bgpfilter": "BGPFilter"}.get(op[1].lower(), op[1])
            self.calico.pop((kind, op[2]), None)
            if op[1].lower() == "secret":
                self.secrets.pop(op[2], None)

    def of_kind(self, kind):
        return dict((name, spec) for (k, name), spec in sorted(self.calico.items()) if k == kind)


def checkpoints(case):
    """[(compiled dir, Objects at that point)] of a case, the prologue first."""
    objects, found = Objects(), []
    for op in prologue() + list(case.ops):
        if op[0] == "check":
            import copy
            found.append((op[1], copy.deepcopy(objects)))
        else:
            objects.run(op)
    return found
