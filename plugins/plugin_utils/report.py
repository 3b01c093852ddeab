"""The fabric report: what each host of the inventory will get, drawn and tabled for people.

- host_plans(): per host, per role, the ARP and FDB entries, routes and BGP sessions it will get;
- dot(): the topology as Graphviz DOT (clusters, nodes, underlay subnets, the vxlan mesh, BGP
  sessions, ToR routers and clients), each node and cluster with an SVG id (node-<host>,
  cluster-<name>) that a test or a stylesheet can find;
- check_changes(): what a --check run (the ansible.posix.json callback's document) would change;
- html(): one self-contained page (inline SVG and CSS, no script, nothing fetched).
No secret is read: routers' neighbors come from router_state without their password files.
"""

from __future__ import annotations

import html as html_escape

from .calico_bgp_rr import model as bgp
from .fabric import listed
from .calico_bgp_rr import plan as bgp_sessions
from .kube_router_install import model as kube_router
from .kube_router_install import plan as kube_router_plan
from .vxlan_mesh import model as mesh
from .registry import FACETS, ROLE_NAMES
from .tor import model as tor
PALETTE = {"node": "#e8f0fb", "subnet": "#f4f4f4", "mesh": "#fdf1dc", "router": "#e8f6e8", "client": "#f7e8f6"}


def host_plans(fabric):
    """{host: [{role, arp, fdb, routes, sessions} or {role, error}]} for every host a role runs on.
    A role with problems in the inventory is not planned (its problems are in the report)."""
    plans = {}
    planners = [(name, rows) for facet in FACETS for name, rows in facet.REPORT_ROWS.items()]
    blocked = set(name for name, _planner in planners if fabric.problems([name]))
    for name, planner in planners:
        for host in sorted(fabric.facets.get(name, {})):
            if name in blocked:
                row = {"error": "not planned: the inventory has problems for %s" % name}
            else:
                try:
                    row = planner(fabric, host)
                except (KeyError, ValueError) as exc:
                    row = {"error": "not planned: %s" % exc}
            plans.setdefault(host, []).append(dict(row, role=name))
    return plans


# --- the drawing ------------------------------------------------------------------------

def _q(text):
    return '"%s"' % str(text).replace("\\", "\\\\").replace('"', '\\"')


def _attrs(**attrs):
    return "[%s]" % ", ".join("%s=%s" % (k, _q(v)) for k, v in sorted(attrs.items()))


def dot(fabric):
    """The topology as Graphviz DOT text."""
    graph = _attrs(rankdir="LR", fontname="Helvetica", fontsize="11", id="fabric", nodesep="0.3", ranksep="0.9")
    lines = ['graph fabric {', '  graph %s;' % graph,
             '  node %s;' % _attrs(shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10",
                                   fillcolor=PALETTE["node"]),
             '  edge %s;' % _attrs(fontname="Helvetica", fontsize="9", color="#777777")]
    for name, cluster in sorted(fabric.clusters.items()):
        lines.append('  subgraph %s {' % _q("cluster_" + name))
        lines.append('    graph %s;' % _attrs(id="cluster-" + name, label="%s\n%s, pods %s" % (
            name, cluster.cni, listed(cluster.pod_cidrs)), style="rounded", color="#4a78b5"))
        for node in fabric.cluster_nodes(name):
            lines.append('    %s %s;' % (_q(node.host), _attrs(id="node-" + node.host, label="%s\n%s\npods %s" % (
                node.host, listed(node.ips), ", ".join(node.pod_cidrs)))))
        lines.append('  }')
    subnets = sorted(set(s for n in fabric.nodes.values() for s in n.subnets))
    for subnet in subnets:
        attrs = _attrs(id="subnet-" + subnet, label="underlay\n" + subnet, shape="ellipse", fillcolor=PALETTE["subnet"])
        lines.append('  %s %s;' % (_q("subnet " + subnet), attrs))
    for node in sorted(fabric.nodes.values(), key=lambda n: n.host):
        for subnet in node.subnets:
            lines.append('  %s -- %s %s;' % (_q(node.host), _q("subnet " + subnet), _attrs(color="#bbbbbb")))
    lines += _mesh_lines(fabric) + _bgp_lines(fabric)
    lines.append('}')
    return "\n".join(lines) + "\n"


