"""The kube_router_install facet: flags typed as kube-router's own options, and every impossible
combination refused at once, naming cluster, node and variable."""
import os

import pytest
from helpers import inventory_of, problem_lines, read_model, set_on_group

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.kube_router_install import model as kube_router

GROUP = kube_router.NAME


@pytest.fixture(scope="module")
def seed003():
    return inventory_of("inventories/kube-router")


read = read_model


def every_node(**values):
    return set_on_group(GROUP, **values)


problems = problem_lines


def settings(fabric, host="k8s-1"):
    return fabric.facets[GROUP][host]


def test_seed_003_is_valid_with_kube_routers_defaults(seed003):
    fabric = read(seed003)
    assert problems(fabric) == []
    s = settings(fabric)
    assert s.switch("run_router") and s.switch("run_firewall") and s.switch("run_service_proxy")
    assert not s.switch("run_loadbalancer") and s.switch("full_mesh") and not s.switch("overlay")
    assert (s.cluster_asn, s.replaces, s.apiserver) == (64512, "flannel", "https://172.26.6.1:6443")
    assert s.services[0]["scheduler"] == "dh"


def test_the_model_document_round_trips(seed003):
    fabric = read(seed003)
    text = model.dumps(fabric)
    model._LOADED.clear()
    loaded = model.loads(text)
    assert loaded.facets[GROUP]["k8s-2"].switch("run_firewall") is True
    assert loaded.facets[GROUP]["k8s-2"].services[0]["name"] == "nginx"


@pytest.fixture()
def password_file(tmp_path):
    path = tmp_path / "tor.pw"
    path.write_text("s3cret\n")
    os.chmod(path, 0o600)
    return str(path)


def test_extra_args_are_typed_as_kube_routers_flags(seed003):
    fabric = read(seed003, every_node(kube_router_extra_args={
        "bgp-holdtime": "90s", "metrics-port": 20241, "excluded-cidrs": ["10.0.0.0/8"], "auto-mtu": False}))
    assert problems(fabric) == []
    assert settings(fabric).extra_args == (("auto-mtu", "false"), ("bgp-holdtime", "90s"),
                                           ("excluded-cidrs", "10.0.0.0/8"), ("metrics-port", "20241"))


