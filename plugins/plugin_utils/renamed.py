"""Variables a release renamed. An old name left in an inventory would be ignored silently (an old
`kube_router_state: absent` would install instead of rolling back), so the model refuses it."""

from __future__ import annotations

from .errors import FabricError

# old name: (release, new name). 0.6.0: ansible-lint's role-prefix rule (var-naming[no-role-prefix]).
RENAMED = {
    "nodenet_root": ("0.6.0", "node_base_root"),
    "nodenet_systemd": ("0.6.0", "node_base_systemd"),
    "nodenet_state_dir": ("0.6.0", "node_base_state_dir"),
    "nodenet_tool_dir": ("0.6.0", "node_base_tool_dir"),
    "nodenet_manifest_dir": ("0.6.0", "node_base_manifest_dir"),
    "nodenet_manifest_force": ("0.6.0", "node_base_manifest_force"),
    "nodenet_manifest_secret": ("0.6.0", "node_base_manifest_secret"),
    "nodenet_manifest_field_manager": ("0.6.0", "node_base_manifest_field_manager"),
    "nodenet_facets": ("0.6.0", "node_base_facets"),
    "nodenet_fabric_groups": ("0.6.0", "node_base_fabric_groups"),
    "nodenet_persist": ("0.6.0", "node_base_persist"),
    "nodenet_preflight": ("0.6.0", "node_base_preflight"),
    "nodenet_persist_args": ("0.6.0", "node_base_persist_args"),
    "kube_router_state": ("0.6.0", "kube_router_install_state"),
    "kube_router_wait": ("0.6.0", "kube_router_install_wait"),
    "kube_router_gobgp": ("0.6.0", "kube_router_install_gobgp"),
    "kube_router_kube_proxy_backup": ("0.6.0", "kube_router_install_kube_proxy_backup"),
}


def renamed_problems(host, values, cluster):
    """A FabricError for each renamed variable `values` (a host's variables) still sets."""
    return [FabricError(cluster, host, old, "was renamed in %s: set %s instead" % RENAMED[old])
            for old in sorted(RENAMED) if old in values]
