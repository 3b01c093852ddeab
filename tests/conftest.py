"""Make the checkout importable as ansible_collections.nodenet.fabric."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".collections"))
