"""The execution environment: `ansible-builder create` accepts execution-environment.yml and writes
a build context with the project's pins, the collection's artifact installed in the galaxy stage,
and introspection of the installed collection yields meta/execution-environment.yml's dependencies.
No image is built here (no container runtime, no registry)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INSTALLED = ROOT / ".collections"


def pins():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(ROOT / "execution-environment.yml", work)
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work), str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    proc = subprocess.run([str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context"],
                          capture_output=True, text=True, cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return work / "context"


def test_the_build_context_carries_the_project_pins_and_the_artifact(context):
    containerfile = (context / "Dockerfile").read_text()
    want = pins()
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==%s ansible-runner==%s"' % (
        want["ansible-core"], want["ansible-runner"]) in containerfile
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    assert (context / "_build" / "collections" / ("nodenet-fabric-%s.tar.gz" % version)).is_file()
    # Installed in the galaxy stage, before the builder stage introspects /usr/share/ansible.
    galaxy, builder = containerfile.index("AS galaxy"), containerfile.index("AS builder")
    install = containerfile.index("ansible-galaxy collection install --no-deps -p /usr/share/ansible/collections "
                                  "collections/nodenet-fabric-*.tar.gz")
    assert galaxy < install < builder


def test_galaxy_requirements_match_the_collection_dependencies(context):
    wanted = yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]
    for path in (context / "_build" / "requirements.yml", ROOT / "collections" / "requirements.yml"):
        listed = dict((c["name"], c.get("version", "*")) for c in yaml.safe_load(path.read_text())["collections"])
        assert listed == wanted, path


def test_introspection_reads_the_collection_ee_metadata(context):
    """ansible-builder's own introspection, run on the installed artifact as the builder stage runs it."""
    proc = subprocess.run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                           str(INSTALLED)], capture_output=True, text=True, check=True)
    found = yaml.safe_load(proc.stdout)
    assert sorted(r.split()[0] for r in found["python"]) == ["kubernetes>=24.2.0", "netaddr>=1.0.0"]
    assert sorted(r.split("  #")[0] for r in found["system"]) == [
        "graphviz [platform:dpkg platform:rpm]", "openssh-client [platform:dpkg]", "openssh-clients [platform:rpm]"]
    # The controller's pins satisfy what the collection asks of an execution environment.
    assert [r for r in found["python"] if r.split(">=")[0] not in pins()] == []
