"""The collection's shape: docs for every plugin, argument specs for every role,
route protocols clear of everyone else's, and a buildable artifact."""
import ast
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import files
from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.protocols import ROUTE_PROTOCOLS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PLUGINS = sorted(p for kind in ("filter", "modules", "connection", "inventory", "lookup") for p in (ROOT / "plugins" / kind).glob("*.py"))
DOC_TYPES = {"filter": "filter", "modules": "module", "connection": "connection", "inventory": "inventory", "lookup": "lookup"}


def doc_strings(path):
    tree = ast.parse(path.read_text())
    return {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name) and isinstance(node.value, ast.Constant)}


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: p.stem)
def test_plugin_documents_itself(path):
    docs = doc_strings(path)
    assert yaml.safe_load(docs["DOCUMENTATION"])["short_description"]
    if path.parent.name != "connection":
        assert yaml.safe_load(docs["EXAMPLES"]) and yaml.safe_load(docs["RETURN"])
    kind = DOC_TYPES[path.parent.name]
    proc = subprocess.run([str(BIN / "ansible-doc"), "-t", kind, "nodenet.fabric." + path.stem],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "nodenet.fabric." + path.stem in proc.stdout, proc.stderr


@pytest.mark.parametrize("role", sorted(p.name for p in (ROOT / "roles").iterdir()))
def test_role_has_argument_specs_and_readme(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    assert specs["argument_specs"]
    assert (ROOT / "roles" / role / "README.md").exists()


def test_route_protocols_are_clear_of_every_known_one():
    reserved = {2, 3, 4, 11, 12, 80} | set(range(186, 193))
    table = Path("/etc/iproute2/rt_protos")
    if table.exists():
        for line in table.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                reserved.add(int(line.split()[0], 0))
    assert not set(ROUTE_PROTOCOLS.values()) & reserved
    assert len(set(ROUTE_PROTOCOLS.values())) == len(ROUTE_PROTOCOLS)
    assert "201\tnodenet_mesh" in files.rt_protos_text().decode()


def test_version_lives_only_in_galaxy_yml():
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    pattern = re.compile(r"(?<![\d.])%s(?![\d.])" % re.escape(version))
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    hits = []
    for name in tracked:
        path = ROOT / name
        # The changelog and the table of renamed variables record past releases.
        if name in HISTORY or name.startswith("changelogs/") or path.is_symlink() or not path.is_file() or name.endswith(("go.sum", "go.mod")):
            continue
        for line in path.read_text(errors="replace").splitlines():
            if pattern.search(line) and "version_added" not in line:
                hits.append("%s: %s" % (name, line.strip()))
    assert hits == []


HISTORY = ("galaxy.yml", "CHANGELOG.rst", "plugins/plugin_utils/variables.py")


def test_collection_builds(tmp_path):
    proc = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    artifact = next(tmp_path.glob("nodenet-fabric-*.tar.gz"))
    names = tarfile.open(artifact).getnames()
    assert "plugins/modules/reconcile.py" in names and "roles/vxlan_mesh/tasks/main.yml" in names
    assert "plugins/inventory/fabric.py" in names
    # What ships: the changelog, the license, the sanity ignore file (empty), the EE metadata.
    for shipped in ("LICENSE", "CHANGELOG.rst", "changelogs/changelog.yaml", "meta/runtime.yml",
                    "tests/sanity/ignore-2.19.txt", "README.md", "playbooks/site.yml",
                    "meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-bindep.txt"):
        assert shipped in names
    # What does not: the lab, its inventories, the molecule scenarios, tests that need the lab, the
    # developer pins and config (an execution-environment build would pick up requirements.txt).
    developer = (".", "tools", "inventories", "molecule", "tests/unit", "tests/integration", "manifests",
                 "ansible.cfg", "Makefile", "requirements.txt", "changelogs/fragments", "execution-environment.yml")
    assert [n for n in names if n.startswith(developer) or "/." in n] == []


def test_the_readme_quick_start_inventory_is_a_valid_fabric(tmp_path):
    """The real-node quick start works as written: its inventory skeleton reads without a problem."""
    from helpers import inventory_of
    from ansible_collections.nodenet.fabric.plugins.plugin_utils import model

    text = (ROOT / "README.md").read_text()
    body = text.split("cat > inventories/prod/hosts.yml <<'YAML'\n", 1)[1].split("   YAML\n", 1)[0]
    (tmp_path / "hosts.yml").write_text("\n".join(line[3:] for line in body.splitlines()) + "\n")
    fabric = model.read(*inventory_of(str(tmp_path)))
    assert [str(e) for e in fabric.problems()] == [] and len(fabric.nodes) == 4
    assert model.access_problems(fabric, ["vxlan_mesh"]) == []


def test_every_renamed_filter_redirects_to_one_named_after_its_role_or_facet():
    routing = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["plugin_routing"]["filter"]
    stems = ("vxlan_mesh_", "flannel_hostgw_", "calico_bgp_rr_", "kube_router_install_", "tor_")
    assert len(routing) >= 11
    for old, route in routing.items():
        new = route["redirect"].rpartition(".")[2]
        assert (ROOT / "plugins" / "filter" / (new + ".py")).is_file() and new.startswith(stems), old
        assert not (ROOT / "plugins" / "filter" / (old + ".py")).exists() and route["deprecation"]["removal_version"]
