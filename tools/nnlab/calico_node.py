# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's stand-in for calico-node's BGP: confd's rendering of BIRD's configuration from the
Calico resources in the cluster's kube-apiserver, and a real BIRD 2 per node namespace.

It reads back exactly what the role left (BGPConfiguration, BGPPeers, Nodes with their labels
and annotations, IPPools, BlockAffinities, the password Secret) and renders each node's BIRD
configuration the way Calico's confd templates do (bird.cfg, bird_ipam.cfg, bird_aggr.cfg; and
bird6.cfg for the IPv6 BIRD, which calico-node runs beside the IPv4 one on its own socket):

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
IPV4_ANNOTATION = "projectcalico.org/IPv4Address"
IPV6_ANNOTATION = "projectcalico.org/IPv6Address"
ADDRESS = {4: "ip", 6: "ipv6"}  # node_info's key of a family's address
LABELS_ANNOTATION = "projectcalico.org/labels"


def bird_paths(run_dir, host, version=4):
    """The files of one node's BIRD of a family (calico-node runs bird and bird6)."""
    folder = os.path.join(run_dir, host, "bird" if version == 4 else "bird6")
    return {"folder": folder, "conf": os.path.join(folder, "bird.conf"), "socket": os.path.join(folder, "bird.ctl")}


def read_state(api):
    """Every Calico-relevant object of the cluster, as plain dicts."""
    from kubernetes.dynamic import DynamicClient
    dynamic = DynamicClient(api)

    def items(api_version, kind, namespace=None):
        resource = dynamic.resources.get(api_version=api_version, kind=kind)
        return [i.to_dict() for i in resource.get(namespace=namespace).items]

    configs = dict((c["metadata"]["name"], c.get("spec") or {}) for c in items(CALICO, "BGPConfiguration"))
    state = {"configs": configs, "peers": items(CALICO, "BGPPeer"),
             "pools": items(CALICO, "IPPool"), "blocks": items(CALICO, "BlockAffinity"),
             "nodes": items("v1", "Node"), "secrets": {}}
    refs = [((p.get("spec") or {}).get("password") or {}).get("secretKeyRef") for p in state["peers"]]
    refs.append((configs.get("default", {}).get("nodeMeshPassword") or {}).get("secretKeyRef"))
    for ref in refs:
        if ref and ref["name"] not in state["secrets"]:
            try:
                secret = dynamic.resources.get(api_version="v1", kind="Secret").get(name=ref["name"], namespace=NAMESPACE)
                state["secrets"][ref["name"]] = dict(secret.to_dict().get("data") or {})
            except Exception:  # a missing Secret: calico-node leaves the password out, the session fails
                state["secrets"][ref["name"]] = {}
    return state


def node_info(state):
    """{node: {ip, ipv6, labels, as, cluster_id, listen_port}} as calico-node sees its nodes: the
    BGP fields from the Node's annotations (calico-node writes its address there at start; a node
    without one has IPv4 disabled), its Calico labels under its Kubernetes ones."""
    nodes = {}
    for node in state["nodes"]:
        meta = node["metadata"]
        notes = meta.get("annotations") or {}
        labels = dict(json.loads(notes.get(LABELS_ANNOTATION) or "{}"), **(meta.get("labels") or {}))
        port = (state["configs"].get("node." + meta["name"]) or {}).get("listenPort")
        nodes[meta["name"]] = {
            "ip": (notes.get(IPV4_ANNOTATION) or "").split("/")[0],
            "ipv6": (notes.get(IPV6_ANNOTATION) or "").split("/")[0], "labels": labels,
            "as": int(notes["projectcalico.org/ASNumber"]) if notes.get("projectcalico.org/ASNumber") else None,
            "cluster_id": notes.get("projectcalico.org/RouteReflectorClusterID", ""), "listen_port": port}
    return nodes


def matches(selector, labels):
    try:
        return calico_selector.parse(selector)(labels)
    except ValueError as exc:
        print("calico-node stand-in: %s" % exc, file=sys.stderr)
        return False


def secret_value(state, ref):
    import base64
    value = state["secrets"].get(ref["name"], {}).get(ref["key"]) if ref else None
    return base64.b64decode(value).decode() if value else None


