"""The tests import and run the collection as a user has it: the built artifact installed in
.collections by `make collection`. A copy older than the checkout would test old code, so the
run stops and says so."""
import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = ROOT / ".collections" / "ansible_collections" / "nodenet" / "fabric"
sys.path.insert(0, str(ROOT / ".collections"))


SHIPPED_DIRS = ("plugins", "roles", "playbooks", "meta", "docs", "collections")


def stale_files():
    """Shipped files whose checkout copy differs from the installed one, is gone, or is new."""
    listing = json.loads((INSTALLED / "FILES.json").read_text())["files"]
    installed = set(entry["name"] for entry in listing)
    stale = sorted(str(p.relative_to(ROOT)) for d in SHIPPED_DIRS for p in (ROOT / d).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and str(p.relative_to(ROOT)) not in installed)
    for entry in listing:
        if entry["ftype"] != "file":
            continue
        source = ROOT / entry["name"]
        if not source.is_file() or hashlib.sha256(source.read_bytes()).hexdigest() != entry["chksum_sha256"]:
            stale.append(entry["name"])
    return stale


def pytest_sessionstart(session):
    if not (INSTALLED / "FILES.json").is_file():
        pytest.exit("the collection is not installed in .collections: run `make collection`", returncode=4)
    stale = stale_files()
    if stale:
        pytest.exit("the installed collection is older than the checkout (%s%s): run `make collection`"
                    % (", ".join(stale[:5]), " ..." if len(stale) > 5 else ""), returncode=4)
