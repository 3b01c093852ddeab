"""The lab's kernel-snapshot helper (tools/nnlab/snapshot.py), for the tests."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from nnlab.snapshot import kernel_state, snapshot, split  # noqa: E402,F401
