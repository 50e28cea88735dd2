"""Lab 07's reference solution, run by the labs' end-to-end test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from polyshop_dev.labs.control import Control
from polyshop_dev.paths import ROOT

CHANNEL = {
    "description": "Where the order was placed; events from before the field have none.",
    "type": "string",
    "enum": ["web", "api"],
}
# The pieces that read or write the orders topic, where order.created
# travels: three consumers, then orders, its producer. Payments never sees it.
PIECES = ("inventory", "notifications", "storefront", "orders")


def solve(control: Control) -> None:
    contracts = Path(control.shop.data_dir).parent / "lab-07" / "contracts"
    shutil.copytree(ROOT / "contracts", contracts, dirs_exist_ok=True)
    path = contracts / "events" / "order.created.schema.json"
    schema = json.loads(path.read_text())
    schema["properties"]["data"]["properties"]["channel"] = CHANNEL
    path.write_text(json.dumps(schema, indent=2) + "\n")
    for piece in PIECES:
        control.restart(piece, {"CONTRACTS_DIR": str(contracts)})
