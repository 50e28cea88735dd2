"""Where things are: the repository, its caches and its run-time files."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".cache"
RUN = ROOT / ".run"
# In the tools' image the package is installed away from the repository;
# the image's CONTRACTS_DIR says where the contracts are.
CONTRACTS = Path(os.environ.get("CONTRACTS_DIR") or ROOT / "contracts")
