"""The calico_bgp_rr facet: validation (every problem at once, named), the expected session
tables, the Kubernetes objects per step against the real CRDs, the routers' and clients' plans."""
import os

import jsonschema
import pytest
import yaml
from helpers import calico_crd, inventory_of, problem_lines, read_model, set_on_group

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model, report
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import model as bgp
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import cluster as bgp_resources
from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import plan as bgp_router
from ansible_collections.nodenet.fabric.plugins.plugin_utils.calico_bgp_rr import plan as bgp_sessions



@pytest.fixture(scope="module")
def seed004():
    return inventory_of("inventories/calico-rr")


read = read_model


def every_node(**values):
    return set_on_group("calico_bgp_rr", **values)


problems = problem_lines


def sessions(fabric, host, **stage):
    return [(s["ip"], s["type"]) for s in bgp_sessions.expected(fabric, host, **stage)]


def test_seed_004_is_valid_and_its_session_table_is_the_seeds(seed004):
    fabric = read(seed004)
    assert problems(fabric) == []
    # calicoctl node status on k8s-1, as seed 004 prints it
    assert sessions(fabric, "k8s-1") == [("172.31.13.28", "node specific"), ("172.31.13.29", "node specific"),
                                         ("172.31.13.116", "node specific")]
    assert sessions(fabric, "k8s-3") == [("172.31.13.27", "node specific"), ("172.31.13.28", "node specific")]
    assert fabric.facets[bgp.NAME]["k8s-1"].rr_cluster_id == "172.31.13.27"  # seed 004: each RR's own IP


def test_a_route_reflector_leaves_the_mesh_at_once_as_calicos_confd_does(seed004):
    fabric = read(seed004)
    # Mesh still on, RRs labelled: RRs ignore the mesh, the others' mesh skips them.
    assert sessions(fabric, "k8s-3", mesh=True) == [("172.31.13.27", "node specific"),
                                                    ("172.31.13.28", "node specific")]
    assert sessions(fabric, "k8s-1", mesh=True, with_peers=False) == []
    # Before anything: the full mesh.
    assert sessions(fabric, "k8s-1", mesh=True, with_reflectors=False, with_peers=False) == [
        ("172.31.13.28", "node-to-node mesh"), ("172.31.13.29", "node-to-node mesh")]


def test_without_route_reflectors_the_mesh_stays_on_and_the_tor_peers_with_every_node(seed004):
    fabric = read(seed004, every_node(calico_bgp_route_reflector=False, calico_bgp_peers=[
        {"name": "rr-peer", "ip": "172.31.13.116", "as": 7675, "peers": "all"}]))
    assert problems(fabric) == []
    assert sessions(fabric, "k8s-2") == [("172.31.13.27", "node-to-node mesh"), ("172.31.13.29", "node-to-node mesh"),
                                         ("172.31.13.116", "node specific")]
    config = bgp_resources.manifests(fabric, "config")[0]["manifests"][0]
    assert config["spec"] == {"logSeverityScreen": "Info", "nodeToNodeMeshEnabled": True, "asNumber": 64512}
    assert len(bgp_router.router_state(fabric, "tor")["neighbors"]) == 3


