"""Rendered Calico IPPools validate against the real upstream CRD (from the pinned calico module)."""
import jsonschema
import pytest
import yaml
from helpers import calico_crd

from ansible_collections.nodenet.fabric.plugins.plugin_utils import ippools, model


@pytest.fixture(scope="module")
def ippool_schema():
    crd = calico_crd("ippools")
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    return version["schema"]["openAPIV3Schema"]


def check(manifest, schema):
    assert manifest["apiVersion"] == "crd.projectcalico.org/v1" and manifest["kind"] == "IPPool"
    jsonschema.validate(manifest, schema)


def test_every_rendered_ippool_matches_the_crd(seed_inventory, ippool_schema):
    items = ippools.remote_ippools(model.load(*seed_inventory))
    manifests = [m for item in items for m in item["manifests"]]
    assert len(manifests) == 12
    for manifest in manifests:
        # Round-trip through YAML as the role renders it.
        check(yaml.safe_load(yaml.safe_dump(manifest)), ippool_schema)


def test_the_schema_check_rejects_a_wrong_manifest(ippool_schema):
    bad = ippools.ippool("pod-x", "10.0.0.0/16")
    bad["spec"]["natOutgoing"] = "false"
    with pytest.raises(jsonschema.ValidationError):
        check(bad, ippool_schema)
    del bad["spec"]["cidr"]
    bad["spec"]["natOutgoing"] = False
    with pytest.raises(jsonschema.ValidationError):
        check(bad, ippool_schema)


def test_manifest_results_read_registered_results():
    from ansible_collections.nodenet.fabric.plugins.filter import manifest_results as mr
    item = {"cluster": "alpha", "kubeconfig": "/k", "manifests": [{"metadata": {"name": "pod-beta"}}]}
    owned = {"results": [{"item": item, "resources": [
        {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "pod-beta"}},
        {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "pod-gamma"}}]}]}
    assert [o["name"] for o in mr.stale_objects(owned)] == ["pod-gamma"]
    applied = {"results": [{"item": [item, {}], "changed": True}, {"item": [dict(item, cluster="gamma"), {}],
                                                                    "changed": False}]}
    assert mr.changed_clusters(applied) == ["alpha"]
    failed = {"results": [{"item": [item, {"kind": "IPPool", "metadata": {"name": "pod-beta"}}], "failed": True,
                           "msg": "Unauthorized: Bearer abc123"}]}
    assert mr.manifest_failures(failed) == ["cluster alpha, IPPool pod-beta: Unauthorized: Bearer <redacted>"]


def test_missing_objects_names_what_the_api_lacks_and_an_api_it_could_not_read():
    from ansible_collections.nodenet.fabric.plugins.filter.manifest_results import missing_objects
    node = lambda name: {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}  # noqa: E731
    found = {"results": [
        {"item": {"cluster": "k8s", "manifests": [node("k8s-1"), node("k8s-3")]}, "resources": [node("k8s-1")]},
        {"item": {"cluster": "other", "manifests": [node("o-1")]}, "msg": "Unauthorized: Bearer abc.def"}]}
    lines = missing_objects(found)
    assert lines[0] == "cluster k8s: no Node named k8s-3 in its API"
    assert lines[1].startswith("cluster other: its API could not be read") and "abc.def" not in lines[1]
    assert missing_objects({"results": [found["results"][0] | {"resources": [node("k8s-1"), node("k8s-3")]}]}) == []