def _mesh_lines(fabric):
    lines = []
    members = fabric.facet_nodes(mesh.NAME)
    if members:
        settings = fabric.settings(mesh.NAME, members[0].host)
        hub = "vxlan mesh " + settings.device
        lines.append('  %s %s;' % (_q(hub), _attrs(id="mesh-" + settings.device, shape="hexagon", fillcolor=PALETTE["mesh"],
                                                   label="vxlan mesh %s\nVNI %s, port %s" % (
                                                       settings.device, settings.vni, settings.port))))
        for node in members:
            lines.append('  %s -- %s %s;' % (_q(node.host), _q(hub), _attrs(color="#d08a00", label=listed(
                fabric.settings(mesh.NAME, node.host).ips))))
    return lines


def _bgp_lines(fabric):
    """One edge per BGP session (drawn once), a hub per cluster for a full node-to-node mesh."""
    lines, seen = [], set()
    by_ip = dict((ip, n.host) for n in fabric.nodes.values() for ip in n.ips)
    routers = fabric.facets.get(tor.ROUTERS, {})
    router_by_ip = dict((ip, host) for host, r in routers.items() for ip in r.ips)
    for host, router in sorted(routers.items()):
        lines.append('  %s %s;' % (_q(host), _attrs(id="router-" + host, shape="box3d", fillcolor=PALETTE["router"],
                                                    label="%s\nToR %s, AS %s" % (host, ", ".join(router.ips), router.as_number))))
    for host, client in sorted(fabric.facets.get(tor.CLIENTS, {}).items()):
        lines.append('  %s %s;' % (_q(host), _attrs(id="client-" + host, shape="note", fillcolor=PALETTE["client"],
                                                    label="%s\nclient %s" % (host, ", ".join(client.ips)))))
        lines.append('  %s -- %s %s;' % (_q(host), _q(client.router), _attrs(label="static route", style="dashed")))
    sessions = []
    for host in sorted(fabric.facets.get(bgp.NAME, {})):
        if not fabric.problems([bgp.NAME]):
            sessions += [(host, s["ip"], s["type"] == bgp_sessions.MESH) for s in bgp_sessions.expected(fabric, host)]
    for host in sorted(fabric.facets.get(kube_router.NAME, {})):
        if not fabric.problems([kube_router.NAME]):
            sessions += [(host, p["ip"], False) for p in kube_router_plan.expected_peers(fabric, host)]
    meshed = set()
    for host, ip, full_mesh in sessions:
        other = by_ip.get(ip) or router_by_ip.get(ip)
        if full_mesh:
            meshed.add(fabric.nodes[host].cluster)
            continue
        if other is None:
            other = "peer " + ip
            if other not in seen:
                seen.add(other)
                lines.append('  %s %s;' % (_q(other), _attrs(shape="box3d", fillcolor=PALETTE["router"], label=other)))
        pair = tuple(sorted((host, other)))
        if pair not in seen:
            seen.add(pair)
            attrs = _attrs(color="#2e8b57", penwidth="1.6", label="BGP")
            lines.append('  %s -- %s %s;' % (_q(pair[0]), _q(pair[1]), attrs))
    for cluster in sorted(meshed):
        hub = "BGP mesh " + cluster
        lines.append('  %s %s;' % (_q(hub), _attrs(shape="circle", fillcolor=PALETTE["router"], label="BGP\nfull mesh")))
        for node in fabric.cluster_nodes(cluster):
            if node.host in fabric.facets.get(bgp.NAME, {}) or node.host in fabric.facets.get(kube_router.NAME, {}):
                lines.append('  %s -- %s %s;' % (_q(node.host), _q(hub), _attrs(color="#2e8b57", style="dotted")))
    return lines


# --- what a --check run would change ------------------------------------------------------

CHANGE_KEYS = ("changes", "steps", "commands")


def check_changes(document):
    """{host: [{task, lines}]} of every changed task result in an ansible.posix.json callback
    document (a --check run), loop items included; a node_steps result gives one entry per
    step that would change ("task: step")."""
    found = {}
    for play in (document or {}).get("plays", []):
        for task in play.get("tasks", []):
            name = task.get("task", {}).get("name", "")
            for host, result in sorted(task.get("hosts", {}).items()):
                for item in result.get("results") or [result]:
                    if item.get("changed"):
                        found.setdefault(host, []).extend(changed_parts(name, item))
    return found


def changed_parts(name, item):
    steps = item.get("steps")
    if isinstance(steps, dict) and steps and all(isinstance(s, dict) for s in steps.values()):
        return [{"task": "%s: %s" % (name, key), "lines": change_lines(step)}
                for key, step in steps.items() if step.get("changed")]
    return [{"task": name, "lines": change_lines(item)}]


