"""Where things are: the repository, its caches and its run-time files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".cache"
RUN = ROOT / ".run"
CONTRACTS = ROOT / "contracts"
