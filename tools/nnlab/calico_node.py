# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's stand-in for calico-node's BGP: confd's rendering of BIRD's configuration from the
Calico resources in the cluster's kube-apiserver, and a real BIRD 2 per node namespace.

It reads back exactly what the role left (BGPConfiguration, BGPPeers, Nodes with their labels
and annotations, IPPools, BlockAffinities, the password Secret) and renders each node's BIRD
configuration the way Calico's confd templates do (bird.cfg, bird_ipam.cfg, bird_aggr.cfg):

- a node with a route-reflector cluster ID ignores the node-to-node mesh, and the other nodes'
  mesh skips it;
- a BGPPeer applies to spec.node, the nodes its nodeSelector matches, or every node (global);
  it peers with peerIP, or with every node its peerSelector matches, which get the session back;
- `rr client` + `rr cluster id` toward an iBGP peer of another cluster ID;
- the node's blocks as blackhole routes, exported with nothing beneath them; pool routes exported.

So a wrong label, annotation or selector shows up as a session that never comes up. Unlike
calico-node, routes of ipip or vxlan pools are not programmed: this kernel has no ipip link and
Debian's BIRD has no krt_tunnel (felix programs vxlan routes). Run as a daemon per cluster:

    python3 calico_node.py RUN_DIR CLUSTER KUBECONFIG HOST [HOST...]