def seconds(duration):
    """A Go duration (10s, 1m30s, 2h) in whole seconds, as confd rounds it."""
    import re
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return int(round(sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)(ms|h|m|s)", str(duration)))))


def settings(state):
    """BGPConfiguration default as confd's globals: AS, listen port, the mesh and its options."""
    config = state["configs"].get("default") or {}
    restart = config.get("nodeMeshMaxRestartTime")
    return {"as": int(config.get("asNumber") or DEFAULT_AS), "listen_port": config.get("listenPort"),
            "mesh": config.get("nodeToNodeMeshEnabled", True) is not False,
            "mesh_password": secret_value(state, (config.get("nodeMeshPassword") or {}).get("secretKeyRef")),
            "mesh_restart": seconds(restart) if restart else None}


def split_peer_ip(text):
    """(ip, port) of a BGPPeer's peerIP: `ip`, `ip:port` or `[ipv6]:port`."""
    text = str(text)
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
        return host, int(port) if port else 0
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, 0


def family(ip):
    return 6 if ":" in ip else 4


def peer_keys(state, version=4):
    """confd's peerings (updatePeersV1) in one family (its peer_v4 or peer_v6 keys): ({(ip, port):
    peer} of the global peers, {node: {(ip, port): peer}} of the node-specific ones). Global BGPPeers first, then node-specific ones,
    then the reverse peerings that make selector and peerIP peerings symmetric; the first
    peering of a key wins, and a global one hides a node-specific one to the same address."""
    nodes, glob = node_info(state), settings(state)
    node_as = lambda n: nodes[n]["as"] or glob["as"]  # noqa: E731
    node_port = lambda n: nodes[n]["listen_port"] or glob["listen_port"] or 0  # noqa: E731
    names = sorted(nodes)
    selected = lambda selector: [n for n in names if matches(selector, nodes[n]["labels"])]  # noqa: E731
    global_peers, host_peers = {}, {}

    def with_ip(ip, as_number, port):
        """nodesWithIPPortAndAS: the nodes with that address and AS; a port, when given, must not
        differ from the node's own listen port nor, failing that test, from the global one."""
        as_number = as_number or glob["as"]
        found = []
        for n in names:
            if ip not in (nodes[n]["ip"], nodes[n]["ipv6"]) or node_as(n) != as_number:
                continue
            if port and nodes[n]["listen_port"] and port != nodes[n]["listen_port"]:
                continue
            if port and not (nodes[n]["listen_port"] and port != nodes[n]["listen_port"]) \
                    and glob["listen_port"] and glob["listen_port"] != port:
                continue
            found.append(n)
        return found

    def as_peers(name, spec):
        if not nodes[name][ADDRESS[version]]:
            return []
        return [{"ip": nodes[name][ADDRESS[version]], "port": node_port(name), "as": node_as(name),
                 "cluster_id": nodes[name]["cluster_id"], "ttl_security": spec.get("ttlSecurity") or 0,
                 "calico_node": False, "keep_next_hop": False, "allow_local_as": 0}]

    def common(peer, spec):
        peer.update(password=secret_value(state, (spec.get("password") or {}).get("secretKeyRef")),
                    source=spec.get("sourceAddress") or "UseNodeIP",
                    restart=seconds(spec["maxRestartTime"]) if spec.get("maxRestartTime") else None)
        return peer

    def emit(node, peer):
        key = (peer["ip"], peer["port"])
        if node is None:
            global_peers.setdefault(key, peer)
        elif key not in global_peers:
            host_peers.setdefault(node, {}).setdefault(key, peer)

    ordered = sorted(state["peers"], key=lambda p: p["metadata"]["name"])
    for global_pass in (True, False):
        for resource in ordered:
            spec = resource.get("spec") or {}
            if global_pass != (not spec.get("nodeSelector") and not spec.get("node")):
                continue
            local = selected(spec["nodeSelector"]) if spec.get("nodeSelector") else [spec["node"]] if spec.get("node") else []
            if spec.get("peerSelector"):
                peers = [common(p, spec) for n in selected(spec["peerSelector"]) for p in as_peers(n, spec)]
            else:
                ip, port = split_peer_ip(spec.get("peerIP") or "")
                if not ip or family(ip) != version:
                    continue  # the other family's BIRD peers with it
                if not port:
                    calico = with_ip(ip, spec.get("asNumber"), 0)
                    if calico:
                        port = nodes[calico[0]]["listen_port"] or glob["listen_port"] or 0
                peers = [common({"ip": ip, "port": port, "as": int(spec.get("asNumber") or 0), "cluster_id": "",
                                 "ttl_security": spec.get("ttlSecurity") or 0,
                                 "calico_node": any(ip in (n["ip"], n["ipv6"]) for n in nodes.values()),
                                 "keep_next_hop": bool(spec.get("keepOriginalNextHop")),
                                 "allow_local_as": spec.get("numAllowedLocalASNumbers") or 0}, spec)]
            for peer in peers:
                for node in [None] if global_pass else local:
                    emit(node, dict(peer))
    for resource in ordered:
        spec = resource.get("spec") or {}
        if spec.get("peerSelector"):
            local = selected(spec["peerSelector"])
        else:
            ip, port = split_peer_ip(spec.get("peerIP") or "")
            if not ip or family(ip) != version:
                continue
            local = with_ip(ip, spec.get("asNumber"), port)
        remote = (selected(spec["nodeSelector"]) if spec.get("nodeSelector") else
                  [spec["node"]] if spec.get("node") else names)
        peers = [common(p, spec) for n in remote for p in as_peers(n, spec)]
        for peer in peers:
            for node in local:
                emit(node, dict(peer))
    return global_peers, host_peers


def sessions(state, name, version=4):
    """The BGP sessions confd's bird.cfg (bird6.cfg) template gives node `name`, in its order
    (mesh, global, node-specific): [{kind, name, ip, port, as, cluster_id, passive, restart,
    password, source, ttl_security, keep_next_hop, allow_local_as}]; none when the node has no
    address of the family."""
    nodes, glob = node_info(state), settings(state)
    key = ADDRESS[version]
    me = dict(nodes[name], ip=nodes[name][key])
    if not me["ip"]:
        return []
    my_as = me["as"] or glob["as"]
    found = []
    if not me["cluster_id"] and glob["mesh"]:
        for other_name in sorted(nodes):
            other = nodes[other_name]
            if other[key] in ("", me["ip"]) or other["cluster_id"]:
                continue
            found.append({"kind": "Mesh", "ip": other[key], "port": other["listen_port"] or glob["listen_port"],
                          "as": other["as"] or glob["as"], "cluster_id": "", "passive": other[key] > me["ip"],
                          "restart": glob["mesh_restart"], "password": glob["mesh_password"], "source": "UseNodeIP",
                          "ttl_security": None, "keep_next_hop": False, "allow_local_as": 0, "rr_client": False})
    global_peers, host_peers = peer_keys(state, version)
    for kind, peers in (("Global", global_peers), ("Node", host_peers.get(name, {}))):
        for (ip, port), peer in sorted(peers.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
            if ip == me["ip"]:
                continue  # "Skipping ourselves"
            found.append(dict(peer, kind=kind, port=port or None,
                              passive=kind == "Global" and peer["calico_node"] and ip > me["ip"],
                              rr_client=peer["as"] == my_as and bool(me["cluster_id"]) and peer["cluster_id"] != me["cluster_id"]))
    for session in found:
        session["name"] = "%s_%s%s" % (session["kind"], session["ip"].replace(".", "_").replace(":", "_"),
                                        "_port_%d" % session["port"] if session["port"] and session["kind"] != "Mesh" else "")
    return found


def peerings(state, name, version=4):
    """[{kind, ip, as}] of one node's sessions (kept for the lab's own checks)."""
    return [{"kind": s["kind"], "ip": s["ip"], "as": s["as"]} for s in sessions(state, name, version)]


def blocks_of(state, name, version=4):
    return sorted(b["spec"]["cidr"] for b in state["blocks"]
                  if b["spec"].get("node") == name and b["spec"].get("state", "confirmed") == "confirmed"
                  and str(b["spec"].get("deleted", "false")) != "true" and family(b["spec"]["cidr"]) == version)


def router_id(me, name):
    """The node's IPv4 address, as in both templates; without one, an address derived from the
    node name (calico-node's CALICO_ROUTER_ID=hash)."""
    if me["ip"]:
        return me["ip"]
    import zlib
    value = zlib.crc32(name.encode()) | 0x01000000
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


def render(state, name, version=4):
    """calico-node's BIRD configuration of one family for one node, its BGP sessions as confd's
    bird.cfg (bird6.cfg) template writes them (in BIRD 2's syntax)."""
    nodes, glob = node_info(state), settings(state)
    me = nodes[name]
    channel = "ipv%d" % version
    my_as = me["as"] or glob["as"]
    blocks = blocks_of(state, name, version)
    pools = [p["spec"] for p in state["pools"] if family(p["spec"].get("cidr", "")) == version]
    out = ["# Rendered by the nodenet lab's calico-node stand-in from the cluster's Calico resources",
           "router id %s;" % router_id(me, name)]
    if not me[ADDRESS[version]]:
        # confd keeps the device, kernel and direct protocols; BIRD needs one to start
        return "\n".join(out + ["protocol device { scan time 2; }", "# IPv%d disabled on this node." % version]) + "\n"
    out += ["",
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
            "  %s { import all; export filter calico_kernel_programming; };" % channel, "}", "",
            "protocol device { scan time 2; }", "",
            'protocol direct { %s; interface -"cali*", -"kube-ipvs*", "*"; }' % channel, ""]
    if blocks:
        out += ["protocol static {", "  %s;" % channel] + ["  route %s blackhole;" % b for b in blocks] + ["}", ""]
    listen = me["listen_port"] or glob["listen_port"]
    out += ["template bgp bgp_template {", '  description "Connection to BGP peer";', "  local as %d;" % my_as]
    if listen:
        out.append("  local port %d;" % listen)
    out += ["  %s {" % channel, "    gateway recursive;", "    import all;",
            "    export filter calico_export_to_bgp_peers;", "    add paths on;", "  };",
            "  graceful restart;", "  connect delay time 1;", "  connect retry time 3;", "  error wait time 5,60;",
            "}", ""]
    if me["cluster_id"]:
        out.append("# This node is a route reflector with cluster ID %s; it ignores the node-to-node mesh." % me["cluster_id"])
    for peer in sessions(state, name, version):
        out.append("protocol bgp %s from bgp_template {" % peer["name"])
        if peer["kind"] != "Mesh":  # the mesh keeps BIRD's iBGP default (multihop, no TTL security)
            out += (["  ttl security on;", "  multihop %d;" % peer["ttl_security"]] if peer["ttl_security"]
                    else ["  ttl security off;", "  multihop;"])
        out.append("  neighbor %s%s as %d;" % (peer["ip"], " port %d" % peer["port"] if peer["port"] else "", peer["as"]))
        if peer["source"] == "UseNodeIP":
            out.append("  source address %s;" % me[ADDRESS[version]])
        if peer["passive"]:
            out.append("  passive on;")
        if peer["restart"]:
            out.append("  graceful restart time %d;" % peer["restart"])
        if peer["rr_client"]:
            out += ["  rr client;", "  rr cluster id %s;" % me["cluster_id"]]
        if peer["password"]:
            out.append('  password "%s";' % peer["password"])
        if peer["as"] != my_as and peer["keep_next_hop"]:
            out.append("  %s { next hop keep; };" % channel)  # a channel option in BIRD 2
        if peer["allow_local_as"]:
            out.append("  allow local as %d;" % peer["allow_local_as"])
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


def register(api, state, hosts):
    """What calico-node does at start: write the node's autodetected IPv4 address (the one its
    Node reports as InternalIP, with the prefix it has on the node) where the Node has none."""
    from kubernetes import client
    core = client.CoreV1Api(api)
    patched = False
    for node in state["nodes"]:
        meta = node["metadata"]
        if meta["name"] not in hosts or (meta.get("annotations") or {}).get(IPV4_ANNOTATION):
            continue
        ip = next((a["address"] for a in (node.get("status") or {}).get("addresses") or [] if a["type"] == "InternalIP"),
                  None)
        out = subprocess.run(["ip", "-n", meta["name"], "-4", "-j", "address", "show"], capture_output=True, text=True)
        found = [a for link in json.loads(out.stdout or "[]") for a in link.get("addr_info", []) if a.get("local") == ip]
        if found:
            core.patch_node(meta["name"], {"metadata": {"annotations": {
                IPV4_ANNOTATION: "%s/%d" % (ip, found[0]["prefixlen"])}}})
            patched = True
    return patched


def render_all(api, run_dir, hosts):
    """[(host, family)] whose configuration changed: IPv4's always, IPv6's where the lab runs an
    IPv6 BIRD (its folder exists)."""
    state = read_state(api)
    if register(api, state, hosts):
        state = read_state(api)
    changed = []
    for host in hosts:
        for version in (4, 6):
            paths = bird_paths(run_dir, host, version)
            if version == 6 and not os.path.isdir(paths["folder"]):
                continue
            os.makedirs(paths["folder"], mode=0o700, exist_ok=True)
            if write_config(paths["conf"], render(state, host, version)):
                changed.append((host, version))
    return changed


def run(run_dir, cluster, kubeconfig, hosts):
    from kubernetes import config
    api = config.new_client_from_config(config_file=kubeconfig)
    print("calico-node stand-in for %s: %s" % (cluster, ", ".join(hosts)), flush=True)
    while True:
        try:
            for host, version in render_all(api, run_dir, hosts):
                reconfigure(host, bird_paths(run_dir, host, version))
                print("%s: %s IPv%d reconfigured" % (time.strftime("%H:%M:%S"), host, version), flush=True)
        except Exception as exc:  # the API server is down (a test stops it): keep the last configuration
            print("%s: %s" % (time.strftime("%H:%M:%S"), exc), flush=True)
        time.sleep(0.3)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
