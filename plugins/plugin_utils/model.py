# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fabric model, read once per run: inventory -> Fabric (every facet) -> one JSON document.

- read(): every cluster, node and facet of the inventory; problems are collected, never raised.
- load(): read() that raises FabricInvalid with every problem of the core and the given facets.
- dumps()/loads(): the document that travels through Ansible as one string (``node_base_fabric``).
  Ansible copies one string per host cheaply, while it walks every value of a nested structure;
  loads() keeps the typed model per digest, so a model loaded in the controller process (by the
  nodenet.fabric.fabric inventory plugin) is inherited, already typed, by every forked worker.

A facet is a module with NAME (also its default inventory group), VARIABLES (defaults),
SETTINGS (its per-node dataclass), read(reader, node_mtu), check(fabric) and prepare(fabric),
which computes once per loaded model what every node's plan shares.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

from . import fabric as core
from .errors import FabricError, FabricInvalid
from .reader import VarReader
from .registry import FACETS as ALL_FACETS
from .variables import misplaced_problems, renamed_problems, state_problems

# The facets of nodes (each with a role and a group), and the hosts around the clusters that a
# facet reads from groups of their own (routers, clients), never nodes.
FACETS = tuple(f for f in ALL_FACETS if f.NAME)
FACET_NAMES = tuple(f.NAME for f in FACETS)
EXTRA_READERS = dict((group, reader) for f in ALL_FACETS for group, reader in getattr(f, "EXTRA_READERS", {}).items())
GROUP_NAMES = FACET_NAMES + tuple(EXTRA_READERS)
DEFAULTS = dict(core.VARIABLES)
for _facet in ALL_FACETS:
    DEFAULTS.update(_facet.VARIABLES)
SETTINGS = dict((f.NAME, f.SETTINGS) for f in FACETS)
for _facet in ALL_FACETS:
    SETTINGS.update(getattr(_facet, "EXTRA_SETTINGS", {}))

FORMAT = 3  # 2: clusters carry their API access (context, render_only); 3: addresses per family
HEADER = re.compile(r'^\{"nodenet_fabric":(\d+),"digest":"([0-9a-f]+)",')
_LOADED = {}  # digest -> Fabric
_LOADED_MAX = 8


def group_names(names=None):
    """{facet: inventory group} with the defaults filled in; unknown facets are refused."""
    names = dict(names or {})
    unknown = sorted(set(names) - set(GROUP_NAMES))
    if unknown:
        raise ValueError("unknown facet(s) %s; the facets are %s" % (", ".join(unknown), ", ".join(GROUP_NAMES)))
    return dict((f, str(names.get(f) or f)) for f in GROUP_NAMES)


def read(hostvars, groups, names=None, cluster_groups=None):
    """Every cluster, node and facet of the inventory, with every problem collected. A node is a
    host of a facet's group; `cluster_groups` ({group: the cluster_name it sets itself}, when the
    caller can see group variables) lets the groups be checked too."""
    fabric = core.Fabric(groups=group_names(names))
    known = set(hostvars)
    members = dict((f, set(groups.get(g) or []) & known) for f, g in fabric.groups.items())
    fabric.members = dict((f, sorted(hosts)) for f, hosts in members.items())
    fabric.facets = dict((f, {}) for f in GROUP_NAMES)
    in_any = set().union(*(members[f] for f in FACET_NAMES))
    seen_clusters = {}
    # The other nodes of a cluster that is in a role's group are read too (host-gw needs them all).
    member_clusters = set(hostvars[h].get("cluster_name") for h in in_any) - {None}
    for host in sorted(hostvars):
        values = hostvars[host]
        if host not in in_any and values.get("cluster_name") not in member_clusters:
            continue  # in no role's fabric: localhost, routers, a cluster no role is run for...
        fabric.errors.extend(renamed_problems(host, values, str(values.get("cluster_name") or "")))
        reader = VarReader(host, values, fabric.errors, DEFAULTS)
        mtu = core.add_host(fabric, reader, seen_clusters)
        for facet in FACETS:
            if host in members[facet.NAME]:
                reader.facet = facet.NAME
                settings = facet.read(reader, mtu)
                if settings is not None:
                    fabric.facets[facet.NAME][host] = settings
    for name, read_extra in sorted(EXTRA_READERS.items()):
        for host in sorted(members[name] - in_any):
            fabric.errors.extend(renamed_problems(host, hostvars[host], ""))
            reader = VarReader(host, hostvars[host], fabric.errors, DEFAULTS, cluster="", facet=name)
            settings = read_extra(reader)
            if settings is not None:
                fabric.facets[name][host] = settings
        for host in sorted(members[name] & in_any):
            fabric.errors.append(FabricError("", host, fabric.groups[name], "is also a node; a router or client "
                                             "host is outside every cluster", name))
    fabric.errors.extend(misplaced_problems(hostvars, fabric.groups, members))
    fabric.errors.extend(state_problems(hostvars, members))
    core.check(fabric)
    if cluster_groups:
        core.check_cluster_groups(fabric, cluster_groups, groups)
    for facet in FACETS:
        fabric.errors.extend(core.family_problems(fabric, facet.NAME, getattr(facet, "FAMILIES", (4,))))
    for facet in ALL_FACETS:
        facet.check(fabric)
    prepare(fabric)
    return fabric