BAD = [
    ("one route reflector", lambda h, g: h["k8s-2"].update(calico_bgp_route_reflector=False),
     "k8s-1", "calico_bgp_route_reflector", "calico issue 9259"),
    ("cluster ID not IPv4", lambda h, g: h["k8s-1"].update(calico_bgp_rr_cluster_id="rr-one"),
     "k8s-1", "calico_bgp_rr_cluster_id", "not an IPv4 address"),
    ("AS 0", every_node(calico_bgp_as=0), "k8s-1", "calico_bgp_as", "outside 1..4294967295"),
    ("AS too big", every_node(calico_bgp_as=4294967296), "k8s-2", "calico_bgp_as", "outside 1..4294967295"),
    ("peer AS not a number", every_node(calico_bgp_peers=[{"ip": "172.31.13.116", "as": "seven"}]),
     "k8s-1", "calico_bgp_peers[0].as", "not an integer"),
    ("peer is a node", every_node(calico_bgp_peers=[{"ip": "172.31.13.29", "as": 7675}]),
     "k8s-1", "calico_bgp_peers[peer-172-31-13-29].ip", "is node k8s-3"),
    ("eBGP peer with the cluster's AS", every_node(calico_bgp_peers=[{"ip": "172.31.13.116", "as": 64512}]),
     "k8s-1", "calico_bgp_peers[0].as", "cluster's own AS"),
    ("password without a secret store", every_node(calico_bgp_peers=[
        {"ip": "172.31.13.116", "as": 7675, "password": "hunter2"}]),
     "k8s-1", "calico_bgp_peers[0].password", "without a secret store"),
    ("password file missing", every_node(calico_bgp_peers=[
        {"ip": "172.31.13.116", "as": 7675, "password_file": "/nonexistent/tor.pw"}]),
     "k8s-1", "calico_bgp_peers[0].password_file", "cannot be read"),
    ("natOutgoing false with no external route", every_node(calico_bgp_peers=[]),
     "k8s-1", "calico_bgp_nat_outgoing", "nothing outside the cluster"),
    ("not calico", every_node(cluster_cni="canal"), "k8s-1", "cluster_cni", "calico_bgp_rr configures Calico"),
    ("unknown mode", every_node(calico_bgp_mode="ipip-always"), "k8s-1", "calico_bgp_mode", "not one of"),
    ("unknown peer key", every_node(calico_bgp_peers=[{"ip": "172.31.13.116", "as": 7675, "asn": 1}]),
     "k8s-1", "calico_bgp_peers[0]", "unknown key(s) asn"),
    ("peers: route_reflectors without RRs", every_node(calico_bgp_route_reflector=False),
     "k8s-1", "calico_bgp_peers[rr-peer].peers", "no route reflector"),
    ("router AS differs", lambda h, g: h["tor"].update(bgp_router_as=7676), "tor", "bgp_router_as", "differs"),
    ("router is no cluster's peer", lambda h, g: h["tor"].update(bgp_router_ip="172.31.13.117"),
     "tor", "bgp_router_ip", "no cluster's external peer"),
    ("client's router unknown", lambda h, g: h["outside"].update(bgp_client_router="tor-9"),
     "outside", "bgp_client_router", "not a host of group bgp_routers"),
    ("the RR peer's name", every_node(calico_bgp_peers=[
        {"ip": "172.31.13.116", "as": 7675, "name": "peer-with-route-reflectors"}]),
     "k8s-1", "calico_bgp_peers[0].name", "peers every node with the route reflectors"),
    ("namespace not a name", every_node(calico_namespace="Kube_System"), "k8s-1", "calico_namespace", "DNS-1123"),
    ("pool not a name", every_node(calico_bgp_pool=["a"]), "k8s-1", "calico_bgp_pool", "DNS-1123"),
    ("client's router off its subnet", lambda h, g: h["outside"].update(
        bgp_client_ip="172.31.14.200", bgp_client_subnet="172.31.14.0/24"), "outside", "bgp_client_subnet",
     "must be on its subnet"),
]


@pytest.mark.parametrize("case, change, who, variable, reason", BAD, ids=[c[0] for c in BAD])
def test_a_bad_bgp_inventory_is_refused_with_the_reason(seed004, case, change, who, variable, reason):
    found = problems(read(seed004, change))
    assert any(who in line and variable in line and reason in line for line in found), found


def test_every_problem_is_reported_at_once(seed004):
    def many(hostvars, groups):
        every_node(calico_bgp_as=0, calico_bgp_peers=[{"ip": "172.31.13.29", "as": 7675, "password": "x"}])(
            hostvars, groups)
        hostvars["k8s-2"]["calico_bgp_route_reflector"] = False
        hostvars["outside"]["bgp_client_router"] = "nowhere"
    found = "\n".join(problems(read(seed004, many)))
    for text in ("calico_bgp_as", "calico_bgp_peers[0].password", "calico issue 9259", "bgp_client_router"):
        assert text in found, found


def test_a_single_route_reflector_may_be_accepted(seed004):
    def one(hostvars, groups):
        hostvars["k8s-2"]["calico_bgp_route_reflector"] = False
        every_node(calico_bgp_rr_accept_single_rr=True)(hostvars, groups)
    assert problems(read(seed004, one)) == []


