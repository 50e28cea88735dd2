"""Lab 07: `order.created` has a new optional field, `channel`, in the
learner's copy of the contracts; the Python and the Node.js validators both
accept an event with it and one without it, and refuse a value it may not
take; and the shop still takes an order to CONFIRMED."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from polyshop_dev.labs import Grade, ShopAddress
from polyshop_dev.labs.shopping import signed_in
from polyshop_dev.paths import ROOT

FIELD = "channel"
LAB = Path(__file__).parent
SCHEMA = Path("events") / "order.created.schema.json"
# Each event, and whether the new contract must accept it.
EVENTS = {
    ROOT / "contracts" / "events" / "examples" / "order.created.valid.json": True,
    LAB / "order-created-web.json": True,
    LAB / "order-created-fax.json": False,
}
HINTS = {
    "order.created.valid.json": "keep `channel` optional: events without it stay valid (step 3)",
    "order-created-web.json": 'declare `channel` as a string, "web" or "api" (step 3)',
    "order-created-fax.json": 'allow only the two values: "web" and "api" (step 3)',
}
VALIDATORS = {
    "Python": [sys.executable, str(LAB / "validate.py")],
    "Node.js": ["node", str(LAB / "validate.mjs")],
}
ORDER = {"items": [{"sku": "FILTER-PAPERS", "quantity": 1}]}  # the most stock: 200
FINAL = {"CONFIRMED", "CANCELLED"}


def grade(shop: ShopAddress, check: Grade) -> None:
    contracts = copy_of_contracts(shop)
    if not check.that(
        (contracts / SCHEMA).is_file(),
        f"your copy of the contracts is in {contracts}",
        f"copy them: `mkdir -p {contracts.parent} && cp -r contracts {contracts.parent}/` (step 2)",
    ):
        return
    if not check_schema(check, contracts / SCHEMA):
        return
    for language, command in VALIDATORS.items():
        found, error = validate(command, contracts)
        if not check.that(
            not error,
            f"{language} reads your copy of the contracts" + (f" ({error})" if error else ""),
            "the error names what it could not read: fix that place of the schema (step 3)",
        ):
            continue
        for event, valid in EVENTS.items():
            reason = found.get(str(event), "not checked")
            if valid:
                what = "valid" + ("" if reason == "valid" else f" (it is not: {reason})")
            else:
                what = "refused" + (" (it is valid)" if reason == "valid" else f": {reason}")
            check.that(
                (reason == "valid") == valid,
                f"{language}: {event.relative_to(ROOT)} is {what}",
                HINTS[event.name],
            )
    check_order(shop, check, contracts)


def check_schema(check: Grade, path: Path) -> bool:
    try:
        data = json.loads(path.read_text())["properties"]["data"]
    except (ValueError, KeyError) as error:
        return check.that(
            False,
            f"{path} is JSON with properties.data ({error!r})",
            "the error gives the line and column: a comma too many, or one missing? (step 3)",
        )
    declared = data.get("properties", {}).get(FIELD)
    if not check.that(
        isinstance(declared, dict),
        f"order.created's data declares `{FIELD}` ({json.dumps(declared)})",
        f"add `{FIELD}` to the `properties` of `data` in {path} (step 3)",
    ):
        return False
    check.that(
        FIELD not in data.get("required", []),
        f"`{FIELD}` is optional: not in data's `required` ({data.get('required')})",
        "leave `required` as it was: orders does not send the field yet (step 3)",
    )
    return True


def validate(command: list[str], contracts: Path) -> tuple[dict[str, str], str]:
    """What the validator said of each event (`valid`, or its reason), and
    why it could not read the contracts, if it could not."""
    events = [str(event) for event in EVENTS]
    done = subprocess.run(
        [*command, str(contracts), *events], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    said = dict(line.partition(": ")[::2] for line in done.stdout.splitlines())
    if done.returncode not in (0, 1) or not said:
        error = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        return said, error[-1].removeprefix(f"{contracts}: ")
    return said, ""


def check_order(shop: ShopAddress, check: Grade, contracts: Path) -> None:
    order_id, status = place_order(shop)
    check.that(
        status == "CONFIRMED",
        f"the shop still confirms an order (order {order_id} is {status})",
        f"run the shop on your copy: `CONTRACTS_DIR={contracts} make up` (step 5); "
        "an order that stays PENDING: look for dead letters, `.venv/bin/polyshop dlq list`",
    )


def place_order(shop: ShopAddress, timeout: float = 45) -> tuple[str, str]:
    """An order placed as alice through the gateway: its id, and its status
    once the saga has finished (or at the deadline)."""
    with signed_in(shop) as customer:
        placed = customer.post(f"{shop.gateway}/api/orders", json=ORDER, timeout=10)
        if placed.status_code != 202:
            return "none", f"not placed ({placed.status_code})"
        order = placed.json()
        deadline = time.monotonic() + timeout
        while order["status"] not in FINAL and time.monotonic() < deadline:
            time.sleep(0.5)
            order = customer.get(f"{shop.gateway}/api/orders/{order['id']}", timeout=5).json()
        return order["id"], order["status"]


def copy_of_contracts(shop: ShopAddress) -> Path:
    """Where the learner changes the contracts: beside the shop's data
    (.run/lab-07/contracts under `make up`), so the repository stays as it was."""
    return Path(shop.data_dir).parent / "lab-07" / "contracts"
