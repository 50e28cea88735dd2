"""Strict checks of a `POST /orders` body (and of `GET /orders?limit=`), before
anything is looked up or stored.

One rule for the status: every request the service cannot accept as
written (malformed JSON, a wrong field, a quantity out of range, an unknown
sku found later) is a 400 listing each problem; 422 is not used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
MAX_LINES = 50
MIN_QUANTITY, MAX_QUANTITY = 1, 100
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
MIN_LIMIT, MAX_LIMIT, DEFAULT_LIMIT = 1, 100, 20
# ASCII digits only: int() alone would also take " 5", "+5", "1_0" and Arabic-Indic digits.
LIMIT = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


class InvalidOrder(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def parse_order(body: Any) -> list[Line]:
    """The lines of a valid order body; InvalidOrder naming every problem otherwise."""
    if not isinstance(body, dict):
        raise InvalidOrder([_error("(body)", "expected a JSON object with items")])
    errors = [_error(key, "unknown field") for key in body if key != "items"]
    items = body.get("items")
    if not isinstance(items, list) or not items:
        errors.append(_error("items", "expected a non-empty list of {sku, quantity}"))
        raise InvalidOrder(errors)
    if len(items) > MAX_LINES:
        errors.append(_error("items", f"at most {MAX_LINES} lines"))
    lines = []
    for index, item in enumerate(items):
        line, line_errors = _parse_line(f"items[{index}]", item)
        errors += line_errors
        if line and any(seen.sku == line.sku for seen in lines):
            errors.append(_error(f"items[{index}].sku", f"{line.sku} is on another line too"))
        if line:
            lines.append(line)
    if errors:
        raise InvalidOrder(errors)
    return lines


def valid_idempotency_key(key: str) -> bool:
    return bool(IDEMPOTENCY_KEY.match(key))


def parse_limit(text: str | None) -> int | None:
    """How many orders `GET /orders` lists: the default when not given, None when invalid."""
    if text is None:
        return DEFAULT_LIMIT
    if not LIMIT.fullmatch(text) or not MIN_LIMIT <= int(text) <= MAX_LIMIT:
        return None
    return int(text)


def _parse_line(field: str, item: Any) -> tuple[Line | None, list[dict[str, str]]]:
    if not isinstance(item, dict):
        return None, [_error(field, "expected an object {sku, quantity}")]
    unknown = [key for key in item if key not in ("sku", "quantity")]
    errors = [_error(f"{field}.{key}", "unknown field") for key in unknown]
    sku, quantity = item.get("sku"), item.get("quantity")
    if not isinstance(sku, str) or not SKU.match(sku):
        errors.append(_error(f"{field}.sku", "expected a sku such as TEA-EARL-GREY"))
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        errors.append(_error(f"{field}.quantity", "expected a whole number"))
    elif not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        errors.append(_error(f"{field}.quantity", f"expected {MIN_QUANTITY} to {MAX_QUANTITY}"))
    return (None, errors) if errors else (Line(sku, quantity), [])


def _error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}
