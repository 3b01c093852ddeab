"""The fabric report, as a user makes it (`make report` runs playbooks/report.yml), opened in
Debian's headless chromium: the page renders, its SVG has one laid-out element per node and per
cluster, validation problems are listed, no secret is in it. Screenshots are kept in
tests/output/report/."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model, report
from headless import Chromium
from helpers import inventory_of

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "tests" / "output" / "report"

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(tmp_path_factory.mktemp("chromium"))
    yield chromium
    chromium.close()


def make_report(inventory, out, *extra):
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", inventory, "playbooks/report.yml",
                           "-e", "nodenet_report_file=%s" % out] + list(extra), capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return out.read_text()


LAID_OUT = """(() => {
  const box = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const ids = sel => [...document.querySelectorAll(sel)].filter(box).map(e => e.id).sort();
  return {nodes: ids('svg g.node[id^="node-"]'), clusters: ids('svg g.cluster[id^="cluster-"]'),
          hosts: ids('section.host'), title: document.title,
          validation: document.getElementById('validation').className,
          problems: document.querySelectorAll('#validation li').length,
          svg: document.querySelector('.topology svg').getBoundingClientRect().width};
})()"""


@pytest.mark.parametrize("inventory", ["inventories/seed", "inventories/kube-router-tor", "inventories/calico-rr",
                                       "inventories/flannel-two-subnets"])
def test_the_report_renders_one_svg_element_per_node_and_cluster(browser, tmp_path, inventory):
    name = Path(inventory).name
    page = make_report(inventory, tmp_path / ("%s.html" % name))
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    browser.open((tmp_path / ("%s.html" % name)).as_uri())
    seen = browser.evaluate(LAID_OUT)
    fabric = model.read(*inventory_of(inventory))
    assert seen["nodes"] == sorted("node-" + h for h in fabric.nodes)
    assert seen["clusters"] == sorted("cluster-" + c for c in fabric.clusters)
    assert seen["hosts"] == sorted("host-" + h for h in report.host_plans(fabric))
    assert seen["title"] == "%s fabric report" % name and seen["svg"] > 100
    problems = [str(p) for p in fabric.problems()]
    assert (seen["validation"], seen["problems"]) == (("bad", len(problems)) if problems else ("ok", 0))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(ARTIFACTS / ("%s.png" % name))
    assert (ARTIFACTS / ("%s.png" % name)).stat().st_size > 20000


def test_a_bad_inventory_is_reported_not_raised_and_no_password_is_in_the_page(browser, tmp_path):
    inv = tmp_path / "bad"
    shutil.copytree(ROOT / "inventories" / "kube-router-tor", inv)
    hosts = inv / "hosts.yml"
    hosts.write_text(hosts.read_text().replace("node_ip: 172.26.6.2,", "node_ip: 172.26.6.1,", 1))
    page = make_report(str(inv), tmp_path / "bad.html")
    browser.open((tmp_path / "bad.html").as_uri())
    seen = browser.evaluate(LAID_OUT)
    assert seen["validation"] == "bad" and seen["problems"] >= 1
    assert "172.26.6.1" in browser.evaluate("document.getElementById('validation').innerText")
    for secret in (inv / "secrets").glob("*") if (inv / "secrets").is_dir() else []:
        assert secret.read_text().strip() not in page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(ARTIFACTS / "bad-inventory.png")


def test_check_results_show_what_would_change_per_host():
    """The ansible.posix.json callback's shape: a changed reconcile result lists its changes; an
    unchanged one and another host's unchanged loop items list nothing."""
    document = {"plays": [{"tasks": [
        {"task": {"name": "Reconcile the node (vxlan-mesh)"},
         "hosts": {"n1": {"changed": True, "changes": ["add route 10.1.0.0/24 via 1.1.1.2"]},
                   "n2": {"changed": False, "changes": []}}},
        {"task": {"name": "Clean up"},
         "hosts": {"n2": {"changed": False, "results": [{"changed": False}, {"changed": False}]},
                   "n1": {"changed": True, "results": [{"changed": True, "commands": {"ip": ["link del x"]}}]}}}]}]}
    assert report.check_changes(document) == {"n1": [
        {"task": "Reconcile the node (vxlan-mesh)", "lines": ["add route 10.1.0.0/24 via 1.1.1.2"]},
        {"task": "Clean up", "lines": ["link del x"]}]}


def test_a_node_steps_result_shows_each_step_that_would_change():
    document = {"plays": [{"tasks": [
        {"task": {"name": "This host's node steps (start)"},
         "hosts": {"n1": {"changed": True, "module_runs": 2, "steps": {
             "vxlan-mesh": {"changed": True, "changes": ["add device vxlan-test"], "in_sync": False},
             "boot_unit": {"changed": False}}},
                   "n2": {"changed": False, "steps": {"vxlan-mesh": {"changed": False}}}}}]}]}
    assert report.check_changes(document) == {"n1": [
        {"task": "This host's node steps (start): vxlan-mesh", "lines": ["add device vxlan-test"]}]}


def test_a_dual_stack_node_is_drawn_with_each_family():
    fabric = model.load(*inventory_of("inventories/dual-stack"))
    dot = report.dot(fabric)
    assert 'label="east-1\n10.20.1.11,fd00:20:1::11\npods 10.70.1.0/24, fd70:0:0:1::/122"' in dot
    assert '"east-1" -- "subnet fd00:20:1::/64"' in dot and '"south-1" -- "subnet fd00:20:3::/64"' in dot
    assert 'label="fd17:31::31"' in dot and 'label="172.31.1.11,fd17:31::11"' in dot  # the mesh's addresses