def prepare(fabric):
    """What every node's plan shares, computed once per loaded model: in the controller process
    when the inventory plugin read it, so every forked worker inherits it."""
    fabric.pod_rank()
    for facet in ALL_FACETS:
        facet.prepare(fabric)


def load(hostvars, groups, names=None, facets=None):
    """read(), raising FabricInvalid with every problem of the core and `facets` (None: all)."""
    fabric = read(hostvars, groups, names)
    require_valid(fabric, facets)
    return fabric


def problems(hostvars, groups, names=None, facets=None):
    """Every problem of the core and `facets` (None: all) as a line; empty when valid."""
    return [str(e) for e in read(hostvars, groups, names).problems(facets)]


def with_access(document, hostvars):
    """The document with each cluster's API access as this run's variables give it (read from the
    cluster's first node), and the problems of the peers' password variables in this run. A model
    read ahead of the run (the inventory plugin's) leaves both out: a kubeconfig or a password
    injected per job, or an environment lookup, resolves only in the job."""
    import copy
    from .tor.model import resolve
    fabric = loads(document)
    errors, clusters = [], {}
    _values, secret_problems = resolve(fabric, hostvars)
    errors += [e for e in secret_problems if e not in fabric.errors]
    for name, cluster in fabric.clusters.items():
        first = next((n.host for n in fabric.cluster_nodes(name) if n.host in hostvars), None)
        if first is None:
            continue
        kubeconfig, context, render_only = core.read_access(VarReader(first, hostvars[first], errors, DEFAULTS, name))
        if (kubeconfig, context, render_only) != (cluster.kubeconfig, cluster.context, cluster.render_only):
            clusters[name] = dataclasses.replace(cluster, kubeconfig=kubeconfig, context=context, render_only=render_only)
    if not clusters and not errors:
        return document
    run = copy.copy(fabric)  # the shared parts (nodes, facets, what prepare computed) stay shared
    run.clusters = dict(fabric.clusters, **clusters)
    run.errors = fabric.errors + errors
    return dumps(run)


def access_problems(fabric, facets):
    """Clusters of `facets` whose API the role needs, with no access and no render-only."""
    found = []
    for facet in FACETS:
        if facet.NAME in facets:
            found += core.access_problems(fabric, facet.api_clusters(fabric), "role " + facet.NAME)
    return sorted(set(found))


def require_valid(fabric, facets=None):
    problems = fabric.problems(facets)
    if problems:
        raise FabricInvalid(problems)
    return fabric


# --- the document ---------------------------------------------------------------------

def dumps(fabric):
    """The model as one JSON string; its digest names it in the process cache."""
    body = json.dumps(core.to_document(fabric, lambda facet, s: list(s.__dict__.values())),
                      separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(body.encode()).hexdigest()[:20]
    remember(digest, fabric)
    return '{"nodenet_fabric":%d,"digest":"%s","model":%s}' % (FORMAT, digest, body)


def loads(text):
    """The typed model of a document made by dumps(), from the process cache when it is there."""
    match = HEADER.match(text[:80]) if isinstance(text, str) else None
    if match is None:
        raise ValueError("not a nodenet.fabric model document (make one with the fabric_model filter "
                         "or the nodenet.fabric.fabric inventory plugin)")
    if int(match.group(1)) != FORMAT:
        raise ValueError("model document format %s; this collection reads format %d: rebuild it"
                         % (match.group(1), FORMAT))
    cached = _LOADED.get(match.group(2))
    if cached is not None:
        return cached
    doc = json.loads(text)["model"]
    fabric = core.from_document(doc, lambda facet, values: SETTINGS[facet](*values))
    prepare(fabric)
    remember(match.group(2), fabric)
    return fabric


def remember(digest, fabric):
    if len(_LOADED) >= _LOADED_MAX:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[digest] = fabric


def is_document(value):
    return isinstance(value, str) and HEADER.match(value[:80]) is not None
