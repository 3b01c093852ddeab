"""node_facts: what a node has against what its plan needs and what the inventory says of it,
and node_failures reporting every problem of every node, one line each."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))

from ansible_collections.nodenet.fabric.plugins.module_utils import node_facts  # noqa: E402
from ansible_collections.nodenet.fabric.plugins.filter.node_failures import node_failures  # noqa: E402

ETH0 = [{"ifname": "eth0", "flags": ["UP", "LOWER_UP"], "mtu": 1500, "address": "0a:00:00:00:00:0b",
         "addr_info": [{"family": "inet", "local": "10.0.0.11", "prefixlen": 24}]}]


def runner(fail=(), outputs=None):
    outputs = dict(outputs or {})

    def run(argv):
        key = " ".join(argv)
        if any(key.startswith(f) for f in fail):
            return 1, "", "Error: not supported"
        for prefix, out in outputs.items():
            if key.startswith(prefix):
                return 0, out, ""
        return 0, "[]", ""
    return run


def facts(fail=(), exists=(), interface="eth0", **outputs):
    base = {"ip -V": "ip utility, iproute2-6.1.0", "ip -j -d addr show dev eth0": json.dumps(ETH0),
            "ip -j link show": json.dumps([{"ifname": "lo"}, {"ifname": "eth0"}])}
    base.update(outputs)
    found = node_facts.read(runner(fail, base), "6.1.0-test", lambda p: p in exists, interface)
    found["uid"] = 0
    return found


def test_a_node_as_the_inventory_says_has_no_problem():
    found = facts(exists=("/sys/module/vxlan", "/run/systemd/system"))
    assert found["underlay"] == {"name": "eth0", "addresses": ["10.0.0.11/24"], "mtu": 1500, "up": True}
    assert found["vxlan"] and found["systemd"] and found["nexthop"] and found["iproute2_json"]
    assert node_facts.problems(found, {"interface": "eth0", "address": "10.0.0.11/24", "mtu": 1500},
                               ["vxlan", "systemd"]) == []


def test_every_disagreement_names_its_variable():
    found = facts(fail=("modprobe",))
    found["uid"] = 1000
    lines = node_facts.problems(found, {"interface": "eth0", "address": "10.0.0.12/24", "mtu": 9000},
                                ["vxlan", "systemd"])
    assert len(lines) == 5
    assert lines[0].startswith("runs as uid 1000, not root")
    assert "vxlan" in lines[1] and "6.1.0-test" in lines[1]
    assert lines[2].startswith("node_base_systemd: ")
    assert lines[3].startswith("node_ip: 10.0.0.12 is not an address of eth0 (it has 10.0.0.11/24)")
    assert lines[4] == "node_mtu: is 9000 but eth0's MTU is 1500; set node_mtu to 1500"


def test_a_prefix_other_than_node_subnets_is_named():
    lines = node_facts.problems(facts(), {"interface": "eth0", "address": "10.0.0.11/16"}, [])
    assert lines == ["node_subnet: eth0 has 10.0.0.11/24, whose prefix is not that of node_subnet (/16); set "
                     "node_subnet to the underlay subnet"]


def test_a_missing_underlay_lists_the_devices_there_are():
    found = facts(interface="eth9", fail=("ip -j -d addr show dev eth9",))
    assert node_facts.problems(found, {"interface": "eth9"}, []) == [
        "node_interface: eth9 does not exist on the node (it has eth0, lo); set node_interface to the underlay device"]


def test_no_json_and_no_nexthops():
    found = facts(fail=("ip -j", "ip -V"), interface=None)
    assert not found["nexthop"] and not found["iproute2_json"]
    assert node_facts.problems(found, {}, []) == [
        "iproute2 has no JSON output (`ip -j` fails; `ip -V` fails): install iproute2 4.14 or later"]


def test_vxlan_loadable_but_not_loaded_is_enough():
    assert facts()["vxlan"]  # modprobe --dry-run resolves it
    assert not facts(fail=("modprobe",))["vxlan"]


def test_node_failures_lists_every_problem_of_every_node_once():
    hostvars = {
        "a": {"facts": {"failed": True, "msg": "x; y", "problems": ["x", "y"]}, "plan": {"skipped": True}},
        "b": {"facts": {"changed": False, "problems": []}, "plan": {"msg": "route in the way"}},
        "c": {"facts": {"failed": True, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error",
                        "module_stderr": "sudo: a password is required\n"}},
        "d": {"facts": {"changed": False, "problems": []}, "plan": {"changed": False}},
        "e": {},
    }
    assert node_failures(hostvars, ["e", "d", "c", "b", "a"], ["facts", "plan"]) == [
        "node a: x", "node a: y", "node b: route in the way",
        "node c: become did not give root (sudo: a password is required): the SSH user needs sudo without a "
        "password here, or give ansible_become_password",
        "node e: no result (unreachable, or it failed before this step)"]
    assert node_failures(hostvars, ["b", "d"], "plan") == ["node b: route in the way"]
    framed = {"tor": {"plan": {"failed": True, "msg": "refusing to change the router: a; b", "problems": ["a", "b"]}}}
    assert node_failures(framed, ["tor"], "plan") == ["node tor: refusing to change the router: a; b"]
    missing = {"x": {"facts": {"failed": True, "msg": "Missing sudo password"}}}
    assert node_failures(missing, ["x"], "facts") == [
        "node x: become did not give root (Missing sudo password): the SSH user needs sudo without a password "
        "here, or give ansible_become_password"]
