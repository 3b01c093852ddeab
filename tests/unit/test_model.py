"""The model read once: its document round-trips, a cold load plans exactly what the typed model
plans, group names are honoured, and the inventory plugin builds the same document as the filter."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.flannel_hostgw import model as hostgw
from ansible_collections.nodenet.fabric.plugins.plugin_utils.vxlan_mesh import model as mesh
from ansible_collections.nodenet.fabric.plugins.plugin_utils.filter_support import plan_result
from ansible_collections.nodenet.fabric.plugins.plugin_utils.variables import REMOVED, RENAMED
from helpers import ROOT, inventory_of


@pytest.fixture(scope="module")
def seed():
    return inventory_of("inventories/seed")


def cold(text):
    model._LOADED.clear()
    return model.loads(text)


def test_document_round_trips_and_plans_the_same(seed):
    fabric = model.load(*seed)
    text = model.dumps(fabric)
    again = cold(text)
    assert again is not fabric
    assert again.nodes == fabric.nodes and again.clusters == fabric.clusters
    assert again.facets == fabric.facets and again.members == fabric.members
    for host in fabric.nodes:
        assert mesh.node_plan(again, host) == mesh.node_plan(fabric, host)
    assert model.dumps(again) == text  # same content, same digest


def test_a_loaded_document_is_cached_by_digest(seed):
    text = model.dumps(model.load(*seed))
    first = cold(text)
    assert model.loads(text) is first


def test_problems_travel_in_the_document(seed):
    hostvars, groups = seed
    hostvars = dict(hostvars, **{"multicluster-test-003": dict(hostvars["multicluster-test-003"],
                                                               vxlan_mesh_mac="01:00:5e:00:00:01")})
    fabric = cold(model.dumps(model.read(hostvars, groups)))
    assert [str(e) for e in fabric.problems(["vxlan_mesh"])] == [
        "cluster test-cluster2, node multicluster-test-003, vxlan_mesh_mac: 01:00:5e:00:00:01 is a multicast "
        "address; a unicast address is required"]
    assert fabric.problems(["flannel_hostgw"]) == []  # a mesh problem does not block host-gw
    with pytest.raises(model.FabricInvalid):
        model.require_valid(fabric, ["vxlan_mesh"])


def test_a_document_of_another_format_or_not_a_model_is_refused(seed):
    text = model.dumps(model.load(*seed))
    with pytest.raises(ValueError, match="format 9"):
        model.loads(text.replace('{"nodenet_fabric":%d,' % model.FORMAT, '{"nodenet_fabric":9,', 1))
    with pytest.raises(ValueError, match="not a nodenet.fabric model"):
        model.loads('{"nodes": {}}')


def test_renamed_mesh_group_is_honoured(seed):
    hostvars, groups = seed
    groups = dict(groups, dc1_mesh=groups["vxlan_mesh"])
    del groups["vxlan_mesh"]
    assert model.read(hostvars, groups).members["vxlan_mesh"] == []
    fabric = model.load(hostvars, groups, {"vxlan_mesh": "dc1_mesh"})
    assert len(fabric.members["vxlan_mesh"]) == 6
    assert fabric.groups == {"vxlan_mesh": "dc1_mesh", "flannel_hostgw": "flannel_hostgw", "calico_bgp_rr": "calico_bgp_rr",
                             "bgp_routers": "bgp_routers", "bgp_clients": "bgp_clients",
                             "kube_router_install": "kube_router_install"}
    with pytest.raises(ValueError, match="unknown facet"):
        model.read(hostvars, groups, {"vxlan_mash": "dc1_mesh"})


def test_plan_result_carries_the_desired_state_as_one_json_string(seed):
    fabric = model.load(*seed)
    plan = mesh.node_plan(fabric, "multicluster-test-001")  # already the filter's form
    assert isinstance(plan["reconcile"], str)
    assert json.loads(plan["reconcile"]) == mesh.node_state(fabric, "multicluster-test-001")
    neighbors = mesh.node_state(fabric, "multicluster-test-001")["neighbors"]
    assert plan["verify"]["targets"] == ",".join(n["ip"] for n in neighbors)


def test_hostgw_plan_from_a_cold_document():
    hostvars, groups = inventory_of("inventories/flannel-hostgw")
    fabric = model.load(hostvars, groups)
    again = cold(model.dumps(fabric))
    assert hostgw.node_plan(again, "edge-1", retire=True) == hostgw.node_plan(fabric, "edge-1", retire=True)
    assert hostgw.configmaps(again) == hostgw.configmaps(fabric)


def ansible_inventory(*sources):
    exe = Path(sys.executable).parent / "ansible-inventory"
    argv = [str(exe)]
    for source in sources:
        argv += ["-i", str(source)]
    proc = subprocess.run(argv + ["--list", "--export"], capture_output=True, text=True, cwd=ROOT,
                          env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def model_var(data):
    """node_base_fabric on `all`; the plugin marks it unsafe, so Ansible never templates it."""
    value = data["all"]["vars"]["node_base_fabric"]
    assert isinstance(value, dict) and list(value) == ["__ansible_unsafe"]
    return value["__ansible_unsafe"]


def test_inventory_plugin_sets_the_same_model_on_all(tmp_path, seed):
    (tmp_path / "fabric.yml").write_text("plugin: nodenet.fabric.fabric\n")
    data, _ = ansible_inventory(ROOT / "inventories" / "seed", tmp_path / "fabric.yml")
    assert model_var(data) == model.dumps(model.read(*seed))


def test_inventory_plugin_reports_problems_as_a_warning_and_keeps_them(tmp_path):
    hosts = (ROOT / "inventories" / "seed" / "hosts.yml").read_text()
    (tmp_path / "hosts.yml").write_text(hosts.replace("vxlan_mesh_vni: 10001", "vxlan_mesh_vni: 16777216"))
    (tmp_path / "zz-fabric.yml").write_text("plugin: nodenet.fabric.fabric\ngroup_names: {vxlan_mesh: vxlan_mesh}\n")
    data, stderr = ansible_inventory(tmp_path)
    assert "problem(s) in the fabric inventory" in stderr and "16777216 is outside 1..16777215" in stderr
    fabric = cold(model_var(data))
    assert len(fabric.problems(["vxlan_mesh"])) == 6  # every mesh node carries the bad VNI


def test_inventory_plugin_builds_groups_first_as_constructed_does_and_leaves_cluster_access_out(tmp_path):
    """compose, groups and keyed_groups apply before the model is read (a role's group made by a
    condition is part of the model); a kubeconfig path resolved at sync time stays out of it."""
    hosts = (ROOT / "inventories" / "seed" / "hosts.yml").read_text()
    (tmp_path / "hosts.yml").write_text(hosts.replace("vxlan_mesh:", "seed_mesh:"))
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("cluster_kubeconfig: /etc/sync-time/kubeconfig\n")
    (tmp_path / "zz-fabric.yml").write_text(
        "plugin: nodenet.fabric.fabric\nuse_vars_plugins: true\nstrict: true\n"
        "groups:\n  vxlan_mesh: cluster_name != 'test-cluster3'\n"
        "keyed_groups:\n  - {key: cluster_name, prefix: cluster}\n"
        "compose:\n  node_role_note: \"'mesh node ' ~ inventory_hostname\"\n")
    data, _ = ansible_inventory(tmp_path)
    assert sorted(data["vxlan_mesh"]["hosts"]) == ["multicluster-test-00%d" % i for i in (1, 2, 3, 4)]
    assert sorted(data["cluster_test_cluster1"]["hosts"]) == ["multicluster-test-001", "multicluster-test-002"]
    fabric = cold(model_var(data))
    assert fabric.members["vxlan_mesh"] == ["multicluster-test-00%d" % i for i in (1, 2, 3, 4)]
    assert "/etc/sync-time" not in model_var(data)
    assert all(c.kubeconfig is None and not c.api for c in fabric.clusters.values())
    # strict: a condition that cannot be evaluated fails the sync
    (tmp_path / "zz-fabric.yml").write_text("plugin: nodenet.fabric.fabric\nstrict: true\n"
                                            "groups:\n  vxlan_mesh: no_such_variable > 1\n")
    argv = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(tmp_path), "--list"]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT,
                          env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": "/usr/bin:/bin"})
    assert "no_such_variable" in proc.stderr


def reference_plan(fabric, host):
    """The mesh plan built entry by entry (seed 002's way, with direct routing), with none of the
    model's shortcuts, to hold the JSON text against."""
    from netaddr import IPAddress, IPNetwork
    settings, node = fabric.facets["vxlan_mesh"], fabric.nodes[host]
    mine = settings[host]
    peers = [p for p in fabric.facet_nodes("vxlan_mesh") if p.host != host]
    routes = []
    for peer in peers:
        if peer.cluster == node.cluster:
            continue
        direct = mine.direct_routing and IPAddress(peer.ip) in IPNetwork(node.subnet)
        for cidr in peer.pod_cidrs:
            routes.append({"dst": cidr, "via": peer.ip if direct else settings[peer.host].ip,
                           "dev": node.interface if direct else mine.device, "onlink": not direct})
    routes.sort(key=lambda r: (IPNetwork(r["dst"]).first, IPNetwork(r["dst"]).prefixlen))
    state = {"device": mesh.device(node, mine),
             "neighbors": [{"ip": settings[p.host].ip, "mac": settings[p.host].mac} for p in peers],
             "fdb": [{"mac": settings[p.host].mac, "dst": p.ip} for p in peers],
             "routes": routes, "route_protocol": 201}
    return {"reconcile": state, "verify": {"targets": ",".join(n["ip"] for n in state["neighbors"])},
            "report": {"device": mine.device, "peers": len(peers), "routes": len(routes)}}


@pytest.mark.parametrize("path", ["inventories/seed", "inventories/routed"])
def test_the_fast_json_plan_equals_the_plan(path):
    fabric = cold(model.dumps(model.load(*inventory_of(path))))
    for host in fabric.members["vxlan_mesh"]:
        fast = mesh.node_plan(fabric, host)
        plan = reference_plan(fabric, host)
        assert json.loads(fast["reconcile"]) == plan["reconcile"]
        assert fast == plan_result(plan)


def test_a_variable_a_release_renamed_is_refused_with_its_new_name(seed):
    hostvars, groups = seed
    old = dict(hostvars["multicluster-test-003"], nodenet_root="/srv/n3", kube_router_state="absent")
    fabric = model.read(dict(hostvars, **{"multicluster-test-003": old}), groups)
    release = RENAMED["nodenet_root"][0]
    assert [str(e) for e in fabric.problems()] == [
        "cluster test-cluster2, node multicluster-test-003, kube_router_state: was renamed in %s: "
        "set kube_router_install_state instead" % release,
        "cluster test-cluster2, node multicluster-test-003, nodenet_root: was renamed in %s: "
        "set node_base_root instead" % release]


def test_a_variable_a_release_removed_is_refused_saying_why(seed):
    hostvars, groups = seed
    old = dict(hostvars["multicluster-test-003"], node_base_manifest_force=True)
    fabric = model.read(dict(hostvars, **{"multicluster-test-003": old}), groups)
    assert [str(e) for e in fabric.problems()] == [
        "cluster test-cluster2, node multicluster-test-003, node_base_manifest_force: was removed in %s: %s; "
        "remove it" % REMOVED["node_base_manifest_force"]]


def test_without_netaddr_the_model_says_what_to_install(seed, monkeypatch):
    monkeypatch.setitem(sys.modules, "netaddr", None)  # makes `import netaddr` raise ImportError
    with pytest.raises(ImportError, match="needs the Python library netaddr on the controller: pip install netaddr"):
        model.read(*seed)


def test_a_reused_model_is_read_again_when_an_extra_variable_uses_a_renamed_name(seed):
    """The inventory plugin reads the model without extra vars; an old `-e kube_router_state=absent`
    must still be refused."""
    from ansible_collections.nodenet.fabric.plugins.filter.fabric_model import fabric_model

    hostvars, groups = seed
    document = model.dumps(model.read(hostvars, groups))
    assert fabric_model(hostvars, groups, None, document) is document
    extra = dict((h, dict(v, kube_router_state="absent")) for h, v in hostvars.items())
    again = model.loads(fabric_model(extra, groups, None, document))
    assert any(e.variable == "kube_router_state" for e in again.problems())


def test_api_access_resolves_in_the_run_not_in_a_model_read_ahead(seed):
    """The inventory plugin reads the model without the access variables (they may resolve per job);
    the run fills each cluster's in from its own variables, and an unchanged run keeps the document."""
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.fabric import ACCESS_VARIABLES
    hostvars, groups = seed
    hostvars = dict((h, dict(v, cluster_kube_context="ctx-" + str(v.get("cluster_name")))) for h, v in hostvars.items())
    ahead = model.dumps(model.read(dict((h, dict((k, x) for k, x in v.items() if k not in ACCESS_VARIABLES))
                                        for h, v in hostvars.items()), groups))
    assert all(not c.api for c in model.loads(ahead).clusters.values())
    run = model.with_access(ahead, hostvars)
    clusters = model.loads(run).clusters
    assert [(c.kubeconfig, c.context, c.api) for _n, c in sorted(clusters.items())] == [
        (None, "ctx-test-cluster1", True), (None, "ctx-test-cluster2", True), (None, "ctx-test-cluster3", True)]
    assert model.with_access(run, hostvars) is run
    assert model.with_access(ahead, dict((h, dict(v, cluster_render_only=True)) for h, v in hostvars.items())) != run


def test_a_role_needing_the_api_names_each_cluster_without_access(seed):
    hostvars, groups = seed
    fabric = model.read(hostvars, groups)
    assert [str(e) for e in model.access_problems(fabric, ["vxlan_mesh"])] == [
        "cluster %s, cluster_kubeconfig: is not set, nor cluster_kube_context, and role vxlan_mesh needs the cluster's "
        "API; give the cluster's kubeconfig (or a context of the kubeconfig in K8S_AUTH_KUBECONFIG), or set "
        "cluster_render_only: true to only render the manifests" % name
        for name in sorted(n for n, c in fabric.clusters.items() if c.cni == "calico")]
    assert model.access_problems(fabric, []) == []
    only = dict((h, dict(v, cluster_render_only=True)) for h, v in hostvars.items())
    assert model.access_problems(model.read(only, groups), ["vxlan_mesh"]) == []


def test_a_roles_switch_says_whether_its_run_needs_the_api(seed):
    from ansible_collections.nodenet.fabric.plugins.filter.fabric_problems import fabric_problems
    document = model.dumps(model.read(*seed))
    needs = fabric_problems(document, ["vxlan_mesh"], {"vxlan_mesh": "true"})
    assert needs and needs == fabric_problems(document, ["vxlan_mesh"], ["vxlan_mesh"])
    assert fabric_problems(document, ["vxlan_mesh"], {"vxlan_mesh": False}) == fabric_problems(document, ["vxlan_mesh"])
