"""Shared helpers for unit tests: the seed inventory and captured kernel dumps."""
import json
import subprocess
import sys
from pathlib import Path

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile import kernel
from ansible_collections.nodenet.fabric.plugins.plugin_utils.inventory import from_inventory_list

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def calico_crd(plural):
    """Calico's CRD of one kind (e.g. ippools), from the pinned calico module in Go's module cache."""
    import yaml
    sys.path.insert(0, str(ROOT / "tools"))
    from nnlab import calico_module
    return yaml.safe_load(Path(calico_module.crd_path(plural)).read_text())


def inventory_of(path):
    """(hostvars, groups) exactly as `ansible-inventory` merges them."""
    exe = Path(sys.executable).parent / "ansible-inventory"
    out = subprocess.run([str(exe), "-i", str(ROOT / path), "--list"], check=True,
                         capture_output=True, text=True).stdout
    return from_inventory_list(json.loads(out))


def captured_dumps(name):
    """The raw JSON a node printed: [addresses, neighbors, routes] and the vxlan-test FDB."""
    addr, neigh, route = kernel.json_stream((FIXTURES / ("%s-ip.json" % name)).read_text())
    fdb = json.loads((FIXTURES / ("%s-fdb.json" % name)).read_text())
    return addr, neigh, route, fdb


def read_model(inventory, change=None):
    """The model of (hostvars, groups) after change(hostvars, groups) on a copy."""
    import copy
    from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
    hostvars, groups = copy.deepcopy(inventory)
    if change:
        change(hostvars, groups)
    return model.read(hostvars, groups)


def set_on_group(group, **values):
    """A change setting `values` on every host of `group`."""
    import copy

    def change(hostvars, groups):
        for host in groups[group]:
            hostvars[host].update(copy.deepcopy(values))
    return change


def problem_lines(fabric):
    return [str(e) for e in fabric.problems()]


def unnamed(found, expected):
    """The expected texts no problem line contains (every problem is reported at once)."""
    return [text for text in expected if not [line for line in found if text in line]]