"""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from nnlab import calico_selector  # noqa: E402

CALICO = "crd.projectcalico.org/v1"
DEFAULT_AS = 64512
NAMESPACE = "kube-system"


def bird_paths(run_dir, host):
    folder = os.path.join(run_dir, host, "bird")
    return {"folder": folder, "conf": os.path.join(folder, "bird.conf"), "socket": os.path.join(folder, "bird.ctl")}


def read_state(api):
    """Every Calico-relevant object of the cluster, as plain dicts."""
    from kubernetes.dynamic import DynamicClient
    dynamic = DynamicClient(api)

    def items(api_version, kind, namespace=None):
        resource = dynamic.resources.get(api_version=api_version, kind=kind)
        return [i.to_dict() for i in resource.get(namespace=namespace).items]

    configs = dict((c["metadata"]["name"], c.get("spec") or {}) for c in items(CALICO, "BGPConfiguration"))
    state = {"config": configs.get("default", {}), "peers": items(CALICO, "BGPPeer"),
             "pools": items(CALICO, "IPPool"), "blocks": items(CALICO, "BlockAffinity"),
             "nodes": items("v1", "Node"), "secrets": {}}
    for peer in state["peers"]:
        ref = ((peer.get("spec") or {}).get("password") or {}).get("secretKeyRef")
        if ref and ref["name"] not in state["secrets"]:
            try:
                secret = dynamic.resources.get(api_version="v1", kind="Secret").get(name=ref["name"], namespace=NAMESPACE)
                state["secrets"][ref["name"]] = dict(secret.to_dict().get("data") or {})
            except Exception:  # a missing Secret: calico-node leaves the password out, the session fails
                state["secrets"][ref["name"]] = {}
    return state


def node_info(state):
    """{node: {ip, labels, as, cluster_id}} as calico-node sees its nodes."""
    nodes = {}
    for node in state["nodes"]:
        meta = node["metadata"]
        notes = meta.get("annotations") or {}
        ip = (notes.get("projectcalico.org/IPv4Address") or "").split("/")[0]
        if not ip:
            ip = next((a["address"] for a in (node.get("status") or {}).get("addresses") or []
                       if a["type"] == "InternalIP"), "")
        nodes[meta["name"]] = {"ip": ip, "labels": meta.get("labels") or {},
                               "as": int(notes["projectcalico.org/ASNumber"]) if "projectcalico.org/ASNumber" in notes
                               else None, "cluster_id": notes.get("projectcalico.org/RouteReflectorClusterID", "")}
    return nodes


def matches(selector, labels):
    try:
        return calico_selector.parse(selector)(labels)
    except ValueError as exc:
        print("calico-node stand-in: %s" % exc, file=sys.stderr)
        return False


def password_of(state, spec):
    import base64
    ref = (spec.get("password") or {}).get("secretKeyRef")
    if not ref:
        return None
    value = state["secrets"].get(ref["name"], {}).get(ref["key"])
    return base64.b64decode(value).decode() if value else None


def peerings(state, name):
    """[{kind, ip, as, cluster_id, password, keep_next_hop}] of one node, deduplicated by kind and IP."""
    nodes = node_info(state)
    me = nodes[name]
    global_as = int(state["config"].get("asNumber") or DEFAULT_AS)
    node_as = lambda n: n["as"] or global_as  # noqa: E731
    found = {}

    def add(kind, ip, as_number, cluster_id="", password=None, keep=False):
        if ip and ip != me["ip"]:
            found.setdefault((kind, ip), {"kind": kind, "ip": ip, "as": as_number, "cluster_id": cluster_id,
                                          "password": password, "keep_next_hop": keep})

    if not me["cluster_id"] and state["config"].get("nodeToNodeMeshEnabled", True):
        for other_name, other in sorted(nodes.items()):
            if other_name != name and not other["cluster_id"]:
                add("Mesh", other["ip"], node_as(other))

    def applies(spec, node_name):
        if spec.get("node"):
            return spec["node"] == node_name
        if spec.get("nodeSelector"):
            return matches(spec["nodeSelector"], nodes[node_name]["labels"])
        return True

    for peer in sorted(state["peers"], key=lambda p: p["metadata"]["name"]):
        spec = peer.get("spec") or {}
        kind = "Node" if spec.get("node") or spec.get("nodeSelector") else "Global"
        password, keep = password_of(state, spec), bool(spec.get("keepOriginalNextHop"))
        if applies(spec, name):
            if spec.get("peerIP"):
                add(kind, spec["peerIP"].split(":")[0], int(spec.get("asNumber") or global_as), "", password, keep)
            elif spec.get("peerSelector"):
                for other_name, other in sorted(nodes.items()):
                    if other_name != name and matches(spec["peerSelector"], other["labels"]):
                        add("Node", other["ip"], node_as(other), other["cluster_id"], password)
        if (spec.get("peerSelector") and spec.get("reversePeering", "Auto") == "Auto"
                and matches(spec["peerSelector"], me["labels"])):
            for other_name, other in sorted(nodes.items()):  # the session back from each selected peer
                if other_name != name and applies(spec, other_name):
                    add("Node", other["ip"], node_as(other), other["cluster_id"], password)
    return sorted(found.values(), key=lambda p: (p["kind"], tuple(int(x) for x in p["ip"].split("."))))


def blocks_of(state, name):
    return sorted(b["spec"]["cidr"] for b in state["blocks"]
                  if b["spec"].get("node") == name and b["spec"].get("state", "confirmed") == "confirmed"
                  and str(b["spec"].get("deleted", "false")) != "true")


def render(state, name):
    """calico-node's BIRD configuration for one node."""
    nodes = node_info(state)
    me = nodes[name]
    my_as = me["as"] or int(state["config"].get("asNumber") or DEFAULT_AS)
    blocks = blocks_of(state, name)
    pools = [p["spec"] for p in state["pools"]]
    out = ["# Rendered by the nodenet lab's calico-node stand-in from the cluster's Calico resources",
           "router id %s;" % me["ip"], "",
           "function calico_aggr ()", "{"]
    for block in blocks:
        out += ["  if ( net = %s ) then { accept; }" % block, "  if ( net ~ %s ) then { reject; }" % block]
    out += ["}", "", "filter calico_export_to_bgp_peers {"]
    out += ["  if ( net ~ %s ) then { reject; }" % p["cidr"] for p in pools if p.get("disableBGPExport")]
    out += ["  calico_aggr();"]
    out += ["  if ( net ~ %s ) then { accept; }" % p["cidr"] for p in pools if not p.get("disableBGPExport")]
    out += ["  reject;", "}", "", "filter calico_kernel_programming {"]
    for pool in pools:
        tunnelled = pool.get("vxlanMode", "Never") != "Never" or pool.get("ipipMode", "Never") != "Never"
        out.append("  if ( net ~ %s ) then { %s }" % (pool["cidr"], "reject;" if tunnelled else "accept;"))
    out += ["  accept;", "}", "",
            "protocol kernel {", "  learn;", "  persist;", "  scan time 2;", "  graceful restart;", "  merge paths on;",
            "  ipv4 { import all; export filter calico_kernel_programming; };", "}", "",
            "protocol device { scan time 2; }", "",
            'protocol direct { ipv4; interface -"cali*", -"kube-ipvs*", "*"; }', ""]
    if blocks:
        out += ["protocol static {", "  ipv4;"] + ["  route %s blackhole;" % b for b in blocks] + ["}", ""]
    out += ["template bgp bgp_template {", '  description "Connection to BGP peer";', "  local as %d;" % my_as,
            "  multihop;", "  ipv4 {", "    gateway recursive;", "    import all;",
            "    export filter calico_export_to_bgp_peers;", "    add paths on;", "  };",
            "  graceful restart;", "  connect delay time 1;", "  connect retry time 3;", "  error wait time 5,60;",
            "}", ""]
    if me["cluster_id"]:
        out.append("# This node is a route reflector with cluster ID %s; it ignores the node-to-node mesh." % me["cluster_id"])
    for peer in peerings(state, name):
        out += ["protocol bgp %s_%s from bgp_template {" % (peer["kind"], peer["ip"].replace(".", "_")),
                "  neighbor %s as %d;" % (peer["ip"], peer["as"]),
                "  source address %s;" % me["ip"]]
        if peer["kind"] == "Mesh":
            if peer["ip"] > me["ip"]:  # as confd compares them: the mesh is unidirectional
                out.append("  passive on;")
            out.append("  graceful restart time 120;")
        elif peer["as"] == my_as and me["cluster_id"] and peer["cluster_id"] != me["cluster_id"]:
            out += ["  rr client;", "  rr cluster id %s;" % me["cluster_id"]]
        if peer["password"]:
            out.append('  password "%s";' % peer["password"])
        if peer["as"] != my_as and peer["keep_next_hop"]:
            out.append("  next hop keep;")
        out += ["}", ""]
    return "\n".join(out) + "\n"


