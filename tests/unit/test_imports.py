"""No import cycle in plugins/: every import between the collection's own modules (relative or
absolute, at module level or inside a function) is an edge, and the graph has no cycle."""
import ast
import os

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "plugins")
PREFIX = "ansible_collections.nodenet.fabric.plugins"


def modules(root):
    found = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
                found[dotted[:-len(".__init__")] if dotted.endswith(".__init__") else dotted] = path
    return found


def imports(dotted, path, known):
    package = dotted.split(".") if path.endswith("__init__.py") else dotted.split(".")[:-1]
    edges = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[:len(package) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        elif node.module and node.module.startswith(PREFIX + "."):
            target = node.module[len(PREFIX) + 1:]
        else:
            continue
        submodules = ["%s.%s" % (target, a.name) for a in node.names if "%s.%s" % (target, a.name) in known]
        edges.update(submodules)
        if target in known and len(submodules) < len(node.names):  # a name of the module itself
            edges.add(target)
    return edges - {dotted}


def cycles(graph):
    found = set()

    def walk(node, path):
        for nxt in graph[node]:
            if nxt in path:
                cycle = path[path.index(nxt):]
                first = cycle.index(min(cycle))
                found.add(tuple(cycle[first:] + cycle[:first]))
            elif len(path) < 40:
                walk(nxt, path + [nxt])
    for node in graph:
        walk(node, [node])
    return sorted(found)


def graph_of(root):
    known = modules(root)
    return dict((m, imports(m, p, known)) for m, p in known.items())


def test_no_import_cycle_in_plugins():
    assert cycles(graph_of(PLUGINS)) == []


def test_the_check_finds_a_cycle(tmp_path):
    utils = tmp_path / "plugin_utils"
    utils.mkdir()
    (utils / "a.py").write_text("def f():\n    from . import b\n")
    (utils / "b.py").write_text("from .a import f\n")
    (utils / "c.py").write_text("from %s.plugin_utils import a\n" % PREFIX)
    assert cycles(graph_of(str(tmp_path))) == [("plugin_utils.a", "plugin_utils.b")]


FACET_PACKAGES = ("vxlan_mesh", "flannel_hostgw", "calico_bgp_rr", "kube_router_install", "tor")


def facet_of(module):
    parts = module.split(".")
    return parts[1] if parts[0] == "plugin_utils" and len(parts) > 2 and parts[1] in FACET_PACKAGES else None


def test_a_facet_package_reads_no_other_facet_and_the_tor_facet_reads_both_bgp_facets():
    graph = graph_of(PLUGINS)
    crossing = sorted((m, d) for m, deps in graph.items() for d in deps
                      if facet_of(m) and facet_of(d) and facet_of(m) != facet_of(d) and facet_of(m) != "tor")
    assert crossing == []
    assert {"plugin_utils.calico_bgp_rr.model", "plugin_utils.kube_router_install.model"} <= graph["plugin_utils.tor.model"]


def test_plugin_utils_holds_at_most_a_dozen_shared_files_beside_the_facet_packages():
    shared = sorted(n for n in os.listdir(os.path.join(PLUGINS, "plugin_utils"))
                    if n.endswith(".py") and n != "__init__.py")
    assert len(shared) <= 12, shared
