"""The facet registry: every facet package gives the interface registry.py names, and what the
collection lists per role (site.yml's playbooks, the AWX job templates, the role-variable checks,
the report's rows) is the registry's."""
from pathlib import Path

import yaml

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model, registry, report, variables

ROOT = Path(__file__).resolve().parents[2]
MODEL = ("VARIABLES", "check", "prepare", "PREFIXES", "STATE", "SECRETS", "REPORT_ROWS", "ORDER")


def test_every_facet_gives_the_interface():
    assert [f.NAME for f in registry.FACETS] == ["vxlan_mesh", "flannel_hostgw", "calico_bgp_rr",
                                                 "kube_router_install", None]
    for facet in registry.FACETS:
        missing = [a for a in MODEL if not hasattr(facet, a)]
        if facet.NAME:
            missing += [a for a in ("SETTINGS", "read", "api_clusters", "node_plan", "cluster_steps")
                        if not hasattr(facet, a)]
        else:
            missing += [a for a in ("EXTRA_READERS", "EXTRA_SETTINGS", "GROUPS") if not hasattr(facet, a)]
        assert missing == [], facet.__name__
        assert set(facet.REPORT_ROWS) == ({facet.NAME} if facet.NAME else set(facet.GROUPS))


def test_site_yml_runs_each_role_of_the_registry_in_its_order_and_each_role_is_complete():
    site = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text())
    imported = [p["ansible.builtin.import_playbook"] for p in site]
    assert imported == ["validate.yml"] + ["%s.yml" % name for name in registry.ROLE_NAMES]
    for name in registry.ROLE_NAMES:
        assert (ROOT / "roles" / name / "meta" / "argument_specs.yml").is_file()
        assert (ROOT / "docs" / "roles" / ("%s.md" % name)).is_file()


def test_the_model_the_checks_and_the_report_read_the_facets_from_the_registry():
    assert model.FACET_NAMES == registry.ROLE_NAMES
    assert set(model.EXTRA_READERS) == {"bgp_routers", "bgp_clients"}
    assert [p[0] for p in variables.PREFIXES] == ["vxlan_mesh_", "flannel_hostgw_", "calico_bgp_", "kube_router_",
                                                  "bgp_router_", "bgp_client_"]
    assert variables.STATES == (("vxlan_mesh", "vxlan_mesh_state"), ("flannel_hostgw", "flannel_hostgw_state"),
                                ("kube_router_install", "kube_router_install_state"))
    assert report.ROLE_NAMES == registry.ROLE_NAMES


def test_the_awx_job_templates_are_one_per_role_of_the_registry():
    from ansible_collections.nodenet.fabric.plugins.lookup.fabric_roles import LookupModule
    assert LookupModule().run([]) == list(registry.ROLE_NAMES)
    play = yaml.safe_load((ROOT / "playbooks" / "awx" / "job_templates.yml").read_text())[0]
    assert "nodenet.fabric.fabric_roles" in play["vars"]["nodenet_awx_roles"]


def test_the_lab_names_no_facet_and_finds_each_facets_hooks_through_the_registry():
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "tools"))
    from nnlab import facets
    lab = (root / "tools" / "lab").read_text()
    names = [f.__name__.rpartition(".")[2] for f in registry.FACETS]
    import re
    assert [n for n in names if re.search(r"\b%s\b" % n, lab)] == []  # its per-facet code is in nnlab/facets
    found = [m.__name__.rpartition(".")[2] for m in facets.hooks()]
    assert found == [n for n in names if (root / "tools" / "nnlab" / "facets" / (n + ".py")).exists()]
    hooks = ("provides", "programs", "replaced_cni", "needs_api", "start", "overlay", "status")
    for module in facets.hooks():
        public = [n for n in vars(module) if callable(getattr(module, n)) and not n.startswith("_")
                  and getattr(getattr(module, n), "__module__", "") == module.__name__]
        assert set(public) & set(hooks), module.__name__