def write_config(path, text):
    """Write the configuration (0600: it may hold BGP passwords); True when it changed."""
    try:
        with open(path) as handle:
            if handle.read() == text:
                return False
    except OSError:
        pass
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)
    return True


def reconfigure(host, paths):
    """Tell a running BIRD to load its new configuration (unchanged protocols stay up)."""
    if not os.path.exists(paths["socket"]):
        return False
    proc = subprocess.run(["ip", "netns", "exec", host, "birdc", "-s", paths["socket"], "configure"],
                          capture_output=True, text=True)
    if proc.returncode != 0 or "Reconfigured" not in proc.stdout and "Reconfiguration" not in proc.stdout:
        print("calico-node stand-in: %s: birdc configure: %s" % (host, (proc.stdout + proc.stderr).strip()),
              file=sys.stderr)
    return True


def render_all(api, run_dir, hosts):
    state = read_state(api)
    changed = []
    for host in hosts:
        paths = bird_paths(run_dir, host)
        os.makedirs(paths["folder"], mode=0o700, exist_ok=True)
        if write_config(paths["conf"], render(state, host)):
            changed.append(host)
    return changed


def run(run_dir, cluster, kubeconfig, hosts):
    from kubernetes import config
    api = config.new_client_from_config(config_file=kubeconfig)
    print("calico-node stand-in for %s: %s" % (cluster, ", ".join(hosts)), flush=True)
    while True:
        try:
            for host in render_all(api, run_dir, hosts):
                reconfigure(host, bird_paths(run_dir, host))
                print("%s: %s reconfigured" % (time.strftime("%H:%M:%S"), host), flush=True)
        except Exception as exc:  # the API server is down (a test stops it): keep the last configuration
            print("%s: %s" % (time.strftime("%H:%M:%S"), exc), flush=True)
        time.sleep(0.3)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
