"""Rendered Calico IPPools validate against the real upstream CRD (from the pinned calico module)."""
import jsonschema
import pytest
import yaml
from helpers import calico_crd

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import cluster as ippools


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


def test_the_mesh_order_applies_each_calico_clusters_pools_and_prunes_ours(seed_inventory):
    fabric = model.load(*seed_inventory)
    gate, *order = ippools.cluster_steps(fabric, "present")
    assert gate == {"action": "gate", "name": "applied"}  # every node has its plan first
    assert order and [(s["action"], s["name"], s["file"]) for s in order] == [("apply", "pools", "vxlan-mesh-ippools.yml")] * len(order)
    assert all(s["prune"] == ippools.PRUNE and len(s["objects"]) == 4 for s in order)
    assert all(s["objects"] == [] for s in ippools.cluster_steps(fabric, "absent")[1:])  # every pool of ours pruned
    assert ippools.cluster_steps(fabric, "present", options={"ippools": "false"}) == [gate]
