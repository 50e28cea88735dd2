"""A seed for inventory (INVENTORY_SEED_FILE) with stock that outlasts a load.

The shipped seed holds a few hundred units, which a test's or a benchmark's
load sells out in seconds; after that every order is cancelled at inventory
and never reaches payments, so the load no longer measures the whole saga.
"""

from __future__ import annotations

import json
from pathlib import Path

from polyshop_dev.paths import CONTRACTS

SHIPPED = CONTRACTS / "seed" / "products.json"


def plentiful_seed(path: Path, units: int = 1_000_000) -> Path:
    """The shipped products, each with `units` in stock, written to `path`."""
    seed = json.loads(SHIPPED.read_text())
    seed["products"] = [{**product, "stock": units} for product in seed["products"]]
    path.write_text(json.dumps(seed, indent=2))
    return path
