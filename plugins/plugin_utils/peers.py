# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every BGP facet reads of an external peer's session besides its address: the AS range,
and the password. The model keeps where a password is, never the password: a file on the
controller (0600), or the name of a variable the run resolves (Ansible Vault, an AWX
credential's extra variable; tor.resolve), so no password sits in a model read ahead of the run
(the inventory plugin's) or travels in node_base_fabric."""

from __future__ import annotations

import os
import re
import stat

MAX_AS = 4294967295


def password_of(reader, where, item):
    """{password_file} or {password_var} of a peer item, checked ({} without a password). The
    model keeps where the password is, never the password: a file on the controller (0600), or
    the name of a variable the run resolves (Ansible Vault, an AWX credential's extra variable).
    An inline password is refused."""
    if item.get("password") not in (None, ""):
        reader.error(where + ".password", "is a password given without a secret store, so it would travel in "
                     "the inventory and the run's variables: put it in a vaulted variable (or an AWX credential's "
                     "extra variable) and name that variable in password_var, or put it alone in a file only its "
                     "owner can read (chmod 0600) on the controller and give its path as password_file")
    found = {}
    if item.get("password_file") not in (None, ""):
        problem = password_file_problem(item["password_file"])
        if problem:
            reader.error(where + ".password_file", problem)
        found["password_file"] = str(item["password_file"])
    if item.get("password_var") not in (None, ""):
        name = item["password_var"]
        if not (isinstance(name, str) and VARIABLE_NAME.match(name)):
            reader.error(where + ".password_var", "%r is not a variable name" % (name,))
        elif found:
            reader.error(where + ".password_var", "and password_file are both given; give one")
        else:
            found["password_var"] = name
    return found


VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def has_password(peer):
    return bool(peer.get("password_file") or peer.get("password_var"))


def password_text_problem(text):
    """Why a password cannot be a TCP MD5 key as BIRD and FRR take it, or None."""
    if not isinstance(text, str) or not text or any(c.isspace() for c in text) or len(text) > 80:
        return "must hold one password of 1 to 80 characters without spaces (TCP MD5, as BIRD and FRR take it)"
    return None


def password_file_problem(path):
    """Why a password file cannot be the secret store, or None: it must be a file on the
    controller that only its owner can read (the collection keeps every secret in 0600 files)."""
    if not isinstance(path, str) or not os.path.isabs(path):
        return "%r must be an absolute path on the controller" % (path,)
    try:
        info = os.stat(path)
    except OSError as exc:
        return "%s cannot be read on the controller (%s)" % (path, exc.strerror)
    if not stat.S_ISREG(info.st_mode):
        return "%s is not a regular file" % path
    if info.st_mode & 0o077:
        return "%s is readable by others (mode %04o); chmod 0600 it" % (path, stat.S_IMODE(info.st_mode))
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        return "%s cannot be read on the controller (%s)" % (path, exc)
    problem = password_text_problem(text)
    return "%s %s" % (path, problem) if problem else None


def peer_password(peer, secrets=None):
    """The peer's password (None without one): read from its file on the controller, or the value
    of its password_var in `secrets` ({variable: value}, the run's, from the peer_secrets filter)."""
    if peer.get("password_var"):
        if peer["password_var"] not in (secrets or {}):
            raise KeyError("password_var %s: the run gave no value (pass secrets from the peer_secrets filter)"
                           % peer["password_var"])
        return str(secrets[peer["password_var"]])
    if not peer.get("password_file"):
        return None
    with open(peer["password_file"]) as handle:
        return handle.read().strip()
