"""The lab's kernel-snapshot helper (tools/nnlab/snapshot.py), and a namespace of a test's own."""
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from nnlab.snapshot import kernel_state, snapshot, split  # noqa: E402,F401


def scratch_namespace(name, setup, fdb=()):
    """A fixture's body: namespace `name` built from `ip -batch` lines and (device, mac, dst)
    permanent FDB entries, yielded, and deleted after."""
    subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    subprocess.run(["ip", "-n", name, "-batch", "-"], input=setup, check=True, capture_output=True, text=True)
    for device, mac, dst in fdb:
        subprocess.run(["bridge", "-n", name, "fdb", "replace", mac, "dev", device, "dst", dst, "self", "permanent"],
                       check=True)
    yield name
    subprocess.run(["ip", "netns", "delete", name], capture_output=True)
