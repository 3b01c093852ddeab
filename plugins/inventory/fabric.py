# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric
short_description: Read and check the fabric model once, when the inventory is loaded
version_added: 0.2.0
description:
  - Runs after the other inventory sources, like M(ansible.builtin.constructed), and reads every
    cluster, node and facet of the inventory into the fabric model once, in the controller process,
    before any worker forks.
  - The model, with every problem it found, is set as the variable C(node_base_fabric) on the group
    C(all). The roles find it there and only check it, instead of reading C(hostvars) themselves;
    the plan filters compute each node's slice from it.
  - In AWX this is an inventory source. The model is computed once per sync over the whole inventory,
    so every job slice gets the same model.
  - Problems do not fail the inventory; they are reported as one warning, and the roles refuse to run
    with every problem listed.
  - Inventory data only, as the roles read it. Extra vars (C(-e)) and role defaults are not part of
    the model; set fabric variables in the inventory.
  - "How a run reaches each cluster's API (C(cluster_kubeconfig), C(cluster_kube_context),
    C(cluster_render_only)) and the BGP peer passwords are not part of the model either: they may
    resolve only in the job (a credential's file or extra variable, an environment lookup), so the
    run adds them. No secret and no per-job path sits in the synced inventory."
  - "Like M(ansible.builtin.constructed) it can add variables (O(compose)) and groups (O(groups),
    O(keyed_groups)) first, for example a role's group from a condition; the model is read after."
  - "In AWX, point the inventory source at the inventory folder (one source), with this file in it
    named to sort after the other files (for example C(zz-fabric.yml)): the folder's files are read
    in name order in one sync, so the plugin sees every host."
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin; the file must end in C(fabric.yml) or C(fabric.yaml).
    required: true
    choices: ['nodenet.fabric.fabric']
  group_names:
    description: "Inventory group of each facet, for example C({vxlan_mesh: my_mesh}). Unset facets use
      their own name. A play whose role asks for another group reads the model again from C(hostvars)."
    type: dict
    default: {}
  use_vars_plugins:
    description: Also read C(host_vars)/C(group_vars) folders through the vars plugins, as
      M(ansible.builtin.constructed) does.
    type: bool
    default: false
"""

EXAMPLES = r"""
# inventories/prod/zz-fabric.yml, beside hosts.yml and group_vars/, loaded after them (a folder's
# files load in name order); in AWX the inventory source points at the folder.
plugin: nodenet.fabric.fabric
use_vars_plugins: true
strict: true
keyed_groups:
  - key: cluster_name        # a group per cluster: cluster_k8s_a, ...
    prefix: cluster
groups:
  vxlan_mesh: cluster_cni in ['calico', 'flannel']

# With a renamed mesh group:
# plugin: nodenet.fabric.fabric
# group_names: {vxlan_mesh: dc1_mesh}
"""

RETURN = r"""
node_base_fabric:
  description: Set on the group C(all). The model document (JSON text) with every problem found,
    as P(nodenet.fabric.fabric_model#filter) returns it.
  type: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleParserError
from ansible.inventory.helpers import get_group_vars
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible.utils.display import Display
from ansible.utils.vars import combine_vars
from ansible.vars.plugins import get_vars_from_inventory_sources

from ansible_collections.nodenet.fabric.plugins.plugin_utils import model
from ansible_collections.nodenet.fabric.plugins.plugin_utils.fabric import ACCESS_VARIABLES
from ansible_collections.nodenet.fabric.plugins.plugin_utils.inventory import cluster_groups

display = Display()

# Loaded here, in the controller process, so that forked workers inherit them instead of each
# loading them again (measured: ~15 ms per host and task at 1,000 hosts).
FILTERS = ("fabric_model", "fabric_problems", "vxlan_mesh_node_state", "flannel_hostgw_node_state", "vxlan_mesh_ippools",
           "flannel_hostgw_configmaps", "node_failures", "cluster_steps", "cluster_checks")


class TemplatedVars(Mapping):
    """A host's inventory variables, each templated when the model reads it, as hostvars are;
    without how a run reaches the clusters' APIs, which may resolve only in the job (the run adds
    it to the model, model.with_access)."""

    def __init__(self, values, templar):
        self.values = dict((k, v) for k, v in values.items() if k not in ACCESS_VARIABLES)
        self.templar = templar

    def __getitem__(self, key):
        value = self.values[key]
        if isinstance(value, str) and self.templar.is_template(value):
            return self.templar.template(value)
        return value

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "nodenet.fabric.fabric"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("fabric.yml", "fabric.yaml"))

    def parse(self, inventory, loader, path, cache=False):
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        sources = getattr(inventory, "processed_sources", [])
        use_vars_plugins = self.get_option("use_vars_plugins")

        def vars_of(host):
            group_vars = get_group_vars(host.get_groups())
            host_vars = host.get_vars()
            if use_vars_plugins:
                group_vars = combine_vars(group_vars, get_vars_from_inventory_sources(
                    loader, sources, host.get_groups(), "all"))
                host_vars = combine_vars(host_vars, get_vars_from_inventory_sources(loader, sources, [host], "all"))
            return combine_vars(group_vars, host_vars)
        self.construct(inventory, vars_of, path)
        hostvars = dict((name, TemplatedVars(vars_of(host), self.templar)) for name, host in inventory.hosts.items())
        groups = dict((name, sorted(h.name for h in group.get_hosts())) for name, group in inventory.groups.items())

        def own_vars(group):
            if not use_vars_plugins:
                return group.get_vars()
            return combine_vars(group.get_vars(), get_vars_from_inventory_sources(loader, sources, [group], "all"))
        try:
            fabric = model.read(hostvars, groups, self.get_option("group_names"),
                                cluster_groups(inventory.groups.values(), own_vars))
        except ValueError as exc:
            raise AnsibleParserError("%s: %s" % (path, exc))
        inventory.set_variable("all", "node_base_fabric", model.dumps(fabric))
        if fabric.errors:
            display.warning("nodenet.fabric.fabric: %d problem(s) in the fabric inventory; the roles will "
                            "refuse to run until they are fixed:\n%s"
                            % (len(set(fabric.errors)), "\n".join(str(e) for e in sorted(set(fabric.errors)))))
        prime_filters()

    def construct(self, inventory, vars_of, path):
        """compose, groups and keyed_groups, as ansible.builtin.constructed applies them, before the
        model is read: a group made here (a role's, say) is part of the model."""
        strict = self.get_option("strict")
        try:
            for name, host in inventory.hosts.items():
                self._set_composite_vars(self.get_option("compose"), vars_of(host), name, strict=strict)
                variables = vars_of(host)
                self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict,
                                                  fetch_hostvars=False)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict,
                                               fetch_hostvars=False)
        except Exception as exc:
            raise AnsibleParserError("%s: %s" % (path, exc))


def prime_filters():
    try:
        from ansible.plugins.loader import filter_loader
        for name in FILTERS:
            filter_loader.get("nodenet.fabric." + name)
        filter_loader.get("ansible.builtin.combine")  # loads every builtin filter once
    except Exception as exc:  # only a speed-up: never fail the inventory for it
        display.vvv("nodenet.fabric.fabric: filters not preloaded: %s" % exc)