def test_redundant_rrs_may_share_one_cluster_id(seed004):
    fabric = read(seed004, every_node(calico_bgp_rr_cluster_id="244.0.0.1"))
    notes = [n["metadata"].get("annotations") for n in bgp_resources.manifests(fabric, "reflectors")[0]["manifests"]]
    assert notes == [{bgp.RR_CLUSTER_ID_ANNOTATION: "244.0.0.1"}] * 2 + [None]


def test_a_password_travels_only_from_its_file(seed004, tmp_path):
    secret = tmp_path / "tor.pw"
    secret.write_text("s3cret\n")
    os.chmod(secret, 0o600)
    fabric = read(seed004, every_node(calico_bgp_peers=[
        {"name": "rr-peer", "ip": "172.31.13.116", "as": 7675, "password_file": str(secret)}]))
    assert problems(fabric) == []
    assert "s3cret" not in model.dumps(fabric)
    peers = bgp_resources.manifests(fabric, "peers")[0]["manifests"]
    assert peers[0]["kind"] == "Secret" and peers[0]["stringData"] == {"rr-peer": "s3cret"}
    rr_peer = next(p for p in peers if p["metadata"]["name"] == "rr-peer")
    assert rr_peer["spec"]["password"] == {"secretKeyRef": {"name": "bgp-passwords", "key": "rr-peer"}}
    assert {n["password"] for n in bgp_router.router_state(fabric, "tor")["neighbors"]} == {"s3cret"}
    # The report's view of the router: the same neighbors, no password, the file not even read.
    secret.unlink()
    shown = bgp_router.router_state(fabric, "tor", with_passwords=False)
    assert shown["secret"] and not any("password" in n for n in shown["neighbors"])
    assert "s3cret" not in report.html(fabric, "<svg></svg>")
    secret.write_text("s3cret\n")
    os.chmod(secret, 0o644)
    assert any("readable by others" in p for p in problems(read(seed004, every_node(calico_bgp_peers=[
        {"name": "rr-peer", "ip": "172.31.13.116", "as": 7675, "password_file": str(secret)}]))))
    secret.write_text("two words\n")
    os.chmod(secret, 0o600)
    assert any("without spaces" in p for p in problems(read(seed004, every_node(calico_bgp_peers=[
        {"name": "rr-peer", "ip": "172.31.13.116", "as": 7675, "password_file": str(secret)}]))))


def test_a_password_from_a_variable_is_resolved_in_the_run_and_never_kept(seed004):
    """password_var names a variable (vaulted, or an AWX credential's extra variable): the model
    keeps the name; the run resolves it for the Secret and the ToR; a missing or malformed value is
    refused naming the cluster and the variable, never the value."""
    import copy

    from ansible_collections.nodenet.fabric.plugins.filter.fabric_model import fabric_model
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor.model import resolve

    peer = {"name": "rr-peer", "ip": "172.31.13.116", "as": 7675, "password_var": "tor_bgp_password"}
    hostvars, groups = copy.deepcopy(seed004)
    every_node(calico_bgp_peers=[peer])(hostvars, groups)
    fabric = model.read(hostvars, groups)
    assert problems(fabric) == []
    run = dict((h, dict(v, tor_bgp_password="v4ult3d")) for h, v in hostvars.items())
    document = fabric_model(run, groups)
    assert "v4ult3d" not in document and problems(model.loads(document)) == []
    values, found = resolve(fabric, run)
    assert (values, found) == ({"tor_bgp_password": "v4ult3d"}, [])
    manifests = bgp_resources.manifests(fabric, "peers", secrets=values)[0]["manifests"]
    assert manifests[0]["kind"] == "Secret" and manifests[0]["stringData"] == {"rr-peer": "v4ult3d"}
    assert {n["password"] for n in bgp_router.router_state(fabric, "tor", secrets=values)["neighbors"]} == {"v4ult3d"}
    missing = problems(model.loads(fabric_model(hostvars, groups)))
    assert missing == ["cluster k8s, password_var tor_bgp_password: is not defined in the run: define it (a "
                       "vaulted variable, or an extra variable of the job's credential)"]
    spaced = dict((h, dict(v, tor_bgp_password="two words")) for h, v in hostvars.items())
    refused = problems(model.loads(fabric_model(spaced, groups)))
    assert any("without spaces" in p for p in refused) and not any("two words" in p for p in refused)
    both = problems(read(seed004, every_node(calico_bgp_peers=[dict(peer, password_file="/etc/x.pw")])))
    assert any("password_var: and password_file are both given" in p for p in both)
    inline = problems(read(seed004, every_node(calico_bgp_peers=[dict(peer, password="s3cret")])))
    assert any("name that variable in password_var" in p for p in inline)