def change_lines(item):
    for key in CHANGE_KEYS:
        value = item.get(key)
        if isinstance(value, dict):
            value = [line for part in value.values() for line in (part or [])]
        if value:
            return [str(v) for v in value]
    return []


# --- the page -----------------------------------------------------------------------------

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.summary{color:#555}.ok{background:#e6f4ea;border:1px solid #9ccaa9;padding:8px 12px;border-radius:6px}
.bad{background:#fdecea;border:1px solid #e3a19a;padding:8px 12px;border-radius:6px}
.topology{overflow:auto;border:1px solid #ddd;border-radius:6px;padding:8px}.topology svg{max-width:100%;height:auto}
table{border-collapse:collapse;margin:6px 0 16px;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f4f6f8}td.n{text-align:right}code,pre{font-size:12px}
pre{margin:0;white-space:pre-wrap}.none{color:#888}.change{color:#9a3412}
"""


def _e(text):
    return html_escape.escape(str(text), quote=True)


def html(fabric, svg, checks=None, title="nodenet.fabric"):
    """The whole report as one HTML document."""
    problems = [str(p) for p in fabric.problems()]
    plans = host_plans(fabric)
    changes = check_changes(checks) if checks else None
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<title>%s fabric report</title><style>%s</style></head><body>' % (_e(title), STYLE),
           '<h1>%s fabric report</h1>' % _e(title),
           '<p class="summary">%d cluster(s), %d node(s), %d underlay subnet(s); roles: %s</p>' % (
               len(fabric.clusters), len(fabric.nodes), len(set(s for n in fabric.nodes.values() for s in n.subnets)),
               ", ".join("%s (%d)" % (r, len(fabric.facets.get(r, {}))) for r in ROLE_NAMES
                         if fabric.facets.get(r)) or "none")]
    out.append('<h2>Validation</h2>')
    if problems:
        out.append('<div class="bad" id="validation"><strong>%d problem(s)</strong>; no role changes a node until '
                   'they are fixed:<ul>%s</ul></div>' % (len(problems), "".join("<li>%s</li>" % _e(p) for p in problems)))
    else:
        out.append('<div class="ok" id="validation">Valid: every cluster, node and role variable checks out.</div>')
    out.append('<h2>Topology</h2><div class="topology">%s</div>' % _svg_body(svg))
    out.append('<h2>What each host gets</h2>')
    if changes is not None:
        out.append('<p class="summary">With the changes a <code>--check</code> run reported against the live '
                   'kernel: %d host(s) would change.</p>' % len(changes))
    for host in sorted(set(plans) | set(changes or {})):
        out.append(_host_section(fabric, host, plans.get(host, []), None if changes is None else changes.get(host, [])))
    out.append('</body></html>\n')
    return "\n".join(out)


def _svg_body(svg):
    """The SVG element of Graphviz's output, without its XML prolog and doctype."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else '<p class="none">no drawing</p>'


def _host_section(fabric, host, rows, changes):
    node = fabric.nodes.get(host)
    where = (" &middot; cluster %s, %s on %s" % (_e(node.cluster), _e(listed(node.ips)), _e(node.interface))
             if node else "")
    out = ['<section class="host" id="host-%s"><h3>%s%s</h3>' % (_e(host), _e(host), where)]
    if rows:
        out.append('<table><tr><th>role</th><th>ARP</th><th>FDB</th><th>routes</th><th>BGP sessions</th>'
                   '<th>routes and sessions</th></tr>')
        for row in rows:
            if "error" in row:
                out.append('<tr><td>%s</td><td colspan="5" class="none">%s</td></tr>' % (_e(row["role"]), _e(row["error"])))
                continue
            detail = "\n".join(row["routes"] + ["BGP " + s for s in row["sessions"]]) or "-"
            out.append('<tr><td>%s</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td>'
                       '<td class="n">%d</td><td><pre>%s</pre></td></tr>' % (
                           _e(row["role"]), row["arp"], row["fdb"], len(row["routes"]), len(row["sessions"]),
                           _e(detail)))
        out.append('</table>')
    if changes is not None:
        if changes:
            out.append('<table class="changes"><tr><th>would change (check mode)</th><th>what</th></tr>%s</table>' % "".join(
                '<tr><td>%s</td><td class="change"><pre>%s</pre></td></tr>' % (
                    _e(c["task"]), _e("\n".join(c["lines"]) or "changed")) for c in changes))
        else:
            out.append('<p class="none">No change against the live state.</p>')
    out.append('</section>')
    return "".join(out)