BAD = [
    ("unknown flag", every_node(kube_router_extra_args={"run-everything": True}),
     "k8s-1", "kube_router_extra_args.run-everything", "is not a kube-router v2 flag"),
    ("bad duration", every_node(kube_router_extra_args={"bgp-holdtime": "ninety"}),
     "k8s-1", "kube_router_extra_args.bgp-holdtime", "Go duration"),
    ("uint16 out of range", every_node(kube_router_extra_args={"metrics-port": 70000}),
     "k8s-1", "kube_router_extra_args.metrics-port", "0..65535"),
    ("computed flag", every_node(kube_router_extra_args={"cluster-asn": 65000}),
     "k8s-1", "kube_router_extra_args.cluster-asn", "set that variable instead"),
    ("password flag", every_node(kube_router_extra_args={"peer-router-passwords": "eA=="}),
     "k8s-1", "kube_router_extra_args.peer-router-passwords", "password_file"),
    ("dsr with port remap", every_node(kube_router_services=[
        {"namespace": "default", "name": "web", "dsr": "tunnel", "ports": [{"port": 80, "target_port": 8080}]}]),
     "k8s-1", "kube_router_services[0].dsr", "port 80 maps to targetPort 8080"),
    ("dsr without the service proxy", every_node(
        kube_router_run_service_proxy=False, kube_router_accept_no_service_proxy=True,
        kube_router_services=[{"namespace": "default", "name": "web", "dsr": "tunnel"}]),
     "k8s-1", "kube_router_services", "DSR is made by kube-router's service proxy"),
    ("unknown scheduler", every_node(kube_router_services=[{"namespace": "default", "name": "web",
                                                            "scheduler": "wrr"}]),
     "k8s-1", "kube_router_services[0].scheduler", "'wrr' is not one of rr, lc, dh, sh, mh"),
    ("asn without ip", every_node(kube_router_peers=[{"asn": 65001}]),
     "k8s-1", "kube_router_peers[0].ip", "pairs --peer-router-asns with --peer-router-ips by position"),
    ("no service proxy while kube-proxy goes", every_node(kube_router_run_service_proxy=False),
     "k8s-1", "kube_router_run_service_proxy", "nothing would serve Services"),
    ("inline password", every_node(kube_router_peers=[{"ip": "172.26.6.254", "asn": 65001, "password": "x"}]),
     "k8s-1", "kube_router_peers[0].password", "without a secret store"),
    ("peer is a node", every_node(kube_router_peers=[{"ip": "172.26.6.2", "asn": 65001}]),
     "k8s-1", "kube_router_peers[0].ip", "is node k8s-2"),
    ("single route reflector", lambda h, g: h["k8s-1"].update(kube_router_route_reflector=True,
                                                               kube_router_rr_cluster_id=42),
     "k8s-1", "kube_router_route_reflector", "only route reflector"),
    ("rr without cluster id", lambda h, g: [h[n].update(kube_router_route_reflector=True) for n in ("k8s-1", "k8s-2")],
     "k8s-1", "kube_router_rr_cluster_id", "is required with route reflectors"),
    ("bad rr cluster id", every_node(kube_router_rr_cluster_id="rr-one"),
     "k8s-1", "kube_router_rr_cluster_id", "neither an IPv4 address nor a number"),
    ("missing apiserver", lambda h, g: [h[n].pop("kube_router_apiserver") for n in g[GROUP]],
     "k8s-1", "kube_router_apiserver", "Not the kubernetes Service VIP"),
    ("cni not kube-router", every_node(cluster_cni="flannel"),
     "k8s", "cluster_cni", "cluster_cni: kube-router"),
    ("nodes disagree", lambda h, g: h["k8s-3"].update(kube_router_cluster_asn=65000),
     "k8s-3", "kube_router_cluster_asn", "differs from 64512"),
    ("a node left out", lambda h, g: g[GROUP].remove("k8s-3"),
     "k8s-3", GROUP, "are not in group"),
    ("two subnets, no overlay, no peers", lambda h, g: h["k8s-3"].update(node_ip="172.26.7.3",
                                                                          node_subnet="172.26.7.0/24"),
     "k8s-1", "kube_router_overlay", "on 2 subnets"),
    ("cluster ASN kube-router refuses", every_node(kube_router_cluster_asn=100),
     "k8s-1", "kube_router_cluster_asn", "100 is refused by kube-router, which takes a private ASN"),
    ("reserved peer ASN", every_node(kube_router_peers=[{"ip": "172.26.6.254", "asn": 65535}]),
     "k8s-1", "kube_router_peers[0].asn", "65535 is refused by kube-router"),
    ("both service proxies", every_node(kube_router_replace_kube_proxy=False),
     "k8s-1", "kube_router_run_service_proxy", "would both program every Service"),
    ("a flag the role reads through", every_node(kube_router_extra_args={"gobgp-admin-port": 50052}),
     "k8s-1", "kube_router_extra_args.gobgp-admin-port", "is refused"),
    ("peers without the router", every_node(kube_router_run_router=False,
                                            kube_router_peers=[{"ip": "172.26.6.254", "asn": 65001}]),
     "k8s-1", "kube_router_peers", "only the router speaks BGP"),
    ("kube-proxy named as a replaced CNI DaemonSet", every_node(kube_router_replaced_daemonsets=[
        {"namespace": "kube-system", "name": "kube-proxy"}]),
     "k8s-1", "kube_router_replaced_daemonsets[0]", "kube_router_replace_kube_proxy takes care of"),
    ("a replaced DaemonSet twice", every_node(kube_router_replaced_daemonsets=[
        {"namespace": "kube-flannel", "name": "kube-flannel-ds"}, {"namespace": "kube-flannel", "name": "kube-flannel-ds"}]),
     "k8s-1", "kube_router_replaced_daemonsets[1]", "is given twice"),
    ("a replaced DaemonSet without a namespace", every_node(kube_router_replaced_daemonsets=[{"name": "calico-node"}]),
     "k8s-1", "kube_router_replaced_daemonsets[0].namespace", "is required"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_each_bad_value_is_refused_with_cluster_node_and_variable(seed003, case):
    _, change, where, variable, words = case
    found = problems(read(seed003, change))
    assert any(variable in p and where in p and words in p for p in found), found


def test_every_problem_is_reported_at_once(seed003):
    def change(hostvars, groups):
        every_node(kube_router_extra_args={"nope": 1}, kube_router_run_service_proxy=False,
                   kube_router_peers=[{"asn": 65001}])(hostvars, groups)
        hostvars["k8s-2"]["kube_router_cluster_asn"] = 0
    found = problems(read(seed003, change))
    for words in ("kube_router_extra_args.nope", "kube_router_run_service_proxy", "kube_router_peers[0].ip",
                  "node k8s-2, kube_router_cluster_asn: 0 is outside"):
        assert any(words in p for p in found), (words, found)


def test_a_password_file_must_be_0600_and_is_never_in_the_model(seed003, password_file):
    fabric = read(seed003, every_node(kube_router_peers=[{"ip": "172.26.6.254", "asn": 65001,
                                                          "password_file": password_file}]))
    assert problems(fabric) == []
    assert "s3cret" not in model.dumps(fabric)
    os.chmod(password_file, 0o644)
    found = problems(read(seed003, every_node(kube_router_peers=[{"ip": "172.26.6.254", "asn": 65001,
                                                                  "password_file": password_file}])))
    assert any("readable by others" in p and "kube_router_peers[0].password_file" in p for p in found), found


def test_route_reflectors_with_a_shared_cluster_id_are_accepted(seed003):
    def change(hostvars, groups):
        every_node(kube_router_rr_cluster_id="42")(hostvars, groups)
        for host in ("k8s-1", "k8s-2"):
            hostvars[host]["kube_router_route_reflector"] = True
    fabric = read(seed003, change)
    assert problems(fabric) == []
    assert [n.host for n in kube_router.reflectors(fabric, "k8s")] == ["k8s-1", "k8s-2"]


# --- a ToR router the nodes peer with (inventories/kube-router-tor) ------------------------------

@pytest.fixture(scope="module")
def with_tor():
    return inventory_of("inventories/kube-router-tor")


def test_the_tor_gets_every_node_as_a_neighbor_with_the_cluster_asn(with_tor, password_file):
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.tor import plan as bgp_router
    fabric = read(with_tor, every_node(kube_router_peers=[{"ip": "172.26.6.250", "asn": 65100,
                                                           "password_file": password_file}]))
    assert problems(fabric) == []
    state = bgp_router.router_state(fabric, "tor")
    assert state["asn"] == 65100 and state["secret"] is True
    assert [(n["ip"], n["remote_as"], n["multihop"], n["description"]) for n in state["neighbors"]] == [
        ("172.26.6.%d" % i, 64512, False, "nodenet.fabric k8s k8s-%d" % i) for i in (1, 2, 3)]
    assert state["prefix_lists"] == [{"name": "NODENET-k8s-IN", "prefixes": ["10.244.0.0/16"]}]
    assert bgp_router.client_state(fabric, "outside")["routes"] == [
        {"dst": "10.244.0.0/16", "via": "172.26.6.250", "dev": "eth0", "onlink": False}]
    assert bgp_router.client_targets(fabric, "outside") == ["10.244.0.1", "10.244.1.1", "10.244.2.1"]


def test_a_tor_whose_as_differs_from_kube_router_peers_is_refused(with_tor):
    fabric = read(with_tor, every_node(kube_router_peers=[{"ip": "172.26.6.250", "asn": 65101}]))
    assert problems(fabric) == ["cluster k8s, node tor, bgp_router_as: 65100 differs from AS 65101 that cluster k8s's "
                                "kube_router_peers gives for 172.26.6.250"]


def test_a_tor_no_cluster_peers_with_is_refused_naming_both_variables(with_tor):
    fabric = read(with_tor, every_node(kube_router_peers=[]))
    assert [p for p in problems(fabric) if "tor" in p] == [
        "node tor, bgp_router_ip: 172.26.6.250 is no cluster's external peer: add {ip: 172.26.6.250, as: 65100} to "
        "calico_bgp_peers (or {ip: 172.26.6.250, asn: 65100} to kube_router_peers) of the clusters it serves"]


def test_a_tor_peer_must_listen_on_179_and_be_reached_by_multihop_off_the_subnet(with_tor):
    fabric = read(with_tor, every_node(kube_router_peers=[{"ip": "172.26.6.250", "asn": 65100, "port": 1790}]))
    assert "cluster k8s, node k8s-1, kube_router_peers[0].port: is 1790 but 172.26.6.250 is ToR tor, whose FRR the " \
           "playbook configures on port 179" in problems(fabric)
    moved = read(with_tor, lambda h, g: h["tor"].update(bgp_router_subnet="172.26.9.0/24", bgp_router_ip="172.26.9.250")
                 or [h[n].update(kube_router_peers=[{"ip": "172.26.9.250", "asn": 65100}]) for n in g[GROUP]])
    assert any("kube_router_extra_args: has no peer-router-multihop-ttl, but ToR tor (172.26.9.0/24)" in p
               for p in problems(moved)), problems(moved)
    fixed = read(with_tor, lambda h, g: h["tor"].update(bgp_router_subnet="172.26.9.0/24", bgp_router_ip="172.26.9.250")
                 or [h[n].update(kube_router_peers=[{"ip": "172.26.9.250", "asn": 65100}],
                                 kube_router_extra_args={"peer-router-multihop-ttl": 2}) for n in g[GROUP]])
    assert not [p for p in problems(fixed) if "multihop" in p], problems(fixed)


def test_no_mesh_no_reflector_and_peers_that_cannot_re_advertise_are_refused(with_tor):
    """Some pair of nodes would get no route to each other: the ToR sends nothing back, and a
    peer in the cluster's AS is iBGP; an eBGP router outside the inventory may re-advertise."""
    ibgp = {"ip": "172.26.6.251", "asn": 64512}
    tor = {"ip": "172.26.6.250", "asn": 65100}
    fabric = read(with_tor, every_node(kube_router_full_mesh=False, kube_router_peers=[tor, ibgp]))
    assert [p for p in problems(fabric) if "full_mesh" in p] == [
        "cluster k8s, node k8s-1, kube_router_full_mesh: is false and the cluster has no route reflector, so its "
        "nodes peer with none of each other: k8s-1 and k8s-2 (and every other pair) would get no route to each "
        "other's pods; no peer can carry them: 172.26.6.250 is ToR tor, which the playbook configures to send "
        "nothing back; 172.26.6.251 is in the cluster's own AS 64512 (iBGP: it never re-advertises). Keep the "
        "full mesh, set kube_router_route_reflector on two nodes, or peer with an eBGP router that re-advertises "
        "the pod CIDRs"]
    outside = {"ip": "172.26.6.252", "asn": 65200}
    assert not [p for p in problems(read(with_tor, every_node(kube_router_full_mesh=False,
                                                             kube_router_peers=[tor, outside]))) if "full_mesh" in p]

    def reflectors(hostvars, groups):
        every_node(kube_router_full_mesh=False, kube_router_peers=[tor], kube_router_rr_cluster_id="42")(hostvars, groups)
        for host in ("k8s-1", "k8s-2"):
            hostvars[host]["kube_router_route_reflector"] = True
    assert problems(read(with_tor, reflectors)) == []