# --- the objects against the real CRDs --------------------------------------------------

def crd_schema(name):
    crd = calico_crd(name)
    return python_regex(next(v for v in crd["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"])


def python_regex(schema):
    """Go's `^(?i)...` patterns as Python's `(?i)^...` (Python wants global flags first)."""
    if isinstance(schema, dict):
        fixed = dict((k, python_regex(v)) for k, v in schema.items())
        pattern = fixed.get("pattern")
        if isinstance(pattern, str) and "(?i)" in pattern and not pattern.startswith("(?i)"):
            fixed["pattern"] = "(?i)" + pattern.replace("(?i)", "", 1)
        return fixed
    if isinstance(schema, list):
        return [python_regex(v) for v in schema]
    return schema


SEEDED_POOL = {"cidr": "172.27.208.0/22", "blockSize": 26, "ipipMode": "Always", "vxlanMode": "Never",
               "natOutgoing": True, "nodeSelector": "all()"}


@pytest.mark.parametrize("mode", bgp.MODES)
def test_every_mode_renders_objects_the_crds_accept(seed004, mode):
    fabric = read(seed004, every_node(calico_bgp_mode=mode))
    rendered = {}
    for step in bgp_resources.STEPS:
        for manifest in [m for item in bgp_resources.manifests(fabric, step) for m in item["manifests"]]:
            # As the role renders them (to_nice_yaml) and the API server reads them back.
            rendered.setdefault(manifest["kind"], []).append(yaml.safe_load(yaml.safe_dump(manifest)))
    for peer in rendered["BGPPeer"]:
        jsonschema.validate(peer, crd_schema("bgppeers"))
    jsonschema.validate(rendered["BGPConfiguration"][0], crd_schema("bgpconfigurations"))
    pool = rendered["IPPool"][0]
    merged = dict(pool, spec=dict(SEEDED_POOL, **pool["spec"]))  # server-side apply onto the pool
    jsonschema.validate(merged, crd_schema("ippools"))
    ipip, vxlan = bgp.POOL_MODES[mode]
    assert (merged["spec"]["ipipMode"], merged["spec"]["vxlanMode"]) == (ipip, vxlan)
    env = dict((e["name"], e["value"]) for e in rendered["DaemonSet"][0]["spec"]["template"]["spec"]["containers"][0]["env"])
    assert env["FELIX_IPINIPENABLED"] == ("true" if mode.startswith("ipip") else "false")
    assert env["CALICO_IPV4POOL_IPIP"] == ipip and env["CALICO_IPV4POOL_VXLAN"] == vxlan
    assert rendered["ConfigMap"][0]["data"] == {"calico_backend": "bird"}


def test_the_crd_check_catches_a_bad_object(seed004):
    peer = bgp_resources.bgp_peer("x", {"peerIP": "172.31.13.116", "asNumber": "7675"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(peer, crd_schema("bgppeers"))


def test_selectors_survive_yaml_quoted(seed004):
    peers = bgp_resources.manifests(read(seed004), "peers")[0]["manifests"]
    text = yaml.safe_dump(peers[0])
    assert "peerSelector: route-reflector == 'true'" in text
    assert yaml.safe_load(text) == peers[0]
    # An unquoted !has(...) would be a YAML tag; rendered, it is a quoted string.
    tricky = {"nodeSelector": "!has(route-reflector)"}
    assert yaml.safe_load(yaml.safe_dump(tricky)) == tricky
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load("nodeSelector: !has(route-reflector)")


def test_a_node_that_stops_being_an_rr_is_released(seed004):
    fabric = read(seed004, every_node(calico_bgp_route_reflector=False, calico_bgp_peers=[
        {"ip": "172.31.13.116", "as": 7675, "peers": "all"}]))
    nodes = bgp_resources.manifests(fabric, "reflectors")[0]["manifests"]
    assert nodes == [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": h}} for h in ("k8s-1", "k8s-2", "k8s-3")]
    names = [p["metadata"]["name"] for p in bgp_resources.manifests(fabric, "peers")[0]["manifests"]]
    assert names == ["peer-172-31-13-116"]  # no peer-with-route-reflectors: it is pruned


def test_the_topology_filter_splits_clusters_by_target(seed004):
    fabric = read(seed004)
    assert [i["cluster"] for i in bgp_resources.manifests(fabric, "config", "reflectors")] == ["k8s"]
    assert bgp_resources.manifests(fabric, "config", "mesh") == []


# --- routers, clients, bridge routes -----------------------------------------------------

def test_the_tor_gets_a_neighbor_per_rr_and_accepts_only_the_pool(seed004):
    state = bgp_router.router_state(read(seed004), "tor")
    assert state["asn"] == 7675
    assert [(n["ip"], n["remote_as"], n["multihop"]) for n in state["neighbors"]] == [
        ("172.31.13.27", 64512, False), ("172.31.13.28", 64512, False)]
    assert state["prefix_lists"] == [{"name": "NODENET-k8s-IN", "prefixes": ["172.27.208.0/22"]}]
    assert {r["action"] for r in state["route_maps"]} == {"permit", "deny"}


def test_the_client_routes_the_pool_via_the_tor_with_our_protocol(seed004):
    fabric = read(seed004)
    state = bgp_router.client_state(fabric, "outside")
    assert state["routes"] == [{"dst": "172.27.208.0/22", "via": "172.31.13.116", "dev": "eth0", "onlink": False}]
    assert state["route_protocol"] == 203
    assert bgp_router.client_targets(fabric, "outside") == ["172.27.208.1", "172.27.209.1", "172.27.210.1"]


def test_bridge_routes_sit_below_birds_and_only_on_the_nodes_subnet(seed004):
    fabric = read(seed004, lambda h, g: h["k8s-3"].update(node_subnet="172.31.14.0/24", node_ip="172.31.14.29"))
    state = bgp_sessions.bridge_state(fabric, "k8s-1")
    assert state["route_metric"] > 32 and state["route_protocol"] == 203
    assert [r["dst"] for r in state["routes"]] == ["172.27.209.0/26"]  # k8s-3 is on another subnet
    assert bgp_sessions.bridge_state(fabric, "k8s-1", present=False)["routes"] == []


def test_bgp_mode_across_subnets_is_refused_unless_the_underlay_routes_the_pods(seed004):
    other_subnet = lambda h, g: h["k8s-3"].update(node_subnet="172.31.14.0/24", node_ip="172.31.14.29")  # noqa
    found = problems(read(seed004, other_subnet))
    assert any("calico_bgp_mode" in p and "2 subnets" in p and "ipip-crosssubnet" in p for p in found), found

    def routed(hostvars, groups):
        other_subnet(hostvars, groups)
        every_node(calico_bgp_underlay_routes_pods=True)(hostvars, groups)
    fabric = read(seed004, routed)
    assert problems(fabric) == []
    plan = bgp_sessions.node_plan(fabric, "k8s-1")
    assert plan["verify"]["routes"] == [{"dst": "172.27.209.0/26", "via": "172.31.13.28"},
                                        {"dst": "172.27.210.0/26", "via": None}]  # any gateway: the ToR's
    crosssubnet = read(seed004, lambda h, g: (other_subnet(h, g), every_node(calico_bgp_mode="ipip-crosssubnet")(h, g)))
    assert problems(crosssubnet) == []


def test_in_vxlan_modes_felix_programs_the_routes_not_bird(seed004):
    fabric = read(seed004, every_node(calico_bgp_mode="vxlan-crosssubnet"))
    assert bgp_sessions.node_plan(fabric, "k8s-1")["verify"]["routes"] == []


def test_without_a_kubeconfig_the_objects_are_only_rendered(seed004):
    fabric = read(seed004)
    assert bgp_sessions.node_plan(fabric, "k8s-1")["applied"] is False
    with_api = read(seed004, every_node(cluster_kubeconfig="/etc/kubeconfig"))
    assert bgp_sessions.node_plan(with_api, "k8s-1")["applied"] is True
