"""Build fabric inventories in Python, shaped exactly as Ansible hands them to filters.

``build()`` returns ``(hostvars, groups)``: hostvars maps every host to its
variables with group vars already merged (vxlan_mesh vars, then the cluster
group's vars, then host vars), and groups maps every group -- including
``all``, ``ungrouped`` and ``vxlan_mesh`` -- to its flattened host list.

The first three clusters and their first two nodes carry the values of
inventories/seed/hosts.yml; further clusters and nodes are generated in the same
pattern with values that collide with nothing.
"""

import copy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / ".collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".collections"))

SEED_FILE = ROOT / "inventories" / "seed" / "hosts.yml"
MESH_GROUP = "vxlan_mesh"

# The vxlan_mesh group's vars in the seed.
SEED_MESH_VARS = {
    "vxlan_mesh_device": "vxlan-test",
    "vxlan_mesh_vni": 10001,
    "vxlan_mesh_port": 4899,
    "vxlan_mesh_subnet": "179.17.1.0/24",
    "node_interface": "eth0",
    "node_subnet": "192.168.0.0/24",
}

# host: (node_ip, node pod CIDR, vxlan_mesh_ip, vxlan_mesh_mac), per seed cluster.
SEED_NODES = {
    1: [("multicluster-test-001", "192.168.0.21", "10.234.111.0/24", "179.17.1.21", "c2:6a:9b:e5:39:8d"),
        ("multicluster-test-002", "192.168.0.31", "10.234.118.0/24", "179.17.1.31", "7a:3a:fe:45:a3:76")],
    2: [("multicluster-test-003", "192.168.0.16", "10.235.88.0/24", "179.17.1.16", "36:f9:67:c0:70:1c"),
        ("multicluster-test-004", "192.168.0.44", "10.235.113.0/24", "179.17.1.44", "12:d1:df:44:3d:aa")],
    3: [("multicluster-test-005", "192.168.0.15", "10.236.115.0/24", "179.17.1.15", "ba:a7:54:aa:bc:ce"),
        ("multicluster-test-006", "192.168.0.13", "10.236.106.0/24", "179.17.1.13", "4e:ac:f5:6f:4e:76")],
}

# The seed's planned vxlan IP and MAC of every seed node.
SEED_HOSTS = [n[0] for k in sorted(SEED_NODES) for n in SEED_NODES[k]]
SEED_NODE_IP = {n[0]: n[1] for k in SEED_NODES for n in SEED_NODES[k]}
SEED_VXLAN_IP = {n[0]: n[3] for k in SEED_NODES for n in SEED_NODES[k]}
SEED_VXLAN_MAC = {n[0]: n[4] for k in SEED_NODES for n in SEED_NODES[k]}


class _Drop(object):
    """Override value that removes the variable instead of setting it."""

    def __repr__(self):
        return "DROP"


DROP = _Drop()


def group_name(k):
    return "test_cluster%d" % k


def cluster_name(k):
    return "test-cluster%d" % k


def cluster_vars(k):
    # Seed pattern: cluster k owns 10.(233+k).0.0/17 -- service the lower /18, pods the upper.
    return {
        "cluster_name": cluster_name(k),
        "cluster_pod_cidr": "10.%d.64.0/18" % (233 + k),
        "cluster_service_cidr": "10.%d.0.0/18" % (233 + k),
        "cluster_cni": "calico",
    }


def node_rows(k, count):
    """(host, node_ip, pod CIDR, vxlan IP, vxlan MAC) of cluster k's first `count` nodes."""
    rows = list(SEED_NODES.get(k, []))[:count]
    for j in range(len(rows) + 1, count + 1):
        octet = 100 + 10 * k + j  # the seed's node IPs end in 13..44: no collision
        assert octet < 255 and j < 10, "the generator only covers 14 clusters of 9 nodes"
        rows.append(("node-c%02d-n%d" % (k, j), "192.168.0.%d" % octet,
                     "10.%d.%d.0/24" % (233 + k, 64 + j),  # the seed's node CIDRs are .88 and up
                     "179.17.1.%d" % octet, "02:00:00:00:%02x:%02x" % (k, j)))
    return rows


def apply(target, overrides):
    for key, value in (overrides or {}).items():
        if value is DROP:
            target.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)


