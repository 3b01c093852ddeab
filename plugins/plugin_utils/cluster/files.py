# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's rendered manifests: one YAML file per cluster (<folder>/<cluster>/<file>),
written in the controller's own process (no module run per file) and only where the text or
the mode differs."""

from __future__ import annotations

import os

from ansible.plugins.filter.core import to_nice_yaml

from ansible_collections.nodenet.fabric.plugins.module_utils.reconcile.files import write


def rendered(items, folder, name, secret=False):
    """{path: (text, mode)}: each item's manifests as YAML documents, 0600 when they hold a secret."""
    mode = 0o600 if secret else 0o644
    return dict((os.path.join(folder, item["cluster"], name),
                 ("---\n".join(to_nice_yaml(m, indent=2) for m in item["manifests"]), mode)) for item in items)


def current(path):
    """(text, mode) of the file as it is, or (None, None)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(), os.stat(path).st_mode & 0o7777
    except (IOError, OSError, UnicodeDecodeError):
        return None, None


def sync(files, check_mode=False):
    """Write the files whose text or mode differs; returns [(path, text before or None)]."""
    changed = []
    for path, (text, mode) in sorted(files.items()):
        before, before_mode = current(path)
        if before == text and before_mode == mode:
            continue
        changed.append((path, before))
        if check_mode:
            continue
        write(path, text.encode("utf-8"), mode)
    return changed
