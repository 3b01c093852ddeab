# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calico's own files, read from the pinned github.com/projectcalico/calico module in Go's module
cache (tools/k8s/calico/go.mod pins it; nothing of it is copied into the repository): the CRDs
(libcalico-go/config/crd) and confd's test data (confd/tests)."""

import functools
import glob
import json
import os
import subprocess

PIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "k8s", "calico")
MODULE = "github.com/projectcalico/calico"


@functools.lru_cache(maxsize=None)
def module_dir():
    """The module's folder in Go's module cache, downloaded through the module proxy when absent."""
    env = dict(os.environ, GOFLAGS="-mod=mod")
    try:
        proc = subprocess.run(["go", "mod", "download", "-json", MODULE], cwd=PIN, env=env,
                              capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError("Go is needed to fetch %s (the Calico CRDs and confd's test data)" % MODULE)
    info = json.loads(proc.stdout or "{}")
    if proc.returncode != 0 or "Dir" not in info:
        raise RuntimeError("go mod download %s failed: %s" % (MODULE, info.get("Error") or proc.stderr.strip()))
    return info["Dir"]


def version():
    with open(os.path.join(PIN, "go.mod")) as handle:
        return next(line.split()[2] for line in handle if line.startswith("require " + MODULE))


def crd_files():
    """Calico's CRDs (crd.projectcalico.org), one file each."""
    return sorted(glob.glob(os.path.join(module_dir(), "libcalico-go", "config", "crd", "*.yaml")))


def crd_path(plural):
    return os.path.join(module_dir(), "libcalico-go", "config", "crd", "crd.projectcalico.org_%s.yaml" % plural)


def confd_tests():
    return os.path.join(module_dir(), "confd", "tests")
