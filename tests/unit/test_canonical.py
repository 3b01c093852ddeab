"""The module's input canonicalisation: fast for canonical columns, exact for the rest."""
import pytest

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import core, kernel


@pytest.mark.parametrize("kind,values,expected", [
    ("ip", ["10.0.0.1", "255.255.255.255"], ["10.0.0.1", "255.255.255.255"]),
    ("ip", [" 10.0.0.1"], ["10.0.0.1"]),
    ("net", ["10.0.0.0/24", "10.0.0.7/24", "10.1.2.3"], ["10.0.0.0/24", "10.0.0.0/24", "10.1.2.3/32"]),
    ("net", ["default"], ["0.0.0.0/0"]),
    ("mac", ["AA:BB:cc:dd:ee:01"], ["aa:bb:cc:dd:ee:01"]),
    ("ip", ["10.0.0.1", "FD00:0:0::0:5"], ["10.0.0.1", "fd00::5"]),
    ("net", ["fd00:10:0:1:2::/64", "fd00::5", "::/0"], ["fd00:10:0:1::/64", "fd00::5/128", "::/0"]),
])
def test_columns_are_canonicalised(kind, values, expected):
    parse = {"ip": kernel.canonical_ip, "net": kernel.canonical_net, "mac": kernel.canonical_mac}[kind]
    assert kernel.canonical_column(kind, values, parse) == expected


@pytest.mark.parametrize("kind,value", [
    ("ip", "10.0.0"), ("ip", "10.0.0.256"), ("ip", "010.0.0.1"), ("ip", "fe80::1::2"), ("ip", "fd00::g"), ("ip", ""),
    ("net", "10.0.0.0/33"), ("net", "10.0.0/24"), ("net", "fd00::/129"),
    ("mac", "aa:bb:cc:dd:ee"), ("mac", "aa-bb-cc-dd-ee-ff"), ("mac", "gg:bb:cc:dd:ee:ff"),
])
def test_malformed_values_are_refused(kind, value):
    parse = {"ip": kernel.canonical_ip, "net": kernel.canonical_net, "mac": kernel.canonical_mac}[kind]
    with pytest.raises(ValueError):
        kernel.canonical_column(kind, ["10.0.0.1" if kind != "mac" else "aa:bb:cc:dd:ee:ff", value], parse)


def test_normalise_gives_kernel_forms():
    state = core.normalise({
        "device": {"name": "vx", "vni": "7", "port": 4789, "local": "192.168.0.1", "underlay": "eth0",
                   "mtu": 1450, "mac": "0A:58:00:00:00:01", "address": "172.30.0.1/16"},
        "neighbors": [{"ip": "172.30.0.2", "mac": "0A:58:00:00:00:02"}],
        "fdb": [{"mac": "0A:58:00:00:00:02", "dst": "192.168.0.2"}],
        "routes": [{"dst": "10.1.0.9/16", "via": "172.30.0.2", "dev": "vx", "onlink": True}],
        "route_protocol": "201", "route_table": "main"})
    assert state["device"]["mac"] == "0a:58:00:00:00:01" and state["device"]["vni"] == 7
    assert state["neighbors"] == [{"ip": "172.30.0.2", "mac": "0a:58:00:00:00:02"}]
    assert state["routes"][0]["dst"] == "10.1.0.0/16"
    assert (state["route_protocol"], state["route_table"], state["state"]) == (201, 254, "present")


def test_a_dual_stack_device_keeps_one_address_per_family_the_first_primary():
    state = core.normalise({
        "device": {"name": "vx", "vni": 7, "port": 4789, "local": "FD00::1", "underlay": "eth0", "mtu": 1430,
                   "mac": "0a:58:00:00:00:01", "address": ["172.30.0.1/16", "FD30::1/64"]},
        "routes": [{"dst": "fd10:1::/64", "via": "fd30::2", "dev": "vx"}], "route_protocol": 201})
    device = state["device"]
    assert device["addresses"] == ["172.30.0.1/16", "fd30::1/64"] and device["address"] == "172.30.0.1/16"
    assert device["local"] == "fd00::1" and state["routes"][0]["via"] == "fd30::2"


def ipv6_route(dst, metric, protocol="202"):
    return {"dst": dst, "gateway": "fd00::2", "dev": "eth0", "protocol": protocol, "metric": metric, "flags": []}


@pytest.mark.parametrize("metric", [0, 1024, 4000])
def test_an_ipv6_route_in_place_is_a_no_op_at_any_metric(metric):
    """The kernel holds IPv6 routes at 1024 when none is given; a route asked for at 1024 is that one."""
    from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.plan import make_plan
    desired = core.normalise({"routes": [{"dst": "fd01::/64", "via": "fd00::2", "dev": "eth0"}], "route_protocol": 202,
                              "route_metric": metric})
    dump = kernel.ipv6_routes([ipv6_route("fd01::/64", metric or 1024), ipv6_route("default", 1024, "3"),
                               {"dst": "10.0.0.0/8", "dev": "eth0"}])  # an IPv4 entry is not the IPv6 dump's
    assert [e["dst"] for e in dump] == ["fd01::/64", "::/0"]
    routes = kernel.parse_routes(dump, 254, 202)
    plan = make_plan(desired, kernel.Dataplane({}, [], [], routes, nexthops=None))
    assert plan.route_cmds == [] and not plan.errors
    # entry by entry too (a second route is missing, so the whole-table comparison cannot say)
    more = dict(desired, routes=desired["routes"] + core.normalise(
        {"routes": [{"dst": "fd02::/64", "via": "fd00::2", "dev": "eth0"}], "route_protocol": 202})["routes"])
    plan = make_plan(more, kernel.Dataplane({}, [], [], routes, nexthops=None))
    assert plan.route_cmds == ["route replace fd02::/64 via fd00::2 dev eth0 proto 202 table 254%s"
                               % (" metric %d" % metric if metric else "")]
    # and a route of ours that is no longer wanted goes at the metric the kernel holds it at
    stale = make_plan(dict(desired, routes=[]), kernel.Dataplane({}, [], [], routes, nexthops=None))
    assert stale.route_cmds == ["route delete fd01::/64 proto 202 table 254 metric %d" % (metric or 1024)]
    assert routes[1]["dst"] == "::/0" and routes[1]["protocol"] == 3  # boot's default route: never ours