def build(clusters=3, nodes=2, explicit=True, mesh=None, cluster=None, hosts=None):
    """(hostvars, groups) of `clusters` x `nodes`, seed-valued where the seed has values.

    explicit: keep vxlan_mesh_ip / vxlan_mesh_mac on the hosts (False: let the model derive them).
    mesh:     vars set on the vxlan_mesh group (every node).
    cluster:  {cluster group name: vars} set on that cluster group.
    hosts:    {host: vars} host vars.
    A value of DROP removes the variable at that level and below.
    """
    hostvars, groups = {}, {"all": [], "ungrouped": [], MESH_GROUP: []}
    for k in range(1, clusters + 1):
        group = group_name(k)
        groups[group] = []
        for host, ip, pod, vxlan_ip, mac in node_rows(k, nodes):
            hv = dict(SEED_MESH_VARS)
            apply(hv, mesh)
            apply(hv, cluster_vars(k))
            apply(hv, (cluster or {}).get(group))
            apply(hv, {"node_ip": ip, "node_pod_cidrs": [pod]})
            if explicit:
                apply(hv, {"vxlan_mesh_ip": vxlan_ip, "vxlan_mesh_mac": mac})
            apply(hv, (hosts or {}).get(host))
            hostvars[host] = hv
            groups[group].append(host)
            groups[MESH_GROUP].append(host)
            groups["all"].append(host)
    unknown = set(hosts or {}) - set(hostvars)
    assert not unknown, "overrides for hosts not in the inventory: %s" % sorted(unknown)
    return hostvars, groups


def add_node(hostvars, groups, host, group, **variables):
    """A copy of the inventory with `host` added to cluster group `group` (and the mesh)."""
    hostvars, groups = copy.deepcopy(hostvars), copy.deepcopy(groups)
    template = hostvars[groups[group][0]]
    hv = {k: v for k, v in template.items()
          if k not in ("node_ip", "node_pod_cidrs", "vxlan_mesh_ip", "vxlan_mesh_mac")}
    apply(hv, variables)
    hostvars[host] = hv
    for name in (group, MESH_GROUP, "all"):
        groups[name].append(host)
    return hostvars, groups


def remove_node(hostvars, groups, host):
    """A copy of the inventory without `host`."""
    hostvars = {h: copy.deepcopy(v) for h, v in hostvars.items() if h != host}
    groups = {g: [h for h in members if h != host] for g, members in groups.items()}
    return hostvars, groups


def reordered(hostvars, groups):
    """The same inventory with every host order (dicts and group lists) reversed."""
    hostvars = {h: copy.deepcopy(hostvars[h]) for h in reversed(list(hostvars))}
    groups = {g: list(reversed(groups[g])) for g in reversed(list(groups))}
    return hostvars, groups


def seed_from_yaml(path=SEED_FILE):
    """(hostvars, groups) of the seed file, merged the way Ansible merges it: group vars
    from the shallowest group to the deepest, then host vars."""
    import yaml

    data = yaml.safe_load(Path(path).read_text())
    parents, group_vars, host_vars, members = {}, {}, {}, {}

    def walk(name, entry, parent):
        entry = entry or {}
        parents.setdefault(name, set())
        if parent:
            parents[name].add(parent)
        group_vars.setdefault(name, {}).update(entry.get("vars") or {})
        members.setdefault(name, [])
        for host, hv in (entry.get("hosts") or {}).items():
            host_vars.setdefault(host, {}).update(hv or {})
            members[name].append(host)
        for child, centry in (entry.get("children") or {}).items():
            walk(child, centry, name)

    for name, entry in data.items():
        walk(name, entry, None)

    def depth(group):
        return 0 if not parents[group] else 1 + max(depth(p) for p in parents[group])

    def flat(group):
        hosts = list(members[group])
        for child, ps in parents.items():
            if group in ps:
                hosts += [h for h in flat(child) if h not in hosts]
        return hosts

    groups = {g: flat(g) for g in parents}
    groups.setdefault("ungrouped", [])
    hostvars = {}
    for host in groups["all"]:
        hv = {}
        for g in sorted((g for g in groups if host in groups[g]), key=depth):
            hv.update(group_vars.get(g, {}))
        hv.update(host_vars.get(host, {}))
        hostvars[host] = hv
    return hostvars, groups


def load_errors(hostvars, groups):
    """Every FabricError that model.load raises for the inventory (fails if it loads)."""
    from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.errors import FabricInvalid

    try:
        fabric = model.load(hostvars, groups)
    except FabricInvalid as exc:
        return exc.errors
    raise AssertionError("the inventory loaded without problems; nodes: %s" % sorted(fabric.nodes))


def only_error(hostvars, groups):
    errors = load_errors(hostvars, groups)
    assert len(errors) == 1, "expected exactly one problem, got:\n%s" % "\n".join(map(str, errors))
    return errors[0]


def triples(errors):
    return sorted((e.cluster, e.node, e.variable) for e in errors)


def assert_error(error, cluster, node, variable, fragment):
    assert (error.cluster, error.node, error.variable) == (cluster, node, variable), str(error)
    assert fragment in error.message, str(error)
