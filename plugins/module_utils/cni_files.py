# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A node's CNI config directory: our conflist written, the replaced CNI's files (named, never a
glob) set aside with a copy kept for rollback, and put back on rollback."""

from __future__ import absolute_import, division, print_function

import os
import shutil

from .reconcile.files import sync

__metaclass__ = type


class Conflict(Exception):
    pass


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def plan(conf_dir, backup_dir, file, content, replaced, state, set_aside):
    """[(action, source, target)] in order: write, set-aside, restore, remove. Raises Conflict when
    a backup holds other bytes than the file it would replace (nothing is ever overwritten)."""
    ours = os.path.join(conf_dir, file)
    steps = []
    if state == "present":
        if read(ours) != content.encode():
            steps.append(("write", None, ours))
        if set_aside:
            first = chosen_before(conf_dir, file, replaced)
            if first:
                raise Conflict("%s sort before %s in %s and are not the replaced CNI's, so the kubelet would keep "
                               "choosing them; name the CNI they belong to (kube_router_replaced_cni) or move them"
                               % (", ".join(first), file, conf_dir))
            for name in replaced:
                source, target = os.path.join(conf_dir, name), os.path.join(backup_dir, name)
                data = read(source)
                if data is None:
                    continue
                kept = read(target)
                if kept is not None and kept != data:
                    raise Conflict("%s differs from the copy already kept in %s; move one of them away"
                                   % (source, target))
                steps.append(("set aside", source, target))
    else:
        for name in replaced:
            source, target = os.path.join(backup_dir, name), os.path.join(conf_dir, name)
            data = read(source)
            if data is None:
                continue
            current = read(target)
            if current is not None and current != data:
                raise Conflict("%s exists with other bytes than the copy in %s; move one of them away" % (target, source))
            steps.append(("restore", source, target))
        if read(ours) is not None:
            steps.append(("remove", ours, None))
    return steps


# The files libcni reads from a CNI config directory; the kubelet takes the first by name.
CNI_EXTENSIONS = (".conf", ".conflist", ".json")


def chosen_before(conf_dir, file, replaced):
    """CNI config files that sort before ours and will not be set aside."""
    return sorted(name for name in names(conf_dir)
                  if name.endswith(CNI_EXTENSIONS) and name < file and name not in replaced)


def names(conf_dir):
    try:
        return set(os.listdir(conf_dir))
    except OSError:
        return set()


def view(conf_dir, file, present_names, content):
    """What diff mode shows: the directory's files, then our conflist's text."""
    text = "".join("%s\n" % name for name in sorted(present_names))
    if content is not None:
        text += "--- %s ---\n%s\n" % (file, content)
    return text


def after_names(conf_dir, steps):
    """The directory's file names once the steps are done (what check mode predicts)."""
    conf_dir = conf_dir.rstrip("/") or "/"
    result = names(conf_dir)
    for action, source, target in steps:
        if action in ("write", "restore") and os.path.dirname(target) == conf_dir:
            result.add(os.path.basename(target))
        elif action in ("set aside", "remove"):
            result.discard(os.path.basename(source))
    return result


def apply(steps, content, check_mode):
    for action, source, target in steps:
        if check_mode:
            continue
        if action == "write":
            sync({target: (content.encode(), 0o644)})
        elif action == "set aside":
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            shutil.copy2(source, target + ".tmp")
            os.rename(target + ".tmp", target)
            os.unlink(source)
        elif action == "restore":
            shutil.copy2(source, target + ".tmp")
            os.rename(target + ".tmp", target)
            os.unlink(source)
        else:
            os.unlink(source)
